"""Loading rules from the config's ``rules:`` list: built-in watchlists, user files, inline rules."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no types (types-PyYAML is not a dependency)

from .bounded_yaml import YAMLTooLarge, load_bounded
from .compile import Compiler
from .entities import Catalogue
from .errors import RuleSyntaxError
from .ruleset import RuleSet
from .syntax import RuleSpec, parse_rule

WATCHLISTS = pathlib.Path(__file__).resolve().parent / "watchlists"
CATALOGUE = WATCHLISTS / "entities.yaml"
FILE_KEYS = {"rules", "entities", "name", "description"}
_BUILTIN_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def builtin_names() -> list[str]:
    """Names accepted by ``{builtin: NAME}`` (every watchlist file but the entity catalogue)."""
    return sorted(p.stem for p in WATCHLISTS.glob("*.yaml") if p != CATALOGUE)


def load_rules(entries: list[dict[str, Any]], base_dir: pathlib.Path, source: str = "<config>") -> RuleSet:
    """Compile the config's ``rules:`` entries into one RuleSet.

    Entity definitions from every file are gathered before any rule is compiled, so a rule may
    use an entity defined in a file listed after it.  Raises RuleSyntaxError on any mistake.
    """
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise RuleSyntaxError(source, None, "rules", "must be a list")
    catalogue = Catalogue()
    catalogue.add_file(_read_yaml(CATALOGUE, "entities.yaml").get("entities"), "entities.yaml")
    specs: list[RuleSpec] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise RuleSyntaxError(source, None, f"rules[{index}]", "must be a mapping: {builtin: …}, {file: …} or an inline rule")
        if "builtin" in entry or "file" in entry:
            extra = set(entry) - {"builtin", "file"}
            if extra or ("builtin" in entry and "file" in entry):
                raise RuleSyntaxError(source, None, f"rules[{index}].{sorted(extra)[0] if extra else 'file'}",
                                      "a 'builtin' or 'file' entry takes no other keys")
            path, label = _entry_path(entry, base_dir, source, index)
            data = _read_yaml(path, label)
            catalogue.add_file(data.get("entities"), label)
            raw_rules = data.get("rules")
            if not isinstance(raw_rules, list) or not raw_rules:
                raise RuleSyntaxError(label, None, "rules", "the file needs a non-empty 'rules:' list")
            specs.extend(parse_rule(raw, label, i) for i, raw in enumerate(raw_rules))
        else:
            specs.append(parse_rule(entry, source, index))
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.id in seen:
            raise RuleSyntaxError(spec.file, spec.id, "id", f"duplicate rule id (already defined in {seen[spec.id]})")
        seen[spec.id] = spec.file
    compiler = Compiler(catalogue)
    return RuleSet([compiler.compile(spec) for spec in specs], compiler)


def load_rule_file(path: pathlib.Path) -> RuleSet:
    """Compile one rule file on its own (what `vigia check FILE` would do)."""
    path = pathlib.Path(path)
    return load_rules([{"file": path.name}], path.parent, source=path.name)


def _entry_path(entry: dict[str, Any], base_dir: pathlib.Path, source: str, index: int) -> tuple[pathlib.Path, str]:
    if "builtin" in entry:
        name = entry["builtin"]
        if not isinstance(name, str) or not _BUILTIN_NAME.match(name) or name not in builtin_names():
            raise RuleSyntaxError(source, None, f"rules[{index}].builtin",
                                  f"unknown built-in watchlist {name!r} (available: {', '.join(builtin_names())})")
        return WATCHLISTS / f"{name}.yaml", f"{name}.yaml"
    name = entry["file"]
    if not isinstance(name, str) or not name.strip():
        raise RuleSyntaxError(source, None, f"rules[{index}].file", "must be a path to a YAML rule file")
    path = pathlib.Path(name)
    if not path.is_absolute():
        path = pathlib.Path(base_dir) / path
    if not path.is_file():
        raise RuleSyntaxError(source, None, f"rules[{index}].file", f"rule file not found: {path}")
    return path, name


def _read_yaml(path: pathlib.Path, label: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = load_bounded(handle)
    except YAMLTooLarge as exc:
        raise RuleSyntaxError(label, None, None, f"refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleSyntaxError(label, None, None, f"not valid YAML{where}: {problem}") from None
    except OSError as exc:
        raise RuleSyntaxError(label, None, None, f"cannot read the file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RuleSyntaxError(label, None, None, "the file is not UTF-8 text") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RuleSyntaxError(label, None, None, "the file must be a mapping with a 'rules:' list")
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise RuleSyntaxError(label, None, sorted(unknown)[0], f"unknown key (expected: {', '.join(sorted(FILE_KEYS))})")
    return data
