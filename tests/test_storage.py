"""Storage on both backends: migrations, repeat-safe inserts, outbox rows, syndication."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select

from storage.db import make_engine, open_database, upgrade
from storage.errors import DatabaseUnreachable
from storage.models import Alert, Article, Match, Source
from storage.queries import ensure_sources, known_urls, record_source_error, record_source_success, store_article
from storage.records import ArticleRecord, MatchRecord

PUBLISHED = datetime(2026, 1, 11, 18, 0, tzinfo=UTC)


def record(url: str, fingerprint: int | None = None, **extra: object) -> ArticleRecord:
    values: dict = dict(
        canonical_url=url,
        url=url + "?utm_source=x",
        outlet="Milenio",
        source_name="Milenio",
        title="De la Fuente y Rubio fortalecen cooperación en seguridad",
        published_at=PUBLISHED,
        language="es",
        text="El canciller habló con el secretario de Estado.",
        status="matched",
        fingerprint=fingerprint,
    )
    values.update(extra)
    return ArticleRecord(**values)


def match(rule: str = "mx-us-security", channel: str | None = None, mode: str = "instant") -> MatchRecord:
    return MatchRecord(rule_id=rule, rule_name=rule, score=5.0, channel=channel, mode=mode, explanation={"terms": ["cooperación"]})


def test_migrations_create_every_table(db_url: str) -> None:
    engine, _ = open_database(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {"sources", "articles", "matches", "alerts", "slack_channels", "story_bands", "alembic_version"} <= tables
    upgrade(engine)  # a second upgrade is a no-op, as every command runs it on start


def test_sqlite_connections_use_wal_and_foreign_keys(sqlite_url: str) -> None:
    engine, _ = open_database(sqlite_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_unreachable_database_is_a_clear_error() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnreachable) as caught:
        upgrade(engine)
    assert "127.0.0.1:1" in str(caught.value)


def test_article_matches_and_alert_are_stored_once(migrated_db_url: str) -> None:
    _, sessions = open_database(migrated_db_url)
    with sessions.begin() as session:
        ensure_sources(session, [("Milenio", "rss", "http://127.0.0.1/feed")])
        first = store_article(session, record("https://milenio.com/a"), [match()], alert=True, default_channel="#seg")
    with sessions.begin() as session:
        again = store_article(session, record("https://milenio.com/a"), [match()], alert=True, default_channel="#seg")
    assert first.new and first.alerts_queued == 1
    assert not again.new and again.id == first.id
    with sessions() as session:
        assert session.scalar(select(Article.published_at)) == PUBLISHED
        assert session.scalar(select(Article.source_id)) is not None
        assert len(session.scalars(select(Match)).all()) == 1
        alert = session.scalars(select(Alert)).one()
        assert (alert.kind, alert.channel, alert.status, alert.rule_ids) == ("story", "#seg", "pending", ["mx-us-security"])
        assert known_urls(session, ["https://milenio.com/a", "https://milenio.com/b"]) == {"https://milenio.com/a"}


def test_syndicated_copy_threads_under_the_first_story(migrated_db_url: str) -> None:
    _, sessions = open_database(migrated_db_url)
    with sessions.begin() as session:
        first = store_article(session, record("https://a.mx/1", fingerprint=0b1011), [match()], alert=True, default_channel="#seg")
        copy = store_article(session, record("https://b.mx/1", fingerprint=0b1001, outlet="Infobae"), [match()], alert=True, default_channel="#seg")
        other = store_article(session, record("https://c.mx/1", fingerprint=~0b1011, title="Otra historia",
                                              text="La Marina aseguró un semisumergible frente a Oaxaca."),
                              [match()], alert=True, default_channel="#seg")
    assert copy.story_id == first.id
    assert other.story_id == other.id
    with sessions() as session:
        kinds = {a.article_id: (a.kind, a.story_id) for a in session.scalars(select(Alert))}
    assert kinds == {first.id: ("story", first.id), copy.id: ("copy", first.id), other.id: ("story", other.id)}


def test_rules_alert_once_per_channel_naming_every_rule(migrated_db_url: str) -> None:
    _, sessions = open_database(migrated_db_url)
    with sessions.begin() as session:
        stored = store_article(
            session,
            record("https://a.mx/2"),
            [match("a"), match("b"), match("c", channel="#agua"), match("d", channel="#diario", mode="digest")],
            alert=True,
            default_channel="#seg",
        )
    assert stored.alerts_queued == 3
    with sessions() as session:
        alerts = {a.channel: (a.kind, a.rule_ids) for a in session.scalars(select(Alert))}
    assert alerts == {"#seg": ("story", ["a", "b"]), "#agua": ("story", ["c"]), "#diario": ("digest", ["d"])}


def test_stale_or_unmatched_articles_queue_no_alert(migrated_db_url: str) -> None:
    _, sessions = open_database(migrated_db_url)
    with sessions.begin() as session:
        store_article(session, record("https://a.mx/old"), [match()], alert=False, default_channel="#seg")
        store_article(session, record("https://a.mx/none", status="unmatched"), [], alert=True, default_channel="#seg")
    with sessions() as session:
        assert session.scalars(select(Alert)).all() == []
        assert len(session.scalars(select(Article)).all()) == 2


def test_source_health_is_recorded(migrated_db_url: str) -> None:
    _, sessions = open_database(migrated_db_url)
    with sessions.begin() as session:
        ensure_sources(session, [("Feed", "rss", "http://127.0.0.1/feed")])
        record_source_success(session, "Feed", etag='"v1"', last_modified="Mon, 12 Jan 2026 10:00:00 GMT")
        record_source_error(session, "Feed", "HTTP 500")
        record_source_error(session, "Feed", "HTTP 500")
    with sessions() as session:
        source = session.scalars(select(Source)).one()
        assert (source.etag, source.consecutive_failures, source.last_error) == ('"v1"', 2, "HTTP 500")
        assert source.last_success_at is not None and source.last_success_at.tzinfo is not None
    with sessions.begin() as session:
        record_source_success(session, "Feed", not_modified=True)
        # The feed moved: the old validators must not be sent to the new URL.
        ensure_sources(session, [("Feed", "rss", "http://127.0.0.1/new-feed")])
    with sessions() as session:
        source = session.scalars(select(Source)).one()
        assert (source.consecutive_failures, source.etag, source.url) == (0, None, "http://127.0.0.1/new-feed")


WIRE = (
    "El secretario de Seguridad se reunió este martes con el embajador de Estados Unidos para revisar los avances "
    "del grupo bilateral de implementación. Ambos acordaron intensificar el intercambio de información sobre el "
    "tráfico de armas y el trasiego de fentanilo, así como coordinar acciones contra las redes financieras de los "
    "cárteles. El embajador destacó la cooperación con las autoridades mexicanas."
)


def test_an_edited_copy_with_a_far_fingerprint_still_joins_its_story(migrated_db_url: str) -> None:
    """SimHash distance alone depends on edits; near candidates are confirmed by their text."""
    _, sessions = open_database(migrated_db_url)
    edited = "Por Redacción. " + WIRE + " La reunión se produjo días antes de una visita oficial."
    unrelated = "Los productores de tomate pidieron defender sus exportaciones ante posibles cuotas comerciales."
    with sessions.begin() as session:
        first = store_article(session, record("https://a.mx/w", fingerprint=0, text=WIRE), [match()], alert=True, default_channel="#s")
        # 20 differing bits: too far to be sure from the fingerprint, near enough to compare texts.
        copy = store_article(session, record("https://b.mx/w", fingerprint=(1 << 20) - 1, text=edited), [match()], alert=True, default_channel="#s")
        near_first = ((1 << 40) - 1) ^ ((1 << 20) - 1)  # 20 bits from the first, 40 from the copy
        other = store_article(session, record("https://c.mx/w", fingerprint=near_first, text=unrelated), [match()], alert=True, default_channel="#s")
    assert copy.story_id == first.id
    assert other.story_id == other.id


def test_a_published_date_far_in_the_future_is_stored_as_unknown(migrated_db_url: str) -> None:
    """Issue 10, item 17: a feed saying year 9998 does not make an article the freshest forever."""
    from datetime import datetime

    from storage.db import open_database as _open
    from storage.models import Article as _Article
    from storage.queries import store_article as _store
    from storage.records import ArticleRecord as _Record

    engine, maker = _open(migrated_db_url)
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    dates = {"lejana": datetime(9998, 1, 1, tzinfo=UTC), "mañana": datetime(2026, 12, 1, 20, 0, tzinfo=UTC)}
    with maker.begin() as session:
        for slug, published in dates.items():
            url = f"https://x.example/{slug}"
            _store(session, _Record(canonical_url=url, url=url, outlet="X", source_name=None, title=slug, author=None,
                                    published_at=published, language="es", text="t", status="unmatched"),
                   [], alert=False, default_channel="#c", now=now)
    with maker() as session:
        stored = {a.title: a.published_at for a in session.query(_Article)}
    assert stored == {"lejana": None, "mañana": dates["mañana"]}  # within a day ahead: a time zone slip, kept
    engine.dispose()
