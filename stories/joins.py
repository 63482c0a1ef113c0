"""Which earlier telling a new article is another telling of: the thresholds and the rules.

Pure computation: storage/stories.py reads the candidates (recent articles, those sharing a
band key, those that matched the same rule) and hands them here as plain rows.

1. **Same text**: SimHashes within ``MAX_DISTANCE`` bits (stories.simhash).
2. **Edited copy**: an LSH candidate (stories.minhash) that has at least ``MIN_CONTAINMENT``
   of the shorter text's shingles, or ``MIN_CONTAINMENT_WITH_TITLE`` with a headline at least
   ``MIN_TITLE_SIMILARITY`` alike: a paragraph more or less does not move containment.
3. **Same event**: two outlets' own write-ups share no sentences but the same officials, day
   and facts: an article that matched a rule joins an earlier one that matched the same rule
   within ``EVENT_WINDOW`` when they name at least ``EVENT_MIN_NAMES`` people in common and
   their content words overlap at least ``EVENT_MIN_WORDS``.

Every threshold is tested both ways (joins copies and events, keeps stories apart) in
tests/test_fingerprint.py and tests/test_stories.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from stories.minhash import band_keys, signature
from stories.simhash import MAX_DISTANCE, distance
from stories.text import comparable, content_words, shingles

# An article is compared with the articles first seen this long before it.
STORY_WINDOW = timedelta(days=3)

# A candidate is a copy when this share of the shorter text's shingles is in the other...
MIN_CONTAINMENT = 0.5
# ...or, with a headline this similar (word Jaccard), a share this large.
MIN_CONTAINMENT_WITH_TITLE = 0.3
MIN_TITLE_SIMILARITY = 0.4
# LSH candidates verified per article, most shared bands first (copies share many).
CANDIDATES = 20

# Same event: within this time, the same rule matched, this many person names in common and
# this word overlap (Jaccard of content words).  Measured on the labelled sets: two outlets'
# write-ups of one meeting overlap 0.38–0.49; different stories naming the same two people
# (two Sheinbaum–Trump calls a day apart) at most 0.29.
EVENT_WINDOW = timedelta(hours=36)
EVENT_MIN_NAMES = 2
EVENT_MIN_WORDS = 0.33

# A capitalised run of words ("Juan Ramón de la Fuente", "Secretaría de Marina"); connectors may join it.
_NAME_RUN = re.compile(r"[A-ZÁÉÍÓÚÑÜ][\wáéíóúñü'-]+(?:[ \t]+(?:(?:de|del|la|las|los)[ \t]+)*[A-ZÁÉÍÓÚÑÜ][\wáéíóúñü'-]+)+")
_CONNECTORS = frozenset({"de", "del", "la", "las", "los"})
# Words that make a capitalised run an institution, a place or a title rather than a person.
_NOT_PERSON = frozenset(
    ["secretaria", "secretario", "secretaria", "departamento", "fiscalia", "gobierno", "estado", "estados", "unidos", "ciudad", "grupo", "cartel", "comision", "instituto", "agencia", "oficina", "servicio", "guardia", "nacional", "republica", "senado", "camara", "corte", "tribunal", "embajada", "casa", "blanca", "policia", "ejercito", "marina", "armada", "fuerza", "fuerzas", "aeropuerto", "internacional", "puerto", "universidad", "partido", "consejo", "comite", "unidad", "administracion", "direccion", "banco", "sala", "palacio", "distrito", "sur", "norte", "este", "oeste", "comando", "centro", "junta", "asamblea", "congreso", "ministerio", "presidencia", "cancilleria", "implementacion", "seguridad", "defensa", "justicia", "tesoro", "control", "drogas", "aduanas", "proteccion", "fronteriza", "inteligencia", "financiera", "investigacion", "mexico", "mexicano", "america", "latina", "el", "la", "los", "las", "en", "con", "por", "para", "segun", "tras", "ante", "este", "esta", "nueva", "nuevo", "york", "san", "santa", "puente", "grande", "rio", "bravo", "baja", "sierra", "valle", "costa", "golfo", "pacifico", "caribe", "armas", "fuego", "alcohol", "tabaco", "explosivos", "relaciones", "exteriores", "migracion", "aduana", "salud", "hacienda", "economia", "gobernacion", "programa", "plan", "operacion", "operativo", "iniciativa", "acuerdo", "tratado", "ley", "reforma"]
)


@dataclass(frozen=True)
class Telling:
    """What the joins need of one article: its text, headline, date and matched rules."""

    text: str
    title: str | None = None
    published_at: datetime | None = None
    rule_ids: frozenset[str] = frozenset()


@dataclass
class Signed:
    """A telling with what comparing it costs computed once: shingles, MinHash band keys,
    and (for the event join) the people it names and its content words."""

    telling: Telling
    shingles: set[str]
    band_keys: list[int]
    _names: set[str] | None = field(default=None, repr=False)

    @property
    def names(self) -> set[str]:
        if self._names is None:
            self._names = person_names(self.telling.text) | person_names(self.telling.title or "")
        return self._names


def sign(telling: Telling) -> Signed:
    """Compute once what finding this telling's story and remembering it both need."""
    found = shingles(telling.text)
    values = signature(found)
    return Signed(telling, found, band_keys(values) if values is not None else [])


