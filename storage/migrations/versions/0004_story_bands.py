"""story bands: MinHash LSH keys of each article, so edited copies of a text are found by index

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('story_bands',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('band_key', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_story_bands_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'band_key', name=op.f('pk_story_bands'))
    )
    op.create_index('ix_story_bands_band_key', 'story_bands', ['band_key'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_story_bands_band_key', table_name='story_bands')
    op.drop_table('story_bands')
