"""alerts.unconfirmed_since: posts that may have reached Slack without a recorded ts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
# Chained after 0001 for now; the lead re-chains it after 0002 when merging.
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('unconfirmed_since', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.drop_column('unconfirmed_since')
