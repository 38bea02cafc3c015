"""organisation time zone: new users of an organisation get its zone

Revision ID: a7d3e5f2c910
Revises: c8c0aae09af9
Create Date: 2026-12-06 23:59:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d3e5f2c910'
down_revision = 'c8c0aae09af9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('timezone')
