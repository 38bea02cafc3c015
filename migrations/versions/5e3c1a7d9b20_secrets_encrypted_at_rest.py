"""security: secrets encrypted at rest (TOTP secrets, mailbox passwords); mail sender trust

Revision ID: 5e3c1a7d9b20
Revises: a7d3e5f19b20
Create Date: 2026-12-06 23:40:00

Mail sender trust: tickets and messages whose sender's domain our mail server did not vouch
for are marked, and an organisation may require authenticated mail.

Widens both secret columns to text (a Fernet token is longer than the secret) and encrypts the rows
already there with the first key of NOVADESK_ENCRYPTION_KEYS; the downgrade decrypts them.
"""
from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


revision = '5e3c1a7d9b20'
down_revision = 'a7d3e5f19b20'
branch_labels = None
depends_on = None

COLUMNS = [("ab_user", "totp_secret", True, 64), ("mailbox", "password", False, 255)]


def _cipher():
    return MultiFernet([Fernet(key.encode()) for key in current_app.config["ENCRYPTION_KEYS"]])


def _convert(table, column, change):
    connection = op.get_bind()
    rows = connection.execute(sa.text(f'SELECT id, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')).fetchall()
    for row_id, value in rows:
        connection.execute(sa.text(f'UPDATE "{table}" SET "{column}" = :value WHERE id = :id'), {"value": change(value), "id": row_id})


FLAGS = [("organisation", "require_authenticated_mail"), ("ticket", "sender_unverified"), ("ticket_message", "sender_unverified")]


def upgrade():
    for table, column in FLAGS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false()))
    cipher = _cipher()
    for table, column, nullable, length in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.String(length=length), type_=sa.Text(), existing_nullable=nullable)
        _convert(table, column, lambda value: cipher.encrypt(value.encode()).decode())


def downgrade():
    cipher = _cipher()
    for table, column, nullable, length in COLUMNS:
        _convert(table, column, lambda value: cipher.decrypt(value.encode()).decode())
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=length), existing_nullable=nullable)
    for table, column in reversed(FLAGS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
