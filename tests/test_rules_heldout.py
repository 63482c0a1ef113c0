"""The built-in watchlist on held-out sets written after it was tuned on the dev set.

tests/fixtures/rules/blind.jsonl: 40 stories written without seeing the rules or the other sets.

tests/fixtures/rules/heldout.jsonl: new Spanish stories (joint action against cartels, fentanyl and
arms trafficking, border security, extraditions and mass transfers, calls and meetings between
officials, sovereignty disputes, opinion columns, stories where the bilateral part is one paragraph)
and distractors (other countries' cooperation, domestic crime, US-only drug news, trade, migration,
cybersecurity, food safety, sports, fiction, road traffic, other people called Rubio or De la Fuente,
navigation boxes), plus English and Portuguese copies that must not match and syndicated copies
(same ``group``) that count as one story.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from rules import Document, load_rules

HERE = pathlib.Path(__file__).resolve().parent
HELDOUT = HERE / "fixtures" / "rules" / "heldout.jsonl"
# Written by someone who never saw the rules, and measured before any tuning: P 0.950, R 1.000.
BLIND = HERE / "fixtures" / "rules" / "blind.jsonl"


@pytest.fixture(scope="module")
def watchlist():
    return load_rules([{"builtin": "mx-us-security"}], HERE)


@pytest.fixture(scope="module", params=[HELDOUT, BLIND], ids=["heldout", "blind"])
def records(request):
    return [json.loads(line) for line in request.param.read_text(encoding="utf-8").splitlines() if line.strip()]


def _doc(record: dict) -> Document:
    return Document(record["title"], "\n\n".join(record["paragraphs"]), record.get("summary") or "")


def test_heldout_set_is_balanced_and_well_formed(records):
    fields = {"id", "outlet", "lang", "published", "author", "title", "summary", "paragraphs", "relevant",
              "category", "group", "why"}
    assert all(set(r) == fields for r in records)
    assert len({r["id"] for r in records}) == len(records) >= 40
    relevant = sum(1 for r in records if r["relevant"])
    assert 0.4 <= relevant / len(records) <= 0.6
    assert {r["lang"] for r in records} == {"es", "en", "pt"}
    assert all(not r["relevant"] for r in records if r["lang"] != "es")
    groups = [r["group"] for r in records if r["group"]]
    assert groups and len(groups) > len(set(groups))


def test_heldout_precision_and_recall(watchlist, records):
    stories: dict[str, list[bool]] = {}
    wrong = []
    for record in records:
        matched = bool(watchlist.match(_doc(record)))
        story = stories.setdefault(record.get("group") or record["id"], [False, False])
        story[0] |= bool(record["relevant"])
        story[1] |= matched
        if matched != bool(record["relevant"]):
            wrong.append(record["id"])
    tp = sum(1 for relevant, matched in stories.values() if relevant and matched)
    fp = sum(1 for relevant, matched in stories.values() if not relevant and matched)
    fn = sum(1 for relevant, matched in stories.values() if relevant and not matched)
    assert tp / (tp + fp) >= 0.9, wrong
    assert tp / (tp + fn) >= 0.9, wrong


def test_heldout_foreign_language_copies_never_match(watchlist, records):
    foreign = [r for r in records if r["lang"] != "es"]
    assert foreign
    for record in foreign:
        assert not watchlist.match(_doc(record)), record["id"]
        assert "not in Spanish" in watchlist.evaluate(_doc(record))[0].reason


def test_watchlist_lists_decisive_terms_before_context_words(watchlist):
    doc = Document("Reunión de seguridad en la Ciudad de México",
                   "Funcionarios de México y Estados Unidos hablaron en la reunión sobre el tráfico de armas "
                   "y el fentanilo que cruzan la frontera de Sonora.")
    match = watchlist.match(doc)[0]
    last_decisive = max(match.terms.index(t) for t in ("tráfico de armas", "fentanilo"))
    assert match.terms.index("Ciudad de México") > last_decisive
    assert any(h.term == "Ciudad de México" and h.role == "context" for h in match.hits)


def test_mexico_named_once_as_a_route_is_not_a_mexican_side(watchlist):
    doc = Document("Colombia y Estados Unidos firman plan antidrogas",
                   "La cocaína colombiana sale por el Pacífico hacia Centroamérica y México antes de llegar a "
                   "Estados Unidos, según la ONU.")
    evaluation = watchlist.evaluate(doc)[0]
    assert not evaluation.matched
    assert "dos nombres mexicanos" in evaluation.reason


def test_mexican_defence_chief_meeting_a_us_command_matches(watchlist):
    doc = Document("Trevilla se reúne con el Comando Norte",
                   "El secretario de la Defensa Nacional, general Ricardo Trevilla Trejo, se reunió en Colorado "
                   "con mandos del Comando Norte para revisar la vigilancia aérea en el Pacífico.")
    assert watchlist.match(doc)
