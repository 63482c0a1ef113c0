"""sources: worker deaths in a row and quarantine

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("worker_deaths", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("quarantined_at")
        batch.drop_column("worker_deaths")
