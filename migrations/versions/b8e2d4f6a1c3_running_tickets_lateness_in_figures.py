"""reports: the per-day figures hold the running tickets' lateness and the tickets' status too

Revision ID: b8e2d4f6a1c3
Revises: a3c9e5f7b2d1
Create Date: 2026-12-07 05:40:00

Whether a ticket still running is late depends on the clock, so the reports read every
running ticket of their period at each request (22,000 on 100,000 generated tickets). The
figures' `late` now counts them too, as seen when their bucket was last counted, and the SLA
watch has a bucket counted again when one of its deadlines passes. The table does not change;
its rows are counted again here in the new sense (by the database: INSERT … SELECT … GROUP BY),
with a new dimension, "status" (each ticket under its status category of now), from which the
dashboards' counts per status are summed instead of reading the whole desk.
"""
from alembic import op


revision = 'b8e2d4f6a1c3'
down_revision = 'a3c9e5f7b2d1'
branch_labels = None
depends_on = None


def upgrade():
    from app.services import rollups

    rollups.rebuild_in_sql(op.get_bind())


def downgrade():
    from app.services import rollups

    rollups.rebuild_in_sql(op.get_bind(), running_late=False)
