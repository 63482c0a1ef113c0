"""Rule regexes: RE2 (what rules use) against Python's re, over the folded texts bench/match.py uses.

Prints microseconds per document for a few typical rule regexes on both engines, then the time RE2
takes for ``(a+)+$`` on a hostile 1 MB page of "aaaa…b" (Python's re would not finish). Never asserts.

    python bench/rule_regexes.py

(Not ``bench/regex.py``: a script's folder comes first on sys.path, and that name hid the
``regex`` package from dateparser in every other bench script.)
"""

from __future__ import annotations

import pathlib
import re
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from match import corpus_documents, dev_documents

from rules.linear_regex import compile_linear
from rules.normalize import fold

PATTERNS = [r"\d+ (?:armas|rifles)", r"\w+ de \w+", r"carteles?", r"(?:extradit|deport)\w*"]


def per_document(pattern: object, texts: list[str], rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            for _match in pattern.finditer(text):  # type: ignore[attr-defined]
                pass
        best = min(best, time.perf_counter() - started)
    return best / len(texts) * 1e6


def main() -> None:
    texts = [fold(doc.text) for doc in dev_documents() + corpus_documents()]
    print(f"{len(texts)} folded texts (avg {sum(map(len, texts)) // len(texts)} chars)")
    for source in PATTERNS:
        python, linear = per_document(re.compile(source), texts), per_document(compile_linear(source), texts)
        print(f"{source!r:28} re {python:7.1f} µs/doc   RE2 {linear:7.1f} µs/doc")
    hostile = "a" * 1_000_000 + "b"
    started = time.perf_counter()
    found = list(compile_linear("(a+)+$").finditer(hostile))
    print(f"'(a+)+$' on 1 MB of a…b: RE2 {time.perf_counter() - started:.3f} s, {len(found)} matches")


if __name__ == "__main__":
    main()
