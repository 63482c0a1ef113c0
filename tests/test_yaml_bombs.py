"""Anchor bombs: a config or rule file whose aliases expand past a sane size is refused, one line, exit 2."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rules.bounded_yaml import YAMLTooLarge, load_bounded
from vigia.cli import main


def laughs(levels: int, indent: str = "") -> str:
    """The billion-laughs pattern: each level a list of ten aliases of the one before."""
    lines = [f'{indent}- &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"{indent}- &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def run_check(config: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", "--config", str(config)], out=out, err=err)
    return code, err.getvalue()


def test_a_billion_laughs_is_refused_without_building_it() -> None:
    with pytest.raises(YAMLTooLarge, match="anchor bomb"):
        load_bounded("laughs:\n" + laughs(9, "  "))


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(YAMLTooLarge, match="recursive"):
        load_bounded("a: &loop\n  - x\n  - *loop\n")


def test_anchors_used_as_anchors_are_fine() -> None:
    data = load_bounded("common: &terms [cártel, fentanilo]\nrules:\n  - {id: a, terms: *terms}\n  - {id: b, terms: *terms}\n")
    assert data["rules"][1]["terms"] == ["cártel", "fentanilo"]


def test_check_refuses_a_config_bomb_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "vigia.yaml"
    config.write_text("slack: {token: xoxb-1}\nlaughs:\n" + laughs(6, "  "), encoding="utf-8")

    code, err = run_check(config)

    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"vigia: config error: {config}: refused: aliases expand")


def test_check_refuses_a_rule_file_bomb_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "bomba.yaml").write_text(
        "laughs:\n" + laughs(6, "  ") + "rules:\n  - id: risa\n    terms: *l6\n", encoding="utf-8"
    )
    config = tmp_path / "vigia.yaml"
    config.write_text("database: {url: 'sqlite:///%s'}\nslack: {token: xoxb-1}\nrules:\n  - file: bomba.yaml\n"
                      % (tmp_path / "v.db"), encoding="utf-8")

    code, err = run_check(config)

    assert code == 2
    assert err.count("\n") == 1 and err.startswith("vigia: rule error: bomba.yaml: refused: aliases expand")
