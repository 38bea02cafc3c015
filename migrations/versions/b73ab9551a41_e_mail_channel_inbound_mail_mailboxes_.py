"""e-mail channel: inbound mail, mailboxes, threading

Revision ID: b73ab9551a41
Revises: c22db046f49c
Create Date: 2026-11-27 11:15:54.694488

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = 'b73ab9551a41'
down_revision = 'c22db046f49c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mailbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('security', sa.String(length=10), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('password', sa.String(length=255), nullable=False),
    sa.Column('folder', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('uid_validity', sa.Integer(), nullable=True),
    sa.Column('last_uid', sa.Integer(), nullable=False),
    sa.Column('last_checked_on', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_on', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('inbound_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_key', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.Text(), nullable=True),
    sa.Column('mailbox_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=120), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('received_on', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=500), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('processed_on', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailbox.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_key')
    )
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_mail_mailbox_id'), ['mailbox_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_mail_received_on'), ['received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_mail_sender'), ['sender'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_mail_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_mail_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('muted_notifications', sa.JSON(), server_default='[]', nullable=False))

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holds_unidentified', sa.Boolean(), server_default='0', nullable=False))

    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('references_header', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reply_to', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('ticket_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('auto_submitted', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('bounced_on', app.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('bounce_reason', sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_mail_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_mail_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_mail_ticket_id', 'ticket', ['ticket_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requester_email', sa.String(length=320), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_requester_email'), ['requester_email'], unique=False)

    with op.batch_alter_table('ticket_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('source_mail_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_ticket_message_source_mail_id', 'inbound_mail', ['source_mail_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('ticket_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_ticket_message_source_mail_id', type_='foreignkey')
        batch_op.drop_column('source_mail_id')
        batch_op.drop_column('author_email')

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_requester_email'))
        batch_op.drop_column('requester_email')

    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_mail_ticket_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_mail_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_mail_message_id'))
        batch_op.drop_column('bounce_reason')
        batch_op.drop_column('bounced_on')
        batch_op.drop_column('auto_submitted')
        batch_op.drop_column('ticket_id')
        batch_op.drop_column('reply_to')
        batch_op.drop_column('references_header')
        batch_op.drop_column('message_id')

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('holds_unidentified')

    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('muted_notifications')

    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_mail_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_mail_status'))
        batch_op.drop_index(batch_op.f('ix_inbound_mail_sender'))
        batch_op.drop_index(batch_op.f('ix_inbound_mail_received_on'))
        batch_op.drop_index(batch_op.f('ix_inbound_mail_mailbox_id'))

    op.drop_table('inbound_mail')
    op.drop_table('mailbox')
