"""The rules engine's two uses pinned together on every real text we have.

``RuleSet.match`` (the crawl's path: a term prefilter, then the condition tree's verdicts) and
``RuleSet.evaluate`` (what ``vigia match`` explains: every rule, with reasons) must agree, and
``fold`` must be ``_fold_char`` (the one definition of folding) applied to each character.
These tests run the labelled dev set, the
held-out and blind fixtures and every article page of the shared corpus (Spanish or not,
extracted as the crawl extracts them) through both and compare what a user sees: which rules
matched, with what score, which hits, terms and entities, and the folded text with its
offsets back to the original.

The rules are the built-in watchlist plus a few hundred generated from the texts themselves
(as bench/match.py does, with every operator of the language), anchored on one document each
so that most of them match somewhere; a test checks that every operator takes part in some
match, so agreement cannot come from rules that never fire.

Three tests reach below the public surface on purpose (``RuleSet._prefilter``, ``_context``,
``points``/``breakdown``, ``_fold_char``): rule by rule and below the threshold too, the
prefilter derived from the nodes never skips a rule whose condition holds, the score is the sum
of its breakdown, and the fast folding paths are the per-character definition.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from rules import Document, RuleEvaluation, RuleMatch, RuleSet, load_rules
from rules.explain import breakdown, points, total
from rules.nodes import All, Any, Leaf, Node, Not
from rules.normalize import _fold_char, fold, fold_with_offsets
from rules.proximity import Near
from tests.support.corpus import CorpusPage

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
FIXTURES = Path(__file__).parent / "fixtures" / "rules"
GENERATED_RULES = 300
_WORD = re.compile(r"[^\W\d_]{4,}")
_FOLDED_WORD = re.compile(r"^[a-zñ]+$")


# -- the texts ----------------------------------------------------------------------------------

def _labelled(path: Path) -> list[tuple[str, Document]]:
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            doc = Document(record["title"], "\n\n".join(record["paragraphs"]), record.get("summary") or "")
            docs.append((f"{path.name}:{record['id']}", doc))
    return docs


def _extracted(corpus: CorpusPage) -> tuple[str, Document]:
    """One corpus page as the crawl sees it (tests.support.corpus: Scrapy's decoding without a
    charset header, trafilatura with the crawl's options), with the item's fields
    (crawler.pipelines.extract: no listing here, so the page's own title and description)."""
    page = corpus.page
    return corpus.file, Document(title=page.title or "", text="\n\n".join(page.paragraphs), summary=page.description or "")


# Session, not module, scope: under xdist a worker leaves a module and comes back to it, and a
# module fixture would be built again each time (these take most of a minute).
@pytest.fixture(scope="session")
def texts(corpus_pages: tuple[CorpusPage, ...]) -> list[tuple[str, Document]]:
    if not (SHARED / "labelled" / "dev.jsonl").is_file() or not (CORPUS / "manifest.json").is_file():
        pytest.fail(f"the shared data folder is missing: expected it at {SHARED}")
    docs = _labelled(SHARED / "labelled" / "dev.jsonl")
    for path in sorted(FIXTURES.glob("*.jsonl")):
        docs += _labelled(path)
    docs += [_extracted(page) for page in corpus_pages]
    assert len(corpus_pages) == 225 and sum(1 for _, d in docs if d.text) > 300
    return docs


# -- the rules ----------------------------------------------------------------------------------

def _entity_ids() -> list[str]:
    catalogue = yaml.safe_load((REPO / "rules" / "watchlists" / "entities.yaml").read_text(encoding="utf-8"))
    return [entity["id"] for entity in catalogue["entities"]]


def generated_rules(docs: list[Document], count: int, seed: int = 11) -> list[dict]:
    """Rules shaped like an analyst's, one operator mix per shape, each built from the words of
    one document (so it matches that one at least, unless its threshold or language says no)."""
    rng = random.Random(seed)
    entity_ids = _entity_ids()
    groups = ["mx-officials", "us-officials", "us-agencies", "mx-institutions"]
    anchors = [d for d in docs if len(_WORD.findall(d.text)) >= 40]
    rules: list[dict] = []
    for index in range(count):
        doc = rng.choice(anchors)
        paragraphs = [p for p in doc.text.split("\n\n") if len(_WORD.findall(p)) >= 6] or [doc.text]
        paragraph = rng.choice(paragraphs)
        words = sorted(set(w.lower() for w in _WORD.findall(doc.text)))
        near_words = _WORD.findall(paragraph.lower())

        def pick(n: int, pool: list[str] = words) -> list[str]:
            return rng.sample(pool, min(n, len(pool)))

        shape = index % 10
        rule: dict = {"id": f"gen-{index}", "threshold": rng.choice([1, 2, 3])}
        if index % 7 == 0:
            rule["language"] = "es"
        if shape == 0:  # topic words AND a context word
            rule["all"] = [{"any": pick(4)}, {"any": pick(3)}]
        elif shape == 1:  # stems and wildcards
            rule["all"] = [{"stems": pick(2)}, {"terms": [w[:5] + "*" for w in pick(2)]}]
        elif shape == 2:  # two words close together, without two others
            start = rng.randrange(max(1, len(near_words) - 3))
            rule["near"] = {"terms": [[near_words[start]], [near_words[min(start + 2, len(near_words) - 1)]]],
                            "within": rng.choice([3, 5, 10])}
            rule["none"] = pick(2)
        elif shape == 3:  # an entity group and a topic
            rule["all"] = [{"entity_groups": [rng.choice(groups)]}, {"any": pick(6)}]
        elif shape == 4:  # words in one sentence
            sentence = max(re.split(r"(?<=[.!?])\s+", paragraph), key=len)
            found = _WORD.findall(sentence.lower()) or near_words
            rule["near"] = {"all": [{"terms": pick(2, found)}, {"stems": pick(2, found)}],
                            "unit": "sentence", "within": 1}
        elif shape == 5:  # at least two of five
            rule["any"] = pick(3) + rng.sample(_WORD.findall(rng.choice(docs).text.lower()) or words, 1) + pick(1)
            rule["min"] = rng.choice([2, 3])
        elif shape == 6:  # words in the same paragraph (or the next)
            rule["near"] = {"terms": [pick(2, near_words), pick(2, near_words)], "unit": "paragraph",
                            "within": rng.choice([1, 2])}
        elif shape == 7:  # a word except inside the phrase it starts
            position = rng.randrange(max(1, len(near_words) - 1))
            word = near_words[position]
            phrase = " ".join(near_words[position:position + 2])
            rule["all"] = [{"terms": [word] + pick(1), "except": [phrase]}, {"any": pick(5)}]
        elif shape == 8:  # a regex on the folded text
            plain = [f for f in (fold(w) for w in pick(8)) if _FOLDED_WORD.match(f)] or ["zzzz"]
            rule["all"] = [{"regex": f"(?:{'|'.join(plain[:3])}) \\w+"}, {"any": pick(4)}]
        else:  # named entities by id, weighted
            rule["all"] = [{"entities": rng.sample(entity_ids, 20), "weight": 2}, {"any": pick(6)}]
        rules.append(rule)
    return rules


@pytest.fixture(scope="session")
def ruleset(texts: list[tuple[str, Document]]) -> RuleSet:
    docs = [doc for _, doc in texts]
    return load_rules([{"builtin": "mx-us-security"}] + generated_rules(docs, GENERATED_RULES), REPO, "<differential>")


@dataclass
class Run:
    name: str
    doc: Document
    matches: list[RuleMatch]
    evaluations: list[RuleEvaluation]


@pytest.fixture(scope="session")
def runs(texts: list[tuple[str, Document]], ruleset: RuleSet) -> list[Run]:
    return [Run(name, doc, ruleset.match(doc), ruleset.evaluate(doc)) for name, doc in texts]


# -- folding ------------------------------------------------------------------------------------

def _fields(doc: Document) -> Iterator[tuple[str, str]]:
    yield "title", doc.title
    yield "summary", doc.summary
    yield "text", doc.text


class _PerCharacter(dict):
    """``_fold_char`` of each character, computed once per distinct character (the reference is
    per character, so this is the same thing, just not recomputed for every letter of 400 texts)."""

    def __missing__(self, char: str) -> str:
        value = self[char] = _fold_char(char)
        return value


def test_fold_is_fold_char_applied_to_each_character(texts: list[tuple[str, Document]]) -> None:
    per_char = _PerCharacter()
    wrong = []
    for name, doc in texts:
        for field, original in _fields(doc):
            reference = "".join(map(per_char.__getitem__, original))
            folded = fold(original)
            if folded != reference:
                at = next((i for i, (a, b) in enumerate(zip(folded, reference)) if a != b),
                          min(len(folded), len(reference)))
                wrong.append((name, field, at, folded[at:at + 12], reference[at:at + 12]))
    assert wrong == []


def test_fold_with_offsets_maps_each_folded_character_to_its_original(texts: list[tuple[str, Document]]) -> None:
    """``offsets[i]`` is the original index of folded character ``i`` (None: the identity)."""
    per_char = _PerCharacter()
    wrong = []
    lengths_changed = 0
    for name, doc in texts:
        for field, original in _fields(doc):
            folded, offsets = fold_with_offsets(original)
            widths = [len(per_char[c]) for c in original]
            if offsets is None:
                ok = folded == fold(original) and all(width == 1 for width in widths)
            else:
                lengths_changed += 1
                expected = [i for i, width in enumerate(widths) for _ in range(width)] + [len(original)]
                ok = folded == fold(original) and offsets == expected
            if not ok:
                wrong.append((name, field))
    assert lengths_changed > 0  # German ß, Turkish İ…: the offset map itself is exercised
    assert wrong == []


# -- verdicts, scores, hits ---------------------------------------------------------------------

def _by_score(evaluations: list[RuleEvaluation]) -> list[RuleEvaluation]:
    return sorted((e for e in evaluations if e.matched), key=lambda e: (-e.score, e.rule_id))


def test_match_and_evaluate_find_the_same_rules_with_the_same_scores(runs: list[Run]) -> None:
    wrong = []
    for run in runs:
        found = [(m.rule_id, m.score) for m in run.matches]
        explained = [(e.rule_id, e.score) for e in _by_score(run.evaluations)]
        if found != explained:
            wrong.append((run.name, sorted(set(found) ^ set(explained))))
    assert wrong == []


def test_match_and_evaluate_report_the_same_evidence(runs: list[Run]) -> None:
    """Hits, terms, entities, snippet, breakdown and explanation: everything stored and posted."""
    wrong = []
    for run in runs:
        explained = {e.rule_id: e.match for e in run.evaluations if e.matched}
        for match in run.matches:
            reference = explained.get(match.rule_id)
            if reference is None or match.to_dict() != reference.to_dict():
                wrong.append((run.name, match.rule_id))
    assert wrong == []


def test_every_hit_points_at_its_text_in_the_original(runs: list[Run]) -> None:
    wrong = []
    for run in runs:
        for match in run.matches:
            for hit in match.hits:
                if getattr(run.doc, hit.field)[hit.start:hit.end] != hit.term:
                    wrong.append((run.name, match.rule_id, hit))
    assert wrong == []


def test_the_prefilter_and_the_score_agree_with_the_condition_tree(
        texts: list[tuple[str, Document]], ruleset: RuleSet) -> None:
    """Rule by rule, below the threshold too: a rule whose condition holds is among the
    prefilter's candidates (a wrong requirement would skip it in the crawl while `vigia match`
    says MATCH), and its score is the sum of the breakdown the explanation shows."""
    wrong = []
    passed = 0
    for name, doc in texts:
        ctx = ruleset._context(doc)
        candidates = set(ruleset._prefilter.candidates(ctx.present))
        for index, rule in enumerate(ruleset.rules):
            hits = rule.condition.hits(ctx)
            if hits is None:
                continue
            passed += 1
            if index not in candidates:
                wrong.append((name, rule.id, "prefilter"))
            best = points(rule, list(dict.fromkeys(hits)), ctx)
            parts = breakdown(best, ctx)
            if total(best) != round(sum(item["points"] for item in parts), 3):
                wrong.append((name, rule.id, "score", total(best)))
    assert passed > 1000
    assert wrong == []


# -- the rules really exercise the language -----------------------------------------------------

def _operators(node: Node) -> Iterator[str]:
    if isinstance(node, Leaf):
        modes = {pattern.mode for pattern in node.patterns}
        yield from (name for mode, name in (("exact", "terms"), ("stem", "stems"), ("prefix", "wildcards"))
                    if mode in modes)
        if node.excepts:
            yield "except"
        if node.regexes:
            yield "regex"
        if node.entities:
            yield "entities"
        if node.entity_groups:
            yield "entity_groups"
        return
    if isinstance(node, Near):
        yield f"near/{node.unit}"
    elif isinstance(node, Any):
        yield "any(min)" if node.min > 1 else "any"
    elif isinstance(node, Not):
        yield "none"
    elif isinstance(node, All) and len(node.children) > 1:
        yield "all"
    for child in node.children:
        yield from _operators(child)


OPERATORS = {"all", "any", "any(min)", "none", "near/words", "near/sentences", "near/paragraphs", "except",
             "regex", "terms", "stems", "wildcards", "entities", "entity_groups"}


def test_every_operator_takes_part_in_some_match(runs: list[Run], ruleset: RuleSet) -> None:
    matched = {m.rule_id for run in runs for m in run.matches}
    seen = {op for rule in ruleset.rules if rule.id in matched for op in _operators(rule.condition)}
    assert OPERATORS - seen == set()
    generated = {rule_id for rule_id in matched if rule_id.startswith("gen-")}
    assert len(generated) > GENERATED_RULES // 2
    assert "mx-us-security" in matched
    # the Spanish guard is exercised both ways: a Spanish-only rule matched and one was refused
    reasons = {e.reason for run in runs for e in run.evaluations}
    assert "the rule is for Spanish text and this document is not in Spanish" in reasons
    assert any(run.matches and ruleset.get(m.rule_id).language == "es" for run in runs for m in run.matches)
