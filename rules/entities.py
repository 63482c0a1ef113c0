"""Named entities: people and institutions with aliases, cased acronyms and context-bound short forms.

Why short forms are special: "Rubio" is also "blond", "de la fuente" is "from the fountain", and
"Johnson" is many people.  A short form only counts when its capitalised words are capitalised in
the text, it is not glued to another first name ("Emiliano Rubio", "Luis de la Fuente"), and the
context vouches for it: the entity's full alias appears somewhere in the document, or one of its
titles sits right before or after it ("el secretario Rubio", "Rubio, secretario de Estado").
Stems are never applied to names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import RuleSyntaxError
from .normalize import fold

ENTITY_KEYS = {"id", "name", "groups", "aliases", "short", "acronyms", "titles", "except"}
_CONNECTORS = {"de", "del", "la", "las", "los", "y", "e", "el", "van", "von", "da", "di"}
_WORD = re.compile(r"\w+")
_WORD_BEFORE = re.compile(r"(\w+)[ \t]+$")
_WORD_AFTER = re.compile(r"[ \t]+(\w+)")
_TITLE_LEAD = re.compile(r"\s*,?\s*(?:el |la |nuevo |nueva |actual )?")


@dataclass
class Entity:
    id: str
    name: str
    groups: list[str]
    aliases: list[str]
    short: list[str] = field(default_factory=list)
    acronyms: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    folded_titles: list[str] = field(default_factory=list)
    # phrases in which a name is another body's ("Guardia Nacional de Texas"): names inside them do not count
    excepts: list[str] = field(default_factory=list)


class Catalogue:
    """All known entities by id, and the entity groups they belong to."""

    def __init__(self) -> None:
        self.entities: dict[str, Entity] = {}
        self.groups: dict[str, list[str]] = {}

    def add(self, entity: Entity) -> None:
        self.entities[entity.id] = entity
        for group in entity.groups:
            members = self.groups.setdefault(group, [])
            if entity.id not in members:
                members.append(entity.id)

    def add_file(self, raw: Any, file: str) -> None:
        """Add the ``entities:`` list of a YAML file (the catalogue or a user rule file)."""
        if raw is None:
            return
        if not isinstance(raw, list):
            raise RuleSyntaxError(file, None, "entities", "must be a list of entities")
        for index, item in enumerate(raw):
            self.add(parse_entity(item, file, index))


def parse_entity(raw: Any, file: str, index: int) -> Entity:
    """Validate one entity mapping; errors name the entity id in place of a rule id."""
    key = f"entities[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise RuleSyntaxError(file, None, key, "an entity must be a mapping with an 'id'")
    entity_id = raw["id"]
    unknown = set(raw) - ENTITY_KEYS
    if unknown:
        raise RuleSyntaxError(file, None, f"{key}.{sorted(unknown)[0]}", f"unknown key in entity {entity_id!r}")

    def strings(name: str) -> list[str]:
        value = raw.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise RuleSyntaxError(file, None, f"{key}.{name}", f"entity {entity_id!r}: must be a list of strings")
        return [v.strip() for v in value]

    name: str = raw["name"] if "name" in raw else entity_id  # noqa: SIM401 - raw is Any: .get() would type as Any
    aliases = strings("aliases")
    if name not in aliases and name not in raw.get("acronyms", []) and name not in raw.get("short", []):
        aliases.insert(0, name)  # the canonical name is a full alias unless listed as a cased form
    entity = Entity(entity_id, name, strings("groups"), aliases, strings("short"), strings("acronyms"),
                    strings("titles"), excepts=strings("except"))
    for text in entity.aliases + entity.short + entity.acronyms:
        if "*" in text:
            raise RuleSyntaxError(file, None, f"{key}", f"entity {entity_id!r}: names take no wildcards ({text!r})")
    entity.folded_titles = sorted({fold(t) for t in entity.titles}, key=len, reverse=True)
    return entity


def case_ok(pattern: str, found: str) -> bool:
    """True when every capitalised word of ``pattern`` is capitalised in ``found`` (ALL CAPS passes)."""
    key = (pattern, found)
    known = _CASE_OK.get(key)
    if known is None:
        known = _case_ok(pattern, found)
        if len(_CASE_OK) < 50_000:
            _CASE_OK[key] = known
    return known


_CASE_OK: dict[tuple[str, str], bool] = {}
_ACRONYM_OK: dict[tuple[str, str], bool] = {}


def _case_ok(pattern: str, found: str) -> bool:
    pattern_words = _WORD.findall(pattern)
    found_words = _WORD.findall(found)
    if len(pattern_words) != len(found_words):
        return False
    return all(got[0].isupper() for want, got in zip(pattern_words, found_words) if want[0].isupper())


def acronym_ok(pattern: str, found: str) -> bool:
    """Acronyms ("DEA", "ICE", "Semar") must match letter case exactly, accents aside."""
    key = (pattern, found)
    known = _ACRONYM_OK.get(key)
    if known is None:
        known = _acronym_ok(pattern, found)
        if len(_ACRONYM_OK) < 50_000:
            _ACRONYM_OK[key] = known
    return known


def _acronym_ok(pattern: str, found: str) -> bool:
    return fold(pattern) == fold(found) and all(
        a.isupper() == b.isupper() for a, b in zip(pattern, found) if a.isalpha() and b.isalpha()
    )


def glued_to_other_name(original: str, start: int, end: int, titles_folded: list[str]) -> bool:
    """True when the short form is part of another person's name ("Emiliano Rubio", "Luis de la
    Fuente", "Rubio Hernández"): a capitalised name-like word right before or after it.

    Capitalised titles ("Secretario Rubio") and common sentence-initial words ("Según Rubio") are
    not names.
    """
    before = original[max(0, start - 40):start]
    m = _WORD_BEFORE.search(before)
    if m:
        word = m.group(1)
        if word[0].isupper() and fold(word) not in _CONNECTORS and _looks_like_name(word):
            folded_before = fold(before.rstrip())
            if not any(folded_before.endswith(t) for t in titles_folded):
                return True
    after = original[end:end + 30]
    m = _WORD_AFTER.match(after)
    if m:
        word = m.group(1)
        if word[0].isupper() and not word.isupper() and fold(word) not in _CONNECTORS and _looks_like_name(word):
            return True
    return False


_COMMON_CAPITALISED = {
    "segun", "para", "tras", "ante", "con", "sin", "por", "pero", "ademas", "asimismo", "mientras",
    "cuando", "donde", "aunque", "luego", "tambien", "incluso", "hoy", "ayer", "ahora", "entonces",
    "sobre", "entre", "desde", "hasta", "como", "que", "si", "no", "ya", "mas", "en", "a", "al",
    "su", "sus", "este", "esta", "ese", "esa", "aqui", "alli", "dice", "dijo", "afirmo",
    "senalo", "insistio", "anuncio", "advirtio", "aseguro",
}


def _looks_like_name(word: str) -> bool:
    return fold(word) not in _COMMON_CAPITALISED


def title_adjacent(folded: str, start: int, end: int, titles_folded: list[str]) -> bool:
    """True when one of the entity's titles is right before ("el canciller De la Fuente") or
    right after ("Rubio, secretario de Estado") the short form."""
    if not titles_folded:
        return False
    before = folded[max(0, start - 60):start].rstrip(" ,")
    for title in titles_folded:
        if before.endswith(title) and (len(before) == len(title) or not before[-len(title) - 1].isalnum()):
            return True
    after = folded[end:end + 60]
    m = _TITLE_LEAD.match(after)
    rest = after[m.end():] if m else after
    return any(
        rest.startswith(title) and (len(rest) == len(title) or not rest[len(title)].isalnum()) for title in titles_folded
    )
