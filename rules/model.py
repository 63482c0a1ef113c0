"""The result types other packages read: hits, matches and evaluations (plain, JSON-friendly)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar, overload


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


T = TypeVar("T")
Fill = Callable[[], dict[str, Any]]


class Evidence(Generic[T]):
    """A :class:`RuleMatch` field that may be computed on first read (see :meth:`RuleMatch.defer`).

    A descriptor-typed dataclass field, as the dataclasses documentation describes them: the
    generated ``__init__`` assigns it through :meth:`__set__`, and :meth:`__get__` on the class
    gives the field's default (``empty``: a fresh empty list; no default otherwise).  The value
    lives in the instance dictionary as ``_name``; reading or assigning it while a fill is
    pending computes every evidence field first, so none is lost."""

    def __init__(self, empty: bool = False) -> None:
        self.empty = empty
        self.private = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.private = "_" + name

    @overload
    def __get__(self, match: None, owner: type | None = None) -> T: ...

    @overload
    def __get__(self, match: RuleMatch, owner: type | None = None) -> T: ...

    def __get__(self, match: RuleMatch | None, owner: type | None = None) -> T:
        if match is None:
            if self.empty:
                return None  # type: ignore[return-value]  # the default: __set__ makes it a new list
            raise AttributeError(self.private[1:])  # no default
        if "_fill" in match.__dict__:
            match._materialise()
        value: T = match.__dict__[self.private]
        return value

    def __set__(self, match: RuleMatch, value: T) -> None:
        if "_fill" in match.__dict__:
            match._materialise()
        match.__dict__[self.private] = [] if value is None and self.empty else value


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
    digest: dict[str, str] | None
    terms: Evidence[list[str]] = Evidence()
    entities: Evidence[list[str]] = Evidence()
    hits: Evidence[list[Hit]] = Evidence()
    snippet: Evidence[str] = Evidence()
    snippet_highlights: Evidence[list[tuple[int, int]]] = Evidence()
    explanation: Evidence[str] = Evidence()
    score_breakdown: Evidence[list[dict[str, Any]]] = Evidence(empty=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form for the database (tuples become lists)."""
        data = asdict(self)
        data["snippet_highlights"] = [list(span) for span in self.snippet_highlights]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleMatch:
        """Inverse of :meth:`to_dict`, for code that reads stored matches back."""
        values = dict(data)
        values["hits"] = [Hit(**h) for h in values.get("hits", [])]
        values["snippet_highlights"] = [tuple(s) for s in values.get("snippet_highlights", [])]
        return cls(**values)

    @classmethod
    def deferred(cls, rule_id: str, rule_name: str, score: float, threshold: float, channel: str | None,
                 mode: str, digest: dict[str, str] | None, fill: Fill) -> RuleMatch:
        """``cls(rule_id, …, digest, [], [], [], "", [], "", []).defer(fill)``, without the
        generated ``__init__`` (it assigns each evidence field through its descriptor): the same
        instance dictionary, filled in one step."""
        match = cls.__new__(cls)
        match.__dict__.update({
            "rule_id": rule_id, "rule_name": rule_name, "score": score, "threshold": threshold,
            "channel": channel, "mode": mode, "digest": digest,
            "_terms": [], "_entities": [], "_hits": [], "_snippet": "", "_snippet_highlights": [],
            "_explanation": "", "_score_breakdown": [], "_fill": fill,
        })
        return match

    def defer(self, fill: Fill) -> RuleMatch:
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

    def __getstate__(self) -> dict[str, Any]:
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


@dataclass
class RuleEvaluation:
    """Every rule's verdict on a document, matched or not, with the reason in words."""

    rule_id: str
    matched: bool
    score: float
    threshold: float
    reason: str
    match: RuleMatch | None = None
