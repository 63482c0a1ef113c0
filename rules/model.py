"""The result types other packages read: hits, matches and evaluations (plain, JSON-friendly)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Hit:
    """One place a term or entity fired; offsets are into the original, un-normalised field."""

    field: str
    start: int
    end: int
    term: str
    kind: str   # "term" | "entity"
    label: str  # entity canonical name, or the name of the term group


@dataclass
class RuleMatch:
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


@dataclass
class RuleEvaluation:
    """Every rule's verdict on a document, matched or not, with the reason in words."""

    rule_id: str
    matched: bool
    score: float
    threshold: float
    reason: str
    match: RuleMatch | None = None