@dataclass(frozen=True)
class Candidate:
    """An earlier article, as storage read it."""

    story_id: int
    text: str | None
    title: str | None = None
    when: datetime | None = None  # published, or else first seen


def containment(a: str, b: str) -> float:
    """How much of the shorter text's shingles the other text has (0..1)."""
    return shingle_containment(shingles(a), shingles(b))


def shingle_containment(first: set[str], second: set[str]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))


def title_similarity(a: str | None, b: str | None) -> float:
    """Jaccard of the headlines' content words (0 when either is missing)."""
    return _jaccard(set(content_words(a or "")), set(content_words(b or "")))


def person_names(text: str) -> set[str]:
    """People named in the text: capitalised runs of two or more words (on one line, not across
    a sentence end), none of them an institution, place or title word, folded and kept by their
    last two words so "Omar García Harfuch" and "García Harfuch" are one person."""
    names = set()
    for run in _NAME_RUN.findall(text):
        words = [w for w in comparable(run).split() if w not in _CONNECTORS]
        if len(words) >= 2 and not any(w in _NOT_PERSON for w in words):
            names.add(" ".join(words[-2:]))
    return names


def nearest_same_text(fingerprint: int, candidates: Iterable[tuple[int, int]]) -> int | None:
    """Of (story id, fingerprint) pairs, the story of the nearest fingerprint within
    ``MAX_DISTANCE`` bits (the lowest story id among equals), or None."""
    close = [(distance(fingerprint, other), story_id) for story_id, other in candidates]
    close = [item for item in close if item[0] <= MAX_DISTANCE]
    return min(close)[1] if close else None


def is_edited_copy(signed: Signed, candidate: Candidate) -> bool:
    """Whether ``candidate`` (an LSH candidate) is a copy of the same text, edited."""
    if not candidate.text:
        return False
    share = shingle_containment(signed.shingles, shingles(candidate.text))
    if share >= MIN_CONTAINMENT:
        return True
    return (share >= MIN_CONTAINMENT_WITH_TITLE
            and title_similarity(signed.telling.title, candidate.title) >= MIN_TITLE_SIMILARITY)


def event_window(signed: Signed, now: datetime) -> tuple[datetime, datetime] | None:
    """The span of dates an earlier write-up of the same event may have, or None when this
    telling cannot join by event (no matched rule, no text, fewer than ``EVENT_MIN_NAMES`` people)."""
    telling = signed.telling
    if not telling.rule_ids or not telling.text or len(signed.names) < EVENT_MIN_NAMES:
        return None
    when = aware(telling.published_at) or now
    return when - EVENT_WINDOW, when + EVENT_WINDOW


def same_event(signed: Signed, candidates: Iterable[Candidate], now: datetime) -> int | None:
    """Of earlier articles that matched one of the same rules, the story of the one that tells
    the same event (dated within the window, the same people, the largest word overlap ≥
    ``EVENT_MIN_WORDS``), or None."""
    window = event_window(signed, now)
    if window is None:
        return None
    low, high = window
    words = set(content_words(signed.telling.text))
    best: tuple[float, int] | None = None
    for candidate in candidates:
        when = aware(candidate.when)
        if not candidate.text or when is None or not low <= when <= high:
            continue
        common = signed.names & (person_names(candidate.text) | person_names(candidate.title or ""))
        if len(common) < EVENT_MIN_NAMES:
            continue
        overlap = _jaccard(words, set(content_words(candidate.text)))
        if overlap >= EVENT_MIN_WORDS and (best is None or overlap > best[0]):
            best = (overlap, candidate.story_id)
    return best[1] if best else None


def aware(value: datetime | None) -> datetime | None:
    """A datetime in UTC when it has no zone (SQLite hands some back naive)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _jaccard(first: set[str], second: set[str]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)
