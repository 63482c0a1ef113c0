"""RuleSet: the compiled rules plus the shared scanner; the one object the pipeline calls."""

from __future__ import annotations

from functools import reduce
from itertools import repeat
from operator import or_

from .compile import CompiledRule, Compiler
from .document import DocView, Document
from .language import About, Leaf, Near, Node
from .explain import explanation, leaf_hits_for_rule, score, score_total, snippet, term_list, to_hits, why_not
from .matcher import DocContext, compile_verdict, evaluate
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
        # Which rules match() evaluates: those with a term of every required set (one per conjunct
        # of the condition) in the document; a rule that can match without any hit has none.
        # Bits of one big integer: bit ``j * width + index`` is set when required set ``j`` of
        # rule ``index`` is satisfied.  Each term carries the bits it satisfies, so one OR per
        # term found (C arithmetic) covers every rule, and rules with fewer than j+1 sets have
        # bit j set from the start.
        self._required: list[list[frozenset[int]]] = []
        for rule in rules:
            rule.matches_empty = evaluate(rule.condition, empty).passed
            required = [] if rule.matches_empty else self._requirements(rule.condition)
            self._required.append([r for r in required if r is not None])
        width = len(rules)
        depth = max([len(r) for r in self._required] + [1])
        bits_by_term: dict[int, int] = {}
        start = 0
        for index, required in enumerate(self._required):
            for j, term_ids in enumerate(required):
                bit = 1 << (j * width + index)
                for term_id in term_ids:
                    bits_by_term[term_id] = bits_by_term.get(term_id, 0) | bit
            for j in range(len(required), depth):
                start |= 1 << (j * width + index)
        self._bits_by_term = bits_by_term
        self._start_bits = start
        self._width = width
        self._depth = depth
        self._all_rules = (1 << width) - 1
        self._verdicts = [compile_verdict(rule.condition, self._requirements, frozenset(required))
                          for rule, required in zip(rules, self._required)]

    def _requirements(self, node: Node) -> list[frozenset[int] | None]:
        """Conjunction of term-id sets, one of each must be present for ``node`` to pass (None =
        unknowable, e.g. a regex)."""
        if isinstance(node, Leaf):
            if node.regexes:
                return [None]
            triggers = set(node.term_ids)
            for entity_id in node.entity_ids:
                triggers.update(self._compiler.entity_terms[entity_id].all_ids)
            return [frozenset(triggers)]
        if isinstance(node, About):  # the rival is weighed, not required
            return [r for child in node.sides for r in self._requirements(child)]
        if isinstance(node, Near) or node.op == "all":
            return [r for child in node.children for r in self._requirements(child)]
        if node.op == "none":
            return []
        union: set[int] = set()
        for child in node.children:
            parts = self._requirements(child)
            if not parts or None in parts:
                return [None]
            union.update(min(parts, key=len))
        return [frozenset(union)]

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> CompiledRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def _context(self, doc: Document) -> DocContext:
        return DocContext(DocView(doc), self._compiler, self._scanner)

    def match(self, doc: Document) -> list[RuleMatch]:
        """Rules that matched ``doc``, best score first."""
        ctx = self._context(doc)
        satisfied = reduce(or_, map(self._bits_by_term.get, ctx.present, repeat(0)), self._start_bits)
        width = self._width
        candidates = self._all_rules
        for j in range(self._depth):
            candidates &= satisfied >> (j * width)
        rules = self.rules
        verdicts = self._verdicts
        found_matches = []
        while candidates:  # lowest index first, as the rules were given
            lowest = candidates & -candidates
            candidates ^= lowest
            index = lowest.bit_length() - 1
            rule = rules[index]
            hits = verdicts[index](ctx, ())
            if hits is None:  # both must hold; the language guard (it counts words) only for rules that pass
                continue
            if rule.language == "es" and not ctx.looks_spanish():
                continue
            gate = list(dict.fromkeys(hits))
            total = score_total(rule, gate, ctx)
            if total >= rule.threshold:
                found_matches.append(self._match(rule, ctx, gate, total))
        found_matches.sort(key=_best_first)
        return found_matches

    def evaluate(self, doc: Document) -> list[RuleEvaluation]:
        """Every rule's verdict on ``doc``, with the reason it did or did not match."""
        ctx = self._context(doc)
        return [self._evaluate_rule(rule, ctx, explain_misses=True) for rule in self.rules]

    def _evaluate_rule(self, rule: CompiledRule, ctx: DocContext, explain_misses: bool = False) -> RuleEvaluation:
        if rule.language == "es" and not ctx.looks_spanish():
            return RuleEvaluation(rule.id, False, 0.0, rule.threshold,
                                  "the rule is for Spanish text and this document is not in Spanish")
        outcome = evaluate(rule.condition, ctx)
        if not outcome.passed and not explain_misses:
            return RuleEvaluation(rule.id, False, 0.0, rule.threshold, outcome.reason)
        gate = list(dict.fromkeys(outcome.hits))
        total = score_total(rule, gate, ctx)
        matched = outcome.passed and total >= rule.threshold
        if not outcome.passed:
            reason = outcome.reason
        elif not matched:
            reason = f"score {total:g} < threshold {rule.threshold:g}"
        else:
            reason = f"score {total:g} ≥ threshold {rule.threshold:g}"
        if not matched:
            return RuleEvaluation(rule.id, False, total, rule.threshold, reason)
        return RuleEvaluation(rule.id, True, total, rule.threshold, reason, self._match(rule, ctx, gate, total, reason))

    @staticmethod
    def _match(rule: CompiledRule, ctx: DocContext, gate: list, total: float, reason: str | None = None) -> RuleMatch:
        """A match whose evidence is built from ``gate`` when first read (``reason`` too, if not given)."""

        def fill() -> dict:
            why = reason if reason is not None else f"score {total:g} ≥ threshold {rule.threshold:g}"
            _, breakdown = score(rule, gate, ctx)
            hits = to_hits(gate, ctx)
            text, highlights = snippet(ctx, gate, hits)
            per_leaf = leaf_hits_for_rule(rule, ctx)
            return {
                "terms": list(dict.fromkeys(h.term for h in hits if h.kind == "term")),
                "entities": list(dict.fromkeys(h.label for h in hits if h.kind == "entity")),
                "hits": hits, "snippet": text, "snippet_highlights": highlights,
                "explanation": explanation(rule, ctx, per_leaf, total, breakdown, True, why),
                "score_breakdown": breakdown,
            }

        return RuleMatch.deferred(rule.id, rule.name, total, rule.threshold, rule.channel, rule.mode, rule.digest,
                                  fill)

    def why_not(self, doc: Document, rule_id: str) -> str:
        """In words, the condition of one rule that ``doc`` does not meet ("" when all hold)."""
        rule = self.get(rule_id)
        if rule is None:
            raise KeyError(rule_id)
        return why_not(rule, self._context(doc))

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


def _best_first(match: RuleMatch) -> tuple:
    return (-match.score, match.rule_id)
