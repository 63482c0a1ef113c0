"""Stories, not pages: which stored article a new one is another telling of.

Three joins, cheapest first.

1. **Same text** — the 64-bit SimHash of the cleaned text (crawler/fingerprint.py) within
   ``MAX_DISTANCE`` bits: near-identical copies, one XOR each.
2. **Edited copy** — a wire story (EFE, AP, Reuters) that an outlet republished with its own
   lede, byline, dateline, a trimmed ending or inserted boilerplate.  Each article's MinHash
   over word shingles (datasketch) is cut into LSH bands stored in ``story_bands``, so the
   copies of a text are found by an indexed lookup whatever the size of the archive; each
   candidate is then checked by shingle containment (how much of the shorter text the other
   has), which a paragraph more or less does not move, and by the headline's similarity.
3. **Same event** — two outlets' own write-ups of one event share no sentences but the same
   officials, day and facts: an article that matched a rule joins an earlier one that matched
   the same rule within ``EVENT_WINDOW`` when they name the same people (at least
   ``EVENT_MIN_NAMES`` person names in common) and their words overlap enough.  Two
   extraditions on different days, or of different people, stay two stories.

Every threshold below is tested both ways (joins copies and events, keeps stories apart) in
tests/test_fingerprint.py and tests/test_stories.py.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone

from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Article, Match, StoryBand

if TYPE_CHECKING:
    from datasketch import MinHash

# Two 64-bit SimHashes this close (in differing bits) are the same story. Tuned in
# tests/test_fingerprint.py against edited copies and unrelated stories on one topic.
MAX_DISTANCE = 12

# MinHash: 64 permutations in 32 bands of 2 rows.  A pair of texts with shingle Jaccard s
# becomes an LSH candidate with probability 1 - (1 - s²)³²: 0.95 at s = 0.3 (a heavily
# edited copy), 0.08 at s = 0.05, ~0 for unrelated stories of one topic (s ≈ 0.01).
NUM_PERM = 64
BANDS = 32
ROWS = NUM_PERM // BANDS
SHINGLE = 3  # words per shingle (content words: function words dropped)
# A candidate is a copy when this share of the shorter text's shingles is in the other...
MIN_CONTAINMENT = 0.5
# ...or, with a headline this similar (word Jaccard), a share this large.
MIN_CONTAINMENT_WITH_TITLE = 0.3
MIN_TITLE_SIMILARITY = 0.4

# Same event: within this time, the same rule matched, this many person names in common and
# this word overlap (Jaccard of content words).  Measured on the labelled sets: two outlets'
# write-ups of one meeting overlap 0.38–0.49; different stories naming the same two people
# (two Sheinbaum–Trump calls a day apart) at most 0.29.
EVENT_WINDOW = timedelta(hours=36)
EVENT_MIN_NAMES = 2
EVENT_MIN_WORDS = 0.33

_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset(
    """a al ante bajo con contra de del desde durante e el ella ellos en entre era eran es esa ese eso esta
    estas este esto estos fue fueron ha habia han hasta la las le les lo los mas me mi muy ni no nos o otra
    otras otro otros para pero por porque que quien se segun ser si sido sin sobre su sus tambien tan tras un
    una unas uno unos y ya dijo este esta""".split()
)
# A capitalised run of words ("Juan Ramón de la Fuente", "Secretaría de Marina"); connectors may join it.
_NAME_RUN = re.compile(r"[A-ZÁÉÍÓÚÑÜ][\wáéíóúñü'-]+(?:[ \t]+(?:(?:de|del|la|las|los)[ \t]+)*[A-ZÁÉÍÓÚÑÜ][\wáéíóúñü'-]+)+")
# Words that make a capitalised run an institution, a place or a title rather than a person.
_NOT_PERSON = frozenset(
    """secretaria secretario secretaria departamento fiscalia gobierno estado estados unidos ciudad grupo cartel
    comision instituto agencia oficina servicio guardia nacional republica senado camara corte tribunal embajada
    casa blanca policia ejercito marina armada fuerza fuerzas aeropuerto internacional puerto universidad partido
    consejo comite unidad administracion direccion banco sala palacio distrito sur norte este oeste comando
    centro junta asamblea congreso ministerio presidencia cancilleria implementacion seguridad defensa justicia
    tesoro control drogas aduanas proteccion fronteriza inteligencia financiera investigacion mexico mexicano
    america latina el la los las en con por para segun tras ante este esta nueva nuevo york san santa puente
    grande rio bravo baja sierra valle costa golfo pacifico caribe armas fuego alcohol tabaco explosivos
    relaciones exteriores migracion aduana salud hacienda economia gobernacion programa plan operacion
    operativo iniciativa acuerdo tratado ley reforma""".split()
)


@dataclass
class Telling:
    """What the joins need of one article: its text, headline, date and matched rules."""

    text: str
    title: str | None = None
    published_at: datetime | None = None
    rule_ids: frozenset[str] = frozenset()


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


def containment(a: str, b: str) -> float:
    """How much of the shorter text's shingles the other text has (0..1)."""
    return _containment(shingles(a), shingles(b))


