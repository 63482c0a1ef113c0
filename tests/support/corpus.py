"""The shared corpus's article pages, extracted once per test process as the crawl extracts them.

Two test modules read all 225 pages through trafilatura (about 14 s of CPU a pass): the
extraction tests and the rules' differential tests. They share one pass per test run
(``corpus_pages`` in tests/conftest.py): the first process to ask extracts the pages and
leaves them in the run's temporary folder, and the other xdist worker reads them from there.
Every run extracts afresh: the folder is the run's own.
"""

from __future__ import annotations

import fcntl
import json
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from w3lib.encoding import html_to_unicode

from crawler.extraction import Extracted, extract_article

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


@dataclass(frozen=True)
class CorpusPage:
    file: str  # as the manifest names it, relative to the corpus folder
    sidecar: dict[str, Any]  # the page's .json: language, url, ground truth
    page: Extracted


def article_files() -> list[str]:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    return [record["file"] for record in manifest if record["kind"] == "article_html"]


def _extract(file: str) -> CorpusPage:
    """One page as the crawl sees it: Scrapy's decoding without a charset header, then trafilatura."""
    path = CORPUS / file
    sidecar = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    _, html = html_to_unicode(None, path.read_bytes())
    return CorpusPage(file, sidecar, extract_article(html, sidecar.get("url") or "https://example.com/"))


def extract_once(cache: Path) -> tuple[CorpusPage, ...]:
    """Every article page of the corpus, extracted; by the first caller of the run, read from ``cache`` after."""
    with (cache.parent / (cache.name + ".lock")).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other worker waits for the pages instead of extracting them too
        if cache.exists():
            pages: tuple[CorpusPage, ...] = pickle.loads(cache.read_bytes())
            return pages
        with ProcessPoolExecutor(2) as pool:  # two processes: the machine has two cores
            pages = tuple(pool.map(_extract, article_files(), chunksize=8))
        cache.write_bytes(pickle.dumps(pages))
        return pages
