"""stories.simhash + MAX_DISTANCE: copies cluster, different stories do not."""

from __future__ import annotations

import itertools
import json
import random
import re
from pathlib import Path

import pytest

from stories import MAX_DISTANCE
from stories.simhash import distance, simhash
from stories.text import words


@pytest.fixture(scope="module")
def dev_rows(shared_dir: Path) -> list[dict]:
    with (shared_dir / "labelled" / "dev.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def body(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def sentences(paragraph: str) -> list[str]:
    return re.split(r"(?<=[.!?]) ", paragraph)


def test_pure_signed_and_stable() -> None:
    text = "La Secretaría de Seguridad y el Departamento de Estado acordaron un plan contra el fentanilo."
    value = simhash(text)
    assert value == simhash(text)
    assert -(2**63) <= value < 2**63
    assert simhash("") == 0 == simhash("   ¡¿!? ")
    # Accents and case do not matter; the distance is the same on signed and unsigned values.
    assert simhash(text.upper()) == value
    assert simhash("Secretaria de Seguridad") == simhash("SECRETARÍA DE SEGURIDAD")
    assert distance(value, -1) == distance(value & (2**64 - 1), 2**64 - 1) == 64 - (value & (2**64 - 1)).bit_count()
    assert words("Niño, Ñoño: ÁRBOL") == ["nino", "nono", "arbol"]


def test_labelled_syndicated_copies_cluster(dev_rows: list[dict]) -> None:
    groups: dict[str, list[dict]] = {}
    for row in dev_rows:
        if row.get("group"):
            groups.setdefault(row["group"], []).append(row)
    assert groups, "dev.jsonl has no syndication groups"
    for name, rows in groups.items():
        prints = [simhash(body(r["paragraphs"])) for r in rows]
        for a, b in itertools.combinations(range(len(rows)), 2):
            assert distance(prints[a], prints[b]) <= MAX_DISTANCE, (name, rows[a]["id"], rows[b]["id"])


def test_different_stories_never_collide(dev_rows: list[dict]) -> None:
    prints = {r["id"]: simhash(body(r["paragraphs"])) for r in dev_rows}
    closest = []
    for a, b in itertools.combinations(dev_rows, 2):
        if a.get("group") and a.get("group") == b.get("group"):
            continue
        closest.append((distance(prints[a["id"]], prints[b["id"]]), a["id"], b["id"]))
    closest.sort()
    # A margin, not just a pass: unrelated stories on one topic stay well clear.
    assert closest[0][0] > MAX_DISTANCE + 3, closest[:3]


def edited_copies(row: dict, other: dict, rnd: random.Random) -> dict[str, str]:
    """The edits an outlet makes to a wire story: a sentence or a paragraph added or cut."""
    paragraphs = row["paragraphs"]
    index = rnd.randrange(len(paragraphs))
    split = sentences(paragraphs[index])
    extra_sentence = sentences(other["paragraphs"][1])[0]
    copies = {
        "cut last paragraph": body(paragraphs[:-1]),
        "added paragraph": body(paragraphs + [other["paragraphs"][-1]]),
        "added sentence": body(
            paragraphs[:index] + [paragraphs[index] + " " + extra_sentence] + paragraphs[index + 1 :]
        ),
    }
    if len(split) > 1:
        copies["cut sentence"] = body(paragraphs[:index] + [" ".join(split[1:])] + paragraphs[index + 1 :])
    return copies


def test_edited_copies_stay_within_max_distance(dev_rows: list[dict]) -> None:
    """64 bits are noisy on ~250-word articles: require 9 edits in 10 caught, report the rest.

    Missing a copy costs a second top-level message; merging two stories would hide one
    in another's thread. MAX_DISTANCE leans towards the first.
    """
    rnd = random.Random(4)
    results: list[tuple[int, str, str]] = []
    for row in dev_rows:
        other = rnd.choice([o for o in dev_rows if o is not row])
        original = simhash(body(row["paragraphs"]))
        for kind, text in edited_copies(row, other, rnd).items():
            results.append((distance(original, simhash(text)), kind, row["id"]))
    caught = sum(d <= MAX_DISTANCE for d, _, _ in results) / len(results)
    assert caught >= 0.9, sorted(results, reverse=True)[:10]
    # Cutting a sentence is the gentlest edit: nearly always caught.
    cuts = [d for d, kind, _ in results if kind == "cut sentence"]
    assert sum(d <= MAX_DISTANCE for d in cuts) / len(cuts) >= 0.95
