"""RuleSet: the compiled rules plus the shared scanner; the one object the pipeline calls.

``match`` (the crawl) and ``evaluate`` (``vigia match``) are two uses of the same condition tree
and the same scoring: ``match`` asks only the rules the prefilter lets through and never builds a
reason; ``evaluate`` asks every rule and says why each one did not match.
"""

from __future__ import annotations

from .compile import CompiledRule, Compiler
from .document import Document, DocView
from .explain import (
    NOT_SPANISH,
    breakdown,
    explanation,
    points,
    refused_by_language,
    snippet,
    to_hits,
    total,
    why_not,
)
from .matcher import DocContext, Found
from .model import RuleEvaluation, RuleMatch
from .prefilter import Prefilter
from .terms import Scanner


class RuleSet:
    """Compiled rules sharing one Aho-Corasick automaton; cheap to call for every article."""

    def __init__(self, rules: list[CompiledRule], compiler: Compiler) -> None:
        self.rules = rules
        self._compiler = compiler
        compiler.table.build()
        self._scanner = Scanner(compiler.table)
        empty = self._context(Document("", ""))
        # a rule that can match without any hit (only `none`, say) requires nothing
        required = []
        for rule in rules:
            rule.matches_empty = rule.condition.hits(empty) is not None
            needs = [] if rule.matches_empty else rule.condition.requires()
            required.append(list(dict.fromkeys(need for need in needs if need is not None)))
        self._prefilter = Prefilter(required)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> CompiledRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def _context(self, doc: Document) -> DocContext:
        return DocContext(DocView(doc), self._compiler, self._scanner)

    def match(self, doc: Document) -> list[RuleMatch]:
        """Rules that matched ``doc``, best score first."""
        ctx = self._context(doc)
        found = []
        for index in self._prefilter.candidates(ctx.present):  # as the rules were given
            rule = self.rules[index]
            hits = rule.condition.hits(ctx)
            # the language guard counts words: asked only of the rules that pass
            if hits is None or refused_by_language(rule, ctx):
                continue
            # a hit found twice scores once whatever the order (points keeps the first of equals),
            # so the hits go to points as found; the evidence is built from them only when read
            score = total(points(rule, hits, ctx))
            if score >= rule.threshold:
                found.append(_match(rule, ctx, hits, score))
        found.sort(key=lambda match: (-match.score, match.rule_id))
        return found

    def evaluate(self, doc: Document) -> list[RuleEvaluation]:
        """Every rule's verdict on ``doc``, with the reason it did or did not match."""
        ctx = self._context(doc)
        return [_evaluate_rule(rule, ctx) for rule in self.rules]

    def why_not(self, doc: Document, rule_id: str) -> str:
        """In words, the condition of one rule that ``doc`` does not meet ("" when all hold)."""
        return why_not(self._rule(rule_id), self._context(doc))

    def explain(self, doc: Document, rule_id: str) -> str:
        """The explanation text for one rule, matched or not (for `vigia match`)."""
        ctx = self._context(doc)
        rule = self._rule(rule_id)
        evaluation = _evaluate_rule(rule, ctx)
        if evaluation.match is not None:
            return evaluation.match.explanation
        return explanation(rule, ctx, evaluation.score, [], False, evaluation.reason)

    def _rule(self, rule_id: str) -> CompiledRule:
        rule = self.get(rule_id)
        if rule is None:
            raise KeyError(rule_id)
        return rule


def _evaluate_rule(rule: CompiledRule, ctx: DocContext) -> RuleEvaluation:
    if refused_by_language(rule, ctx):
        return RuleEvaluation(rule.id, False, 0.0, rule.threshold, NOT_SPANISH)
    hits = rule.condition.hits(ctx)
    gate = list(dict.fromkeys(hits)) if hits is not None else []
    score = total(points(rule, gate, ctx))
    if hits is None:
        return RuleEvaluation(rule.id, False, score, rule.threshold, rule.condition.reason(ctx))
    if score < rule.threshold:
        return RuleEvaluation(rule.id, False, score, rule.threshold, f"score {score:g} < threshold {rule.threshold:g}")
    return RuleEvaluation(rule.id, True, score, rule.threshold, _matched(rule, score), _match(rule, ctx, gate, score))


def _matched(rule: CompiledRule, score: float) -> str:
    return f"score {score:g} ≥ threshold {rule.threshold:g}"


def _match(rule: CompiledRule, ctx: DocContext, found: list[Found], score: float) -> RuleMatch:
    """A match whose evidence is built from the condition's hits (``found``) when first read."""

    def fill() -> dict[str, object]:
        gate = list(dict.fromkeys(found))
        score_parts = breakdown(points(rule, gate, ctx), ctx)
        hits = to_hits(gate, ctx)
        text, highlights = snippet(ctx, gate, hits)
        return {
            "terms": list(dict.fromkeys(h.term for h in hits if h.kind == "term")),
            "entities": list(dict.fromkeys(h.label for h in hits if h.kind == "entity")),
            "hits": hits, "snippet": text, "snippet_highlights": highlights,
            "explanation": explanation(rule, ctx, score, score_parts, True, _matched(rule, score)),
            "score_breakdown": score_parts,
        }

    return RuleMatch.deferred(rule.id, rule.name, score, rule.threshold, rule.channel, rule.mode, rule.digest, fill)
