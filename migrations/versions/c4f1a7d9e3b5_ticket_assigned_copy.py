"""tickets: whether anyone is assigned, on the ticket, for « Non attribués »

Revision ID: c4f1a7d9e3b5
Revises: b8e2d4f6a1c3
Create Date: 2026-12-07 13:10:00

« Non attribués » looked for running tickets with no row in ticket_assignee: walking the
triage index it probed each of the ~21,000 tickets in progress (on 100,000) to find a handful
(16 ms of a 33 ms request). The ticket now carries `assigned`, kept from its assignees at each
flush, and an index that leads with it.
"""
import sqlalchemy as sa
from alembic import op


revision = 'c4f1a7d9e3b5'
down_revision = 'b8e2d4f6a1c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned', sa.Boolean(), nullable=False, server_default='0'))
    op.execute("UPDATE ticket SET assigned = EXISTS (SELECT 1 FROM ticket_assignee WHERE ticket_assignee.ticket_id = ticket.id)")
    op.create_index('ix_ticket_unassigned', 'ticket', ['status_category', 'assigned', 'merged_into_id', 'priority_id', 'created_on'])


def downgrade():
    op.drop_index('ix_ticket_unassigned', table_name='ticket')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('assigned')
