"""story bands recomputed: stories.minhash (our own one-permutation MinHash) replaces datasketch's

The band keys of 0004 came from datasketch's MinHash; the new signature gives other keys, so an
old key would never meet a new one. Old rows are deleted, and the articles that can still be
found as copies (first seen within stories.STORY_WINDOW, not skipped, with a text) are signed
again. A later change of the signature needs a migration like this one (stories.minhash.VERSION).

Revision ID: 0006
Revises: 0005
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from stories import STORY_WINDOW, Telling, sign

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

articles = sa.table(
    'articles',
    sa.column('id', sa.Integer()), sa.column('text', sa.Text()), sa.column('status', sa.String()),
    sa.column('fingerprint', sa.BigInteger()), sa.column('first_seen_at', sa.DateTime(timezone=True)),
)
story_bands = sa.table('story_bands', sa.column('article_id', sa.Integer()), sa.column('band_key', sa.BigInteger()))


def upgrade() -> None:
    connection = op.get_bind()
    connection.execute(sa.delete(story_bands))
    since = datetime.now(UTC) - STORY_WINDOW
    if connection.dialect.name == 'sqlite':  # stored as naive UTC text by SQLAlchemy's SQLite DateTime
        since = since.replace(tzinfo=None)
    recent = connection.execute(
        sa.select(articles.c.id, articles.c.text)
        .where(articles.c.first_seen_at >= since, articles.c.fingerprint.is_not(None),
               articles.c.status != 'skipped', articles.c.text.is_not(None))
    ).all()
    rows = [{'article_id': article_id, 'band_key': key}
            for article_id, text in recent for key in sign(Telling(text)).band_keys]
    if rows:
        connection.execute(sa.insert(story_bands), rows)


def downgrade() -> None:
    # The old signature is not computed any more: its keys cannot be restored.
    op.execute(sa.delete(story_bands))
