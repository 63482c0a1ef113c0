"""Precision and recall of the built-in watchlist on the labelled dev set (prints, never asserts).

Syndicated copies (same ``group``) count as one story: the story is predicted relevant when any
copy matches.  Foreign-language copies are labelled not relevant and must not match.

    python bench/quality.py [--file PATH] [--watchlist NAME] [--verbose]
    python bench/quality.py --corpus [DIR]

``--file`` (alias ``--labelled``) defaults to ``../shared/labelled/dev.jsonl``; the held-out set
written after the watchlist was tuned is ``tests/fixtures/rules/heldout.jsonl``; the sets written
from real news for issue 12 are ``tests/fixtures/rules/realnews-tuning.jsonl`` and
``tests/fixtures/rules/realnews-heldout.jsonl``.

``--corpus`` extracts every HTML page under DIR (default ``../shared/corpus/articles``) as the
crawl does (crawler/extraction.py, the feed summary being the page's description) and prints the
pages that alert (none is relevant there: they are third-party pages on other topics) and the
Spanish pages that come out without text.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rules import Document, load_rules

SHARED = ROOT.parent / "shared"


def document(record: dict) -> Document:
    return Document(title=record.get("title", ""), text="\n\n".join(record.get("paragraphs", [])),
                    summary=record.get("summary", "") or "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", "--labelled", dest="labelled", type=pathlib.Path, default=SHARED / "labelled" / "dev.jsonl")
    parser.add_argument("--watchlist", default="mx-us-security")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every article's verdict")
    parser.add_argument("--corpus", nargs="?", const=SHARED / "corpus" / "articles", type=pathlib.Path,
                        help="count alerts on real pages instead (default ../shared/corpus/articles)")
    args = parser.parse_args(argv)

    ruleset = load_rules([{"builtin": args.watchlist}], ROOT)
    if args.corpus is not None:
        return corpus(ruleset, args.corpus, args.verbose)
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


def corpus(ruleset, folder: pathlib.Path, verbose: bool) -> int:
    """Alerts on real pages nobody labelled relevant, and Spanish pages stored without text."""
    from crawler.extraction import extract_article

    pages = sorted(folder.rglob("*.html"))
    alerts: list[str] = []
    empty: list[str] = []
    spanish = 0
    for path in pages:
        sidecar = path.with_suffix(".json")
        meta = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else {}
        html = path.read_bytes().decode("utf-8", "replace")
        extracted = extract_article(html, meta.get("url") or f"http://localhost/{path.name}")
        doc = Document(title=extracted.title or "", text="\n\n".join(extracted.paragraphs),
                       summary=extracted.description or "")
        if meta.get("language") == "es":
            spanish += 1
            if not extracted.paragraphs:
                empty.append(str(path.relative_to(folder)))
        for match in ruleset.match(doc):
            alerts.append(f"  {path.relative_to(folder)}: {match.rule_id} score {match.score:g} — {doc.title[:70]}")
            if verbose:
                print(match.explanation)
    print(f"watchlist on {len(pages)} corpus pages ({spanish} Spanish): {len(alerts)} alerts, "
          f"{len(empty)} Spanish pages without text")
    for line in alerts:
        print(line)
    for name in empty:
        print(f"  no text: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
