"""RuleMatch as other packages see it: evidence built on first read, yet a plain dataclass to use."""

from __future__ import annotations

import copy
import dataclasses
import pathlib
import pickle

from rules import Document, RuleMatch, load_rules

HERE = pathlib.Path(__file__).resolve().parent

DOC = Document(title="Decomisan armas en Sonora",
               text="La ATF y la Fiscalía investigan el tráfico de armas hacia Sonora desde Arizona.")


def one_match() -> RuleMatch:
    rs = load_rules([{"id": "armas", "all": [{"terms": ["tráfico de armas"]}, {"entities": ["atf"]}]}], HERE)
    (match,) = rs.match(DOC)
    return match


def test_evidence_fields_read_like_plain_fields():
    match = one_match()
    assert match.terms == ["tráfico de armas"] and match.entities == ["ATF"]
    assert [h.term for h in match.hits] == ["ATF", "tráfico de armas"]
    assert "tráfico de armas" in match.snippet and match.snippet_highlights
    assert match.explanation.startswith("armas (armas): MATCH")
    assert match.score_breakdown and match.score == sum(item["points"] for item in match.score_breakdown)


def test_to_dict_round_trips_and_pickles():
    match = one_match()
    data = match.to_dict()
    assert data["terms"] == ["tráfico de armas"] and data["snippet"] == match.snippet
    assert RuleMatch.from_dict(data) == match
    assert pickle.loads(pickle.dumps(one_match())) == match
    assert copy.deepcopy(one_match()) == match


def test_assigning_a_field_before_reading_keeps_the_others():
    match = one_match()
    match.snippet = "otro texto"
    assert match.snippet == "otro texto"
    assert match.terms == ["tráfico de armas"]
    assert dataclasses.replace(one_match(), channel="#x").terms == ["tráfico de armas"]


def test_built_by_hand_without_deferral():
    match = RuleMatch("r", "r", 1.0, 1.0, None, "instant", None, ["a"], [], [], "s", [(0, 1)], "e")
    assert match.snippet == "s" and match.to_dict()["snippet_highlights"] == [[0, 1]]
