"""The built-in watchlist on the seed story and the labelled dev set (shared beside the clone)."""

from __future__ import annotations

import json
import pathlib

import pytest

from rules import Document, load_rules

HERE = pathlib.Path(__file__).resolve().parent
SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="module")
def watchlist():
    return load_rules([{"builtin": "mx-us-security"}], HERE)


def test_seed_article_matches_with_explanation(watchlist):
    seed = SHARED / "seed-article.txt"
    if not seed.is_file():
        pytest.skip("shared data not beside the clone")
    text = seed.read_text(encoding="utf-8").strip()
    matches = watchlist.match(Document("De la Fuente y Rubio fortalecen cooperación en seguridad", text))
    assert [m.rule_id for m in matches] == ["mx-us-security"]
    match = matches[0]
    assert "Marco Rubio" in match.entities and "Juan Ramón de la Fuente" in match.entities
    assert match.snippet and match.snippet_highlights
    assert "mx-us-security" in match.explanation
    json.dumps(match.to_dict())


def test_dev_set_precision_and_recall(watchlist):
    path = SHARED / "labelled" / "dev.jsonl"
    if not path.is_file():
        pytest.skip("shared data not beside the clone")
    stories: dict[str, list[bool]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        doc = Document(record["title"], "\n\n".join(record["paragraphs"]), record.get("summary") or "")
        matched = bool(watchlist.match(doc))
        story = stories.setdefault(record.get("group") or record["id"], [False, False])
        story[0] |= bool(record["relevant"])
        story[1] |= matched
    tp = sum(1 for relevant, matched in stories.values() if relevant and matched)
    fp = sum(1 for relevant, matched in stories.values() if not relevant and matched)
    fn = sum(1 for relevant, matched in stories.values() if relevant and not matched)
    assert tp / (tp + fp) >= 0.95
    assert tp / (tp + fn) >= 0.95


def test_non_match_says_which_group_failed(watchlist):
    doc = Document("Jornada violenta en Culiacán", "Nueve muertos en Culiacán tras enfrentamientos entre grupos del cártel.")
    evaluation = watchlist.evaluate(doc)[0]
    assert not evaluation.matched
    assert "lado estadounidense" in evaluation.reason
