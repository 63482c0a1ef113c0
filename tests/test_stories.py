"""Stories, not pages (stories/, stored by storage/stories.py): edited wire copies and two outlets' write-ups of one
event join one story; different stories — two extraditions on different days, the same officials
at another meeting, a write-up days later — stay apart.  The articles are the labelled sets
written from real news for issue 12 (tests/fixtures/rules/realnews-*.jsonl) and the dev set."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from storage.db import open_database
from storage.models import StoryBand
from storage.queries import store_article
from storage.records import ArticleRecord, MatchRecord
from stories import (
    MAX_DISTANCE,
    containment,
    distance,
    person_names,
    simhash,
    title_similarity,
)

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def labelled() -> list[dict]:
    found = rows(FIXTURES / "realnews-heldout.jsonl") + rows(FIXTURES / "realnews-tuning.jsonl")
    return found + rows(FIXTURES / "heldout.jsonl") + rows(SHARED / "labelled" / "dev.jsonl")


def by_id(labelled: list[dict]) -> dict[str, dict]:
    return {row["id"]: row for row in labelled}


def record(row: dict, published: datetime | None = None) -> ArticleRecord:
    text = "\n\n".join(row["paragraphs"])
    return ArticleRecord(
        canonical_url=f"https://{row['id']}.example/{row['id']}", url=f"https://{row['id']}.example/{row['id']}",
        outlet=row["outlet"], title=row["title"], language="es", text=text, status="matched" if row["relevant"] else "unmatched",
        published_at=published or datetime.fromisoformat(row["published"]), fingerprint=simhash(text),
    )


def matches(row: dict) -> list[MatchRecord]:
    return [MatchRecord("mx-us-security", "Seguridad", 5.0)] if row["relevant"] else []


def store_all(db_url: str, records: list[tuple[ArticleRecord, list[MatchRecord]]]) -> list[int]:
    """Store in order, one transaction each (as the crawl does); the story id of each."""
    _, sessions = open_database(db_url)
    stories = []
    for rec, found in records:
        with sessions.begin() as session:
            stored = store_article(session, rec, found, alert=True, default_channel="#seg",
                                   now=rec.published_at + timedelta(minutes=5))
            stories.append(stored.story_id)
    return stories


def test_wire_copies_with_another_lede_byline_ending_or_boilerplate_join(migrated_db_url: str, labelled: list[dict]) -> None:
    groups: dict[str, list[dict]] = {}
    for row in labelled:
        if row["group"] and row["category"] == "syndicated":
            groups.setdefault(row["group"], []).append(row)
    assert {"rh-wire-26", "rt-wire-call"} <= set(groups)
    ordered = [row for group in groups.values() for row in group]
    stories = store_all(migrated_db_url, [(record(row), matches(row)) for row in ordered])
    story_of = {row["id"]: story for row, story in zip(ordered, stories)}
    for name, group in groups.items():
        assert len({story_of[row["id"]] for row in group}) == 1, name
    assert len(set(stories)) == len(groups)  # and no two wire stories merged


def test_two_outlets_write_ups_of_one_event_join(migrated_db_url: str, labelled: list[dict]) -> None:
    rows_ = by_id(labelled)
    pairs = [("rh24", "rh25"), ("rt24", "rt25")]
    ordered = [rows_[i] for pair in pairs for i in pair]
    stories = store_all(migrated_db_url, [(record(row), matches(row)) for row in ordered])
    assert stories[0] == stories[1] and stories[2] == stories[3]
    assert stories[0] != stories[2]


def test_different_stories_stay_apart(migrated_db_url: str, labelled: list[dict]) -> None:
    """Every relevant article that is not a copy or write-up of another, all stored on one day:
    each is its own story (two extraditions, calls and meetings with the same officials…)."""
    singles = [row for row in labelled if row["relevant"] and not row["group"]]
    assert len(singles) > 60
    day = datetime.fromisoformat("2026-03-05T08:00:00-06:00")
    records = [(record(row, day + timedelta(minutes=10 * i)), matches(row)) for i, row in enumerate(singles)]
    stories = store_all(migrated_db_url, records)
    merged = [(singles[i]["id"], singles[stories.index(story)]["id"]) for i, story in enumerate(stories)
              if stories.index(story) != i]
    assert merged == []


def test_two_extraditions_on_the_same_day_are_two_stories(migrated_sqlite_url: str, labelled: list[dict]) -> None:
    rows_ = by_id(labelled)
    day = datetime.fromisoformat("2026-03-19T10:00:00-06:00")
    first, second = rows_["rh17"], rows_["rh26"]
    stories = store_all(migrated_sqlite_url, [(record(first, day), matches(first)), (record(second, day + timedelta(hours=2)), matches(second))])
    assert stories[0] != stories[1]


def test_another_call_between_the_same_presidents_a_day_later_is_another_story(migrated_sqlite_url: str, labelled: list[dict]) -> None:
    """Same two people, same topic words, the next day: two calls, two stories."""
    rows_ = by_id(labelled)
    first, second = rows_["rt21"], rows_["h001"]
    published = datetime.fromisoformat(first["published"])
    stories = store_all(migrated_sqlite_url, [(record(first), matches(first)),
                                     (record(second, published + timedelta(hours=20)), matches(second))])
    assert stories[0] != stories[1]


def test_a_write_up_days_later_is_another_story(migrated_sqlite_url: str, labelled: list[dict]) -> None:
    rows_ = by_id(labelled)
    first, later = rows_["rh24"], rows_["rh25"]
    published = datetime.fromisoformat(first["published"])
    stories = store_all(migrated_sqlite_url, [(record(first), matches(first)),
                                     (record(later, published + timedelta(days=3)), matches(later))])
    assert stories[0] != stories[1]


def test_an_unmatched_article_never_joins_by_event(migrated_sqlite_url: str, labelled: list[dict]) -> None:
    """The event join needs the same rule on both sides: a page that matched nothing is on its own."""
    rows_ = by_id(labelled)
    first, other = rows_["rh24"], replace(record(rows_["rh25"]), status="unmatched")
    stories = store_all(migrated_sqlite_url, [(record(first), matches(first)), (other, [])])
    assert stories[0] != stories[1]


def test_each_article_keeps_its_band_keys(migrated_sqlite_url: str, labelled: list[dict]) -> None:
    row = by_id(labelled)["rh08"]
    store_all(migrated_sqlite_url, [(record(row), matches(row))])
    _, sessions = open_database(migrated_sqlite_url)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(StoryBand)) == 32


def test_helpers() -> None:
    assert person_names("El canciller Juan Ramón de la Fuente y Christopher Landau, en la Secretaría de "
                        "Relaciones Exteriores de la Ciudad de México.") == {"ramon fuente", "christopher landau"}
    assert containment("uno dos tres cuatro cinco seis", "cero uno dos tres cuatro cinco seis siete") == 1.0
    assert title_similarity("México envía a EE.UU. a 26 reos", "Envía México a Estados Unidos a 26 reos") > 0.4
    assert title_similarity(None, "algo") == 0.0


def test_migration_0006_signs_recent_articles_again_and_drops_old_keys(db_url: str, labelled: list[dict]) -> None:
    """Band keys of the old signature (datasketch's) never meet new ones: after the upgrade a
    recent article has the keys of today's signature, and an edited copy stored next joins it."""
    from storage.db import make_engine, session_factory, upgrade
    from stories import Telling, sign

    engine = make_engine(db_url)
    upgrade(engine, "0005")
    rows_ = by_id(labelled)
    original, copy = rows_["rh21"], rows_["rh22"]  # 14 bits apart: joined by the bands, not the SimHash
    assert distance(record(original).fingerprint or 0, record(copy).fingerprint or 0) > MAX_DISTANCE
    now = datetime.now(UTC)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        stored = store_article(session, record(original, now - timedelta(hours=1)), matches(original),
                               alert=True, default_channel="#seg", now=now - timedelta(hours=1))
        old = store_article(session, record(rows_["rh17"], now - timedelta(days=5)), [], alert=False,
                            default_channel="#seg", now=now - timedelta(days=5))
        session.execute(delete(StoryBand))  # the old signature's keys: nothing of today's
        session.add_all(StoryBand(article_id=article_id, band_key=key)
                        for article_id in (stored.id, old.id) for key in (1, 2, 3))
    upgrade(engine)
    with sessions() as session:
        keys = set(session.scalars(select(StoryBand.band_key).where(StoryBand.article_id == stored.id)))
        assert keys == set(sign(Telling(record(original).text or "")).band_keys)
        assert session.scalar(select(func.count()).select_from(StoryBand).where(StoryBand.article_id == old.id)) == 0
    with sessions.begin() as session:
        joined = store_article(session, record(copy, now), matches(copy), alert=True, default_channel="#seg", now=now)
    assert joined.story_id == stored.story_id
