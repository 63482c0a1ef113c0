"""RuleSet: the compiled rules plus the shared scanner; the one object the pipeline calls."""

from __future__ import annotations

from .compile import CompiledRule, Compiler
from .document import DocView, Document
from .explain import explanation, leaf_hits_for_rule, score, snippet, to_hits
from .matcher import DocContext, evaluate
from .model import RuleEvaluation, RuleMatch
from .terms import Scanner


class RuleSet:
    """Compiled rules sharing one Aho-Corasick automaton; cheap to call for every article."""

    def __init__(self, rules: list[CompiledRule], compiler: Compiler) -> None:
        self.rules = rules
        self._compiler = compiler
        compiler.table.build()
        self._scanner = Scanner(compiler.table)
        empty = DocContext(DocView(Document("", "")), compiler, self._scanner)
        for rule in rules:
            rule.matches_empty = evaluate(rule.condition, empty).passed

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
        for rule in self.rules:
            if not rule.matches_empty and not self._has_hits(rule, ctx):
                continue
            result = self._evaluate_rule(rule, ctx)
            if result.matched:
                found.append(result.match)
        found.sort(key=lambda m: (-m.score, m.rule_id))
        return found

    def evaluate(self, doc: Document) -> list[RuleEvaluation]:
        """Every rule's verdict on ``doc``, with the reason it did or did not match."""
        ctx = self._context(doc)
        return [self._evaluate_rule(rule, ctx, explain_misses=True) for rule in self.rules]

    @staticmethod
    def _has_hits(rule: CompiledRule, ctx: DocContext) -> bool:
        for leaf in rule.leaves:
            if id(leaf) in rule.none_leaves:
                continue
            if leaf.regexes or leaf.entity_ids:
                return True
            if ctx.any_term(leaf.term_ids):
                return True
        return False

    def _evaluate_rule(self, rule: CompiledRule, ctx: DocContext, explain_misses: bool = False) -> RuleEvaluation:
        if rule.language == "es" and not ctx.looks_spanish():
            return RuleEvaluation(rule.id, False, 0.0, rule.threshold,
                                  "the rule is for Spanish text and this document is not in Spanish")
        outcome = evaluate(rule.condition, ctx)
        if not outcome.passed and not explain_misses:
            return RuleEvaluation(rule.id, False, 0.0, rule.threshold, outcome.reason)
        per_leaf = leaf_hits_for_rule(rule, ctx)
        gate = list(dict.fromkeys(outcome.hits))
        total, breakdown = score(rule, gate, ctx)
        matched = outcome.passed and total >= rule.threshold
        if not outcome.passed:
            reason = outcome.reason
        elif not matched:
            reason = f"score {total:g} < threshold {rule.threshold:g}"
        else:
            reason = f"score {total:g} ≥ threshold {rule.threshold:g}"
        if not matched:
            return RuleEvaluation(rule.id, False, total, rule.threshold, reason)
        hits = to_hits(gate, ctx)
        text, highlights = snippet(ctx, gate, hits)
        terms = list(dict.fromkeys(h.term for h in hits if h.kind == "term"))
        entities = list(dict.fromkeys(h.label for h in hits if h.kind == "entity"))
        match = RuleMatch(rule.id, rule.name, total, rule.threshold, rule.channel, rule.mode, rule.digest,
                          terms, entities, hits, text, highlights,
                          explanation(rule, ctx, per_leaf, total, breakdown, True, reason), breakdown)
        return RuleEvaluation(rule.id, True, total, rule.threshold, reason, match)

    def explain(self, doc: Document, rule_id: str) -> str:
        """The explanation text for one rule, matched or not (for `vigia match`)."""
        ctx = self._context(doc)
        rule = self.get(rule_id)
        if rule is None:
            raise KeyError(rule_id)
        evaluation = self._evaluate_rule(rule, ctx, explain_misses=True)
        if evaluation.match is not None:
            return evaluation.match.explanation
        per_leaf = leaf_hits_for_rule(rule, ctx)
        return explanation(rule, ctx, per_leaf, evaluation.score, [], False, evaluation.reason)
