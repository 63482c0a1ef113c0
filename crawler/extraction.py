"""Main text and metadata of an article page, by trafilatura, in a worker process.

trafilatura is not thread-safe and costs ~20 ms a page, so the extract pipeline runs
``extract_article`` in a process pool; it takes and returns only picklable values.
Precision mode keeps navigation, "lo más leído" boxes, related links and footers out
of the text (they would make the matcher fire on the site's chrome, not the story).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LANG_ATTRIBUTE = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)", re.I)
CONTENT_LANGUAGE = re.compile(
    r"<meta\b[^>]*?http-equiv\s*=\s*[\"']?content-language[\"']?[^>]*?content\s*=\s*[\"']?([A-Za-z-]+)", re.I
)


@dataclass
class Extracted:
    title: str | None = None
    author: str | None = None
    date: str | None = None  # ISO date as trafilatura gives it
    description: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    html_lang: str | None = None


def declared_language(html: str) -> str | None:
    """``<html lang>`` (or the old http-equiv meta) from the page head."""
    head = html[:20000]
    found = LANG_ATTRIBUTE.search(head) or CONTENT_LANGUAGE.search(head)
    return found.group(1) if found else None


def extract_article(html: str, url: str) -> Extracted:
    """Run trafilatura on one page. Called in a worker process."""
    from trafilatura import bare_extraction

    result = bare_extraction(
        html,
        url=url,
        with_metadata=True,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        deduplicate=False,
    )
    extracted = Extracted(html_lang=declared_language(html))
    if result is None:
        return extracted
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    text = data.get("text") or ""
    extracted.paragraphs = [" ".join(line.split()) for line in text.split("\n") if line.strip()]
    extracted.title = _clean(data.get("title"))
    extracted.author = _clean(data.get("author"))
    extracted.date = _clean(data.get("date"))
    extracted.description = _clean(data.get("description"))
    return extracted


def warm_up() -> None:
    """Import trafilatura in a fresh worker before real pages arrive."""
    extract_article("<html><body><p>hola</p></body></html>", "http://localhost/")


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None
