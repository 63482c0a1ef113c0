"""Precision and recall of the built-in watchlist on the labelled dev set (prints, never asserts).

Syndicated copies (same ``group``) count as one story: the story is predicted relevant when any
copy matches.  Foreign-language copies are labelled not relevant and must not match.

    python bench/quality.py [--file PATH] [--watchlist NAME] [--verbose]

``--file`` (alias ``--labelled``) defaults to ``../shared/labelled/dev.jsonl``; the held-out set
written after the watchlist was tuned is ``tests/fixtures/rules/heldout.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rules import Document, load_rules  # noqa: E402

SHARED = ROOT.parent / "shared"


def document(record: dict) -> Document:
    return Document(title=record.get("title", ""), text="\n\n".join(record.get("paragraphs", [])),
                    summary=record.get("summary", "") or "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", "--labelled", dest="labelled", type=pathlib.Path, default=SHARED / "labelled" / "dev.jsonl")
    parser.add_argument("--watchlist", default="mx-us-security")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every article's verdict")
    args = parser.parse_args(argv)

    ruleset = load_rules([{"builtin": args.watchlist}], ROOT)
    records = [json.loads(line) for line in args.labelled.read_text(encoding="utf-8").splitlines() if line.strip()]
    stories: dict[str, dict] = {}
    wrong: list[str] = []
    for record in records:
        evaluations = ruleset.evaluate(document(record))
        matched = any(e.matched for e in evaluations)
        best = max(evaluations, key=lambda e: (e.matched, e.score))
        key = record.get("group") or record["id"]
        story = stories.setdefault(key, {"relevant": bool(record["relevant"]), "matched": False})
        story["matched"] = story["matched"] or matched
        story["relevant"] = story["relevant"] or bool(record["relevant"])
        if matched != bool(record["relevant"]):
            label = "false positive" if matched else "false negative"
            wrong.append(f"  {record['id']} [{record.get('category')}] {label}: {best.reason} — {record['title'][:70]}")
        if args.verbose:
            print(f"{record['id']} relevant={record['relevant']!s:5} matched={matched!s:5} score={best.score:g} {best.reason}")

    tp = sum(1 for s in stories.values() if s["relevant"] and s["matched"])
    fp = sum(1 for s in stories.values() if not s["relevant"] and s["matched"])
    fn = sum(1 for s in stories.values() if s["relevant"] and not s["matched"])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"watchlist {args.watchlist} on {args.labelled.name}: {len(records)} articles, {len(stories)} stories")
    print(f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  (tp {tp}, fp {fp}, fn {fn})")
    seed = SHARED / "seed-article.txt"
    if seed.is_file():
        lines = seed.read_text(encoding="utf-8").strip().split("\n", 1)
        seed_doc = Document(title=lines[0][:120], text=lines[1] if len(lines) > 1 else lines[0])
        print(f"seed article matches: {bool(ruleset.match(seed_doc))}")
    print("misclassified:" if wrong else "misclassified: none")
    for line in wrong:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