def title_similarity(a: str | None, b: str | None) -> float:
    """Jaccard of the headlines' content words (0 when either is missing)."""
    first, second = set(_content_words(a or "")), set(_content_words(b or ""))
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def shingles(text: str) -> set[str]:
    words = _content_words(text)
    if len(words) < SHINGLE:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


@lru_cache(maxsize=8)
def signature(text: str) -> MinHash | None:
    """The MinHash of the text's shingles (None for a text without words).

    Cached: storing an article signs its text to find its story and again to remember it,
    and signing costs a few milliseconds. Callers only read the result.
    """
    found = shingles(text)
    if not found:
        return None
    # Imported here: datasketch brings numpy and scipy (~80 MB resident, ~0.5 s), which only
    # the processes that store articles need, not the daemon or the CLI's other commands.
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, seed=1)
    minhash.update_batch([s.encode("utf-8") for s in found])
    return minhash


def band_keys(minhash: MinHash) -> list[int]:
    """One signed 64-bit key per LSH band (the band's number and its rows, hashed)."""
    values = minhash.hashvalues
    keys = []
    for band in range(BANDS):
        rows = values[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(band.to_bytes(2, "little") + rows, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def person_names(text: str) -> set[str]:
    """People named in the text: capitalised runs of two or more words (on one line, not across
    a sentence end), none of them an institution, place or title word, folded and kept by their
    last two words so "Omar García Harfuch" and "García Harfuch" are one person."""
    names = set()
    for run in _NAME_RUN.findall(text):
        words = [w for w in _fold(run).split() if w not in {"de", "del", "la", "las", "los"}]
        if len(words) >= 2 and not any(w in _NOT_PERSON for w in words):
            names.add(" ".join(words[-2:]))
    return names


def remember(session: Session, article_id: int, text: str | None) -> None:
    """Store the article's LSH band keys so later copies find it."""
    minhash = signature(text or "")
    if minhash is None:
        return
    session.execute(delete(StoryBand).where(StoryBand.article_id == article_id))
    session.add_all(StoryBand(article_id=article_id, band_key=key) for key in dict.fromkeys(band_keys(minhash)))


def find_story(
    session: Session,
    fingerprint: int,
    text: str | None,
    since: datetime,
    max_distance: int = MAX_DISTANCE,
    *,
    telling: Telling | None = None,
    exclude: int | None = None,
) -> int | None:
    """The story id of the earlier article seen since ``since`` that this one retells, or None.

    ``exclude``: the new article's own id (already inserted).  ``telling`` adds the headline,
    date and matched rules for the copy and event joins; without it only the text is compared.
    """
    telling = telling or Telling(text or "")
    same_text = _same_text(session, fingerprint, since, max_distance, exclude)
    if same_text is not None:
        return same_text
    if not text:
        return None
    copy = _edited_copy(session, text, telling.title, since, exclude)
    if copy is not None:
        return copy
    return _same_event(session, telling, exclude)


def _same_text(session: Session, fingerprint: int, since: datetime, max_distance: int, exclude: int | None) -> int | None:
    """The nearest SimHash within ``max_distance``: a linear scan, one XOR per recent article."""
    rows = session.execute(
        select(Article.id, Article.story_id, Article.fingerprint)
        .where(Article.fingerprint.is_not(None), Article.first_seen_at >= since, Article.story_id.is_not(None))
        .order_by(Article.id)
    )
    close = [(hamming(fingerprint, other), story_id) for article_id, story_id, other in rows if article_id != exclude]
    close = [item for item in close if item[0] <= max_distance]
    return min(close)[1] if close else None


def _edited_copy(session: Session, text: str, title: str | None, since: datetime, exclude: int | None) -> int | None:
    """LSH candidates (articles sharing a band key), most shared bands first, verified."""
    minhash = signature(text)
    if minhash is None:
        return None
    keys = list(dict.fromkeys(band_keys(minhash)))
    shared: dict[int, int] = {}
    for start in range(0, len(keys), 500):
        rows = session.execute(
            select(StoryBand.article_id)
            .join(Article, Article.id == StoryBand.article_id)
            .where(StoryBand.band_key.in_(keys[start : start + 500]), Article.first_seen_at >= since)
            .limit(_MAX_BAND_ROWS)
        )
        for (article_id,) in rows:
            if article_id != exclude:
                shared[article_id] = shared.get(article_id, 0) + 1
    if not shared:
        return None
    ranked = sorted(shared, key=lambda article_id: (-shared[article_id], article_id))[:_CANDIDATES]
    mine = shingles(text)
    rows = session.execute(
        select(Article.id, Article.story_id, Article.text, Article.title)
        .where(Article.id.in_(ranked), Article.first_seen_at >= since, Article.story_id.is_not(None))
    ).all()
    by_id = {row[0]: row for row in rows}
    for article_id in ranked:
        row = by_id.get(article_id)
        if row is None or not row[2]:
            continue
        share = _containment(mine, shingles(row[2]))
        if share >= MIN_CONTAINMENT or (
            share >= MIN_CONTAINMENT_WITH_TITLE and title_similarity(title, row[3]) >= MIN_TITLE_SIMILARITY
        ):
            return row[1]
    return None


# LSH candidates verified per article, most shared bands first (copies share many); band rows
# read at most (a text of boilerplate alone could share bands with thousands).
_CANDIDATES = 20
_MAX_BAND_ROWS = 20_000


def _same_event(session: Session, telling: Telling, exclude: int | None) -> int | None:
    """An earlier article that matched one of the same rules within ``EVENT_WINDOW`` of this
    one's date and tells the same event: the same people, enough of the same words."""
    if not telling.rule_ids or not telling.text:
        return None
    names = person_names(telling.text) | person_names(telling.title or "")
    if len(names) < EVENT_MIN_NAMES:
        return None
    when = _aware(telling.published_at) or datetime.now(timezone.utc)
    lo, hi = when - EVENT_WINDOW, when + EVENT_WINDOW
    rows = session.execute(
        select(Article.id, Article.story_id, Article.text, Article.title, Article.published_at, Article.first_seen_at)
        .join(Match, Match.article_id == Article.id)
        .where(Match.rule_id.in_(sorted(telling.rule_ids)), Article.story_id.is_not(None),
               Article.first_seen_at >= lo - EVENT_WINDOW)
        .order_by(Article.id)
    ).all()
    words = set(_content_words(telling.text))
    best: tuple[float, int] | None = None
    for article_id, story_id, text, title, published_at, first_seen_at in dict.fromkeys(rows):
        if article_id == exclude or not text:
            continue
        other_when = _aware(published_at) or _aware(first_seen_at)
        if other_when is None or not lo <= other_when <= hi:
            continue
        common = names & (person_names(text) | person_names(title or ""))
        if len(common) < EVENT_MIN_NAMES:
            continue
        other_words = set(_content_words(text))
        overlap = len(words & other_words) / len(words | other_words) if words and other_words else 0.0
        if overlap >= EVENT_MIN_WORDS and (best is None or overlap > best[0]):
            best = (overlap, story_id)
    return best[1] if best else None


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _containment(first: set, second: set) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(_fold(text)) if len(w) > 2 and w not in _STOPWORDS]


def _fold(text: str) -> str:
    """Casefolded, NFKD, without combining marks (found among the distinct characters)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    marks = {ord(char): None for char in set(decomposed) if unicodedata.combining(char)}
    return decomposed.translate(marks) if marks else decomposed
