"""The result types other packages read: hits, matches and evaluations (plain, JSON-friendly)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable


@dataclass
class Hit:
    """One place a term or entity fired; offsets are into the original, un-normalised field."""

    field: str
    start: int
    end: int
    term: str
    kind: str   # "term" | "entity"
    label: str  # entity canonical name, or the name of the term group
    role: str = "decisive"  # "context" when only `role: context` leaves found it (a weak word)


@dataclass
class RuleMatch:
    """A rule that matched.  The evidence fields (:data:`DEFERRED`: terms, hits, snippet,
    explanation…) may be filled on first read, see :meth:`defer`; to the reader they are plain fields."""

    rule_id: str
    rule_name: str
    score: float
    threshold: float
    channel: str | None
    mode: str
    digest: dict | None
    terms: list[str]
    entities: list[str]
    hits: list[Hit]
    snippet: str
    snippet_highlights: list[tuple[int, int]]
    explanation: str
    score_breakdown: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-serialisable form for the database (tuples become lists)."""
        data = asdict(self)
        data["snippet_highlights"] = [list(span) for span in self.snippet_highlights]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "RuleMatch":
        """Inverse of :meth:`to_dict`, for code that reads stored matches back."""
        values = dict(data)
        values["hits"] = [Hit(**h) for h in values.get("hits", [])]
        values["snippet_highlights"] = [tuple(s) for s in values.get("snippet_highlights", [])]
        return cls(**values)

    @classmethod
    def deferred(cls, rule_id: str, rule_name: str, score: float, threshold: float, channel: str | None,
                 mode: str, digest: dict | None, fill: Callable[[], dict]) -> "RuleMatch":
        """``cls(rule_id, …, digest, [], [], [], "", [], "", []).defer(fill)``, without the
        generated ``__init__`` (it assigns each evidence field through its property): the same
        instance dictionary, filled in one step."""
        match = cls.__new__(cls)
        match.__dict__.update({
            "rule_id": rule_id, "rule_name": rule_name, "score": score, "threshold": threshold,
            "channel": channel, "mode": mode, "digest": digest,
            "_terms": [], "_entities": [], "_hits": [], "_snippet": "", "_snippet_highlights": [],
            "_explanation": "", "_score_breakdown": [], "_fill": fill,
        })
        return match

    def defer(self, fill: Callable[[], dict]) -> "RuleMatch":
        """Compute the evidence fields (:data:`DEFERRED`) with ``fill()`` when one is first read."""
        self.__dict__["_fill"] = fill
        return self

    def _materialise(self) -> None:
        fill = self.__dict__.pop("_fill", None)
        if fill is not None:
            values = fill()
            if "terms" in values and "hits" in values:
                values["terms"] = decisive_first(values["terms"], values["hits"])
            self.__dict__.update({"_" + name: value for name, value in values.items()})

    def __getstate__(self) -> dict:
        """Pickle and copy the filled-in values, never the closure that computes them."""
        self._materialise()
        return dict(self.__dict__)


def decisive_first(terms: list[str], hits: list[Hit]) -> list[str]:
    """``terms`` with the words only context leaves found (``role: context``: place names,
    "reunión", "seguridad"…) moved after the decisive ones, each part keeping its order."""
    decisive = {h.term for h in hits if h.kind == "term" and h.role != "context"}
    return [t for t in terms if t in decisive] + [t for t in terms if t not in decisive]


# What a match found, as opposed to which rule and how much it scored: built on first read, since
# most matches are only counted or routed, and `to_dict()` (what is stored) reads them all.
DEFERRED = ("terms", "entities", "hits", "snippet", "snippet_highlights", "explanation", "score_breakdown")


def _deferred(name: str) -> property:
    """A dataclass field stored as ``_name`` and computed on first read if the match was deferred.
    Assigning it (the generated ``__init__`` does) stores the value; assigning after a deferral
    computes the others first so they are not lost."""
    private = "_" + name

    def get(self: RuleMatch):
        if "_fill" in self.__dict__:
            self._materialise()
        return self.__dict__[private]

    def set(self: RuleMatch, value) -> None:
        if "_fill" in self.__dict__:
            self._materialise()
        self.__dict__[private] = value

    return property(get, set)


for _name in DEFERRED:
    setattr(RuleMatch, _name, _deferred(_name))


@dataclass
class RuleEvaluation:
    """Every rule's verdict on a document, matched or not, with the reason in words."""

    rule_id: str
    matched: bool
    score: float
    threshold: float
    reason: str
    match: RuleMatch | None = None
