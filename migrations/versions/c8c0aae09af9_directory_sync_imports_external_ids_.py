"""directory sync, imports: external ids, sync sources and runs

Revision ID: c8c0aae09af9
Revises: cb02e814b435
Create Date: 2026-11-27 14:23:29.558548

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = 'c8c0aae09af9'
down_revision = 'cb02e814b435'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sync_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_run_on', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_file_signature', sa.String(length=100), nullable=True),
    sa.Column('created_on', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('sync_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_label', sa.String(length=500), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('started_on', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_on', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('deactivated', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('error_details', sa.JSON(), nullable=True),
    sa.Column('failure', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['sync_source.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_run_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_run_started_on'), ['started_on'], unique=False)

    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint('uq_ab_user_external_id', ['external_id'])

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_reference', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('anonymised_on', app.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_ticket_external_reference', ['external_reference'])


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ticket_external_reference', type_='unique')
        batch_op.drop_column('anonymised_on')
        batch_op.drop_column('external_reference')

    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ab_user_external_id', type_='unique')
        batch_op.drop_column('external_id')

    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_run_started_on'))
        batch_op.drop_index(batch_op.f('ix_sync_run_source_id'))

    op.drop_table('sync_run')
    op.drop_table('sync_source')
