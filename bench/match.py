"""Matching throughput: the built-in watchlist plus 500 generated rules over real article texts.

Prints documents per second on one core (the goal is ≥ 2,000/s); never asserts.  Texts are the
labelled dev set plus the ground-truth text of the Spanish pages of the shared corpus.

    python bench/match.py [--rules 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import html
import json
import pathlib
import random
import re
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rules import Document, load_rules

SHARED = ROOT.parent / "shared"
_TAG = re.compile(r"<[^>]+>")


def dev_documents() -> list[Document]:
    path = SHARED / "labelled" / "dev.jsonl"
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            docs.append(Document(record["title"], "\n\n".join(record["paragraphs"]), record.get("summary") or ""))
    return docs


def corpus_documents() -> list[Document]:
    """Spanish pages' ground truth, whatever shape each source project stored it in."""
    docs = []
    for sidecar in sorted((SHARED / "corpus" / "articles").glob("*/*.json")):
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        truth = meta.get("ground_truth")
        if meta.get("language") != "es" or not isinstance(truth, dict):
            continue
        title, summary, paragraphs = truth.get("title") or "", "", []
        if "body" in truth:  # fundus
            summary = " ".join(truth["body"].get("summary") or [])
            for section in truth["body"].get("sections") or []:
                paragraphs.extend(section.get("paragraphs") or [])
        elif "expected_text" in truth:  # newspaper4k
            paragraphs = truth["expected_text"].split("\n")
            title = (truth.get("expected_metadata") or {}).get("title") or ""
        elif "expected" in truth:  # goose3
            paragraphs = (truth["expected"].get("cleaned_text") or "").split("\n")
            title = truth["expected"].get("title") or ""
        elif "expected_content_html" in truth:  # readability
            text = html.unescape(_TAG.sub("\n", truth["expected_content_html"]))
            paragraphs = text.split("\n")
            title = (truth.get("expected_metadata") or {}).get("title") or ""
        elif "articleBody" in truth:
            paragraphs = truth["articleBody"].split("\n")
        elif "with" in truth:  # trafilatura: snippets that must be in the main text
            paragraphs = list(truth.get("with") or [])
            summary = truth.get("description") or ""
        paragraphs = [p.strip() for p in paragraphs if p and p.strip()]
        if paragraphs:
            docs.append(Document(title, "\n\n".join(paragraphs), summary))
    return docs


def generated_rules(count: int, docs: list[Document], seed: int = 7) -> list[dict]:
    """Rules shaped like an analyst's: phrases, stems, wildcards, groups, proximity, entities."""
    rng = random.Random(seed)
    words = sorted({w for d in docs for w in re.findall(r"[^\W\d_]{5,}", d.text.lower())})
    pairs = []
    for d in docs:
        tokens = re.findall(r"[^\W\d_]+", d.text.lower())
        pairs.extend(" ".join(tokens[i:i + 2]) for i in range(0, len(tokens) - 1, 37))
    entity_groups = ["mx-officials", "us-officials", "us-agencies", "mx-institutions"]
    rules = []
    for index in range(count):
        def pick(n: int) -> list[str]:
            return rng.sample(words, n)
        shape = index % 5
        rule: dict = {"id": f"gen-{index}", "threshold": rng.choice([1, 2, 3])}
        if shape == 0:  # topic words AND a context word, as analysts write them
            rule["all"] = [{"any": pick(4) + rng.sample(pairs, 1)}, {"any": pick(3)}]
        elif shape == 1:
            rule["all"] = [{"stems": pick(3)}, {"terms": [w[:5] + "*" for w in pick(2)]}]
        elif shape == 2:
            rule["near"] = {"terms": [pick(2), pick(2)], "within": rng.choice([5, 10, 20])}
            rule["none"] = pick(2)
        elif shape == 3:
            rule["all"] = [{"entity_groups": [rng.choice(entity_groups)]}, {"any": pick(4)}]
        else:
            rule["near"] = {"all": [{"terms": pick(3)}, {"stems": pick(2)}], "unit": "sentence", "within": 1}
            rule["channel"] = "#gen"
        rules.append(rule)
    return rules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    docs = dev_documents() + corpus_documents()
    started = time.perf_counter()
    ruleset = load_rules([{"builtin": "mx-us-security"}] + generated_rules(args.rules, docs), ROOT, "<bench>")
    compile_seconds = time.perf_counter() - started
    chars = sum(len(d.title) + len(d.summary) + len(d.text) for d in docs)
    print(f"{len(docs)} documents (avg {chars // len(docs)} chars), {len(ruleset.rules)} rules, "
          f"compiled in {compile_seconds * 1000:.0f} ms")
    ruleset.match(docs[0])  # warm caches as a long-running daemon would have them
    matches = 0
    best = best_cpu = float("inf")
    for _ in range(args.rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        for doc in docs:
            matches += len(ruleset.match(doc))
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
    print(f"match(): {len(docs) / best:,.0f} documents/s on one core "
          f"({best / len(docs) * 1e6:.0f} µs per document, best of {args.rounds}; "
          f"{matches / args.rounds / len(docs):.1f} rule matches per document)")
    # on a shared machine the wall clock counts other processes' turns: the CPU time does not
    print(f"match(), CPU time: {len(docs) / best_cpu:,.0f} documents/s ({best_cpu / len(docs) * 1e6:.0f} µs per document)")
    started = time.perf_counter()
    for doc in docs:
        ruleset.evaluate(doc)
    elapsed = time.perf_counter() - started
    print(f"evaluate() (every rule explained): {len(docs) / elapsed:,.0f} documents/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
