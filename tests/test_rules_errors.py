"""RuleSyntaxError: every mistake names the file, the rule id and the key."""

from __future__ import annotations

import pathlib

import pytest

from rules import RuleError, RuleSyntaxError, load_rules

HERE = pathlib.Path(__file__).resolve().parent


def error_for(entry: dict) -> RuleSyntaxError:
    with pytest.raises(RuleSyntaxError) as info:
        load_rules([entry], HERE, source="vigia.yaml")
    return info.value


def test_unknown_key_on_rule():
    err = error_for({"id": "agua", "terms": ["agua"], "canal": "#agua"})
    assert (err.file, err.rule_id, err.key) == ("vigia.yaml", "agua", "canal")
    assert isinstance(err, RuleError)


def test_unknown_key_in_nested_group():
    err = error_for({"id": "agua", "all": [{"terms": ["agua"]}, {"any": ["río"], "peso": 2}]})
    assert (err.rule_id, err.key) == ("agua", "all[1].peso")


def test_empty_group():
    err = error_for({"id": "agua", "all": [{"any": []}]})
    assert (err.rule_id, err.key) == ("agua", "all[0].any")
    assert "empty" in err.message


def test_empty_terms():
    err = error_for({"id": "agua", "terms": []})
    assert err.key == "terms" and "empty" in err.message


def test_bad_wildcard():
    err = error_for({"id": "agua", "terms": ["*agua"]})
    assert (err.rule_id, err.key) == ("agua", "terms")
    assert "wildcard" in err.message
    assert error_for({"id": "agua", "terms": ["ag*"]}).key == "terms"      # too short
    assert error_for({"id": "agua", "stems": ["agua*"]}).key == "stems"    # stems + wildcard


def test_bad_regex():
    err = error_for({"id": "agua", "any": [{"regex": "agua(("}]})
    assert (err.rule_id, err.key) == ("agua", "any[0].regex")
    assert "regular expression" in err.message


def test_bad_near_within_in_file_reads_well():
    with pytest.raises(RuleSyntaxError) as info:
        load_rules([{"file": "fixtures/rules/bad-within.yaml"}], HERE)
    err = info.value
    assert (err.file, err.rule_id, err.key) == ("fixtures/rules/bad-within.yaml", "agua", "near.within")
    assert str(err) == "fixtures/rules/bad-within.yaml: rule 'agua': key 'near.within': must be a positive integer"


def test_unknown_entity_group():
    err = error_for({"id": "agua", "entity_groups": ["funcionarios-marte"]})
    assert (err.rule_id, err.key) == ("agua", "entity_groups")


def test_bad_mode_and_digest():
    assert error_for({"id": "agua", "terms": ["agua"], "mode": "semanal"}).key == "mode"
    assert error_for({"id": "agua", "terms": ["agua"], "mode": "digest", "digest": {"every": "daily", "at": "25:00"}}).key == "digest.at"


def test_duplicate_rule_id():
    with pytest.raises(RuleSyntaxError) as info:
        load_rules([{"id": "agua", "terms": ["agua"]}, {"id": "agua", "terms": ["río"]}], HERE, "vigia.yaml")
    assert (info.value.rule_id, info.value.key) == ("agua", "id")


def test_unknown_builtin_and_missing_file():
    with pytest.raises(RuleSyntaxError) as info:
        load_rules([{"builtin": "no-existe"}], HERE, "vigia.yaml")
    assert (info.value.file, info.value.key) == ("vigia.yaml", "rules[0].builtin")
    with pytest.raises(RuleSyntaxError) as info:
        load_rules([{"file": "no-existe.yaml"}], HERE, "vigia.yaml")
    assert info.value.key == "rules[0].file"


def test_invalid_yaml_names_the_file(tmp_path):
    (tmp_path / "rotas.yaml").write_text("rules:\n  - id: agua\n    terms: [agua\n", encoding="utf-8")
    with pytest.raises(RuleSyntaxError) as info:
        load_rules([{"file": "rotas.yaml"}], tmp_path)
    assert info.value.file == "rotas.yaml" and "YAML" in info.value.message
