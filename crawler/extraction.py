"""Main text and metadata of an article page, by trafilatura, in a worker process.

trafilatura is not thread-safe and costs ~20 ms a page, so the extract pipeline runs
``extract_article`` in a process pool; it takes and returns only picklable values.
Precision mode keeps navigation, "lo más leído" boxes, related links and footers out
of the text (they would make the matcher fire on the site's chrome, not the story).
Some real pages (a short article in an unusual template) come out empty in precision mode;
rather than store them as "no text" (they could never alert), the default mode and then
recall mode are tried, and the navigation filter (``rules.document.drop_navigation``, the
matcher's own) still keeps calls to action out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from typing import Any, cast

from rules.document import drop_navigation

LANG_ATTRIBUTE = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)", re.I)
CONTENT_LANGUAGE = re.compile(
    r"<meta\b[^>]*?http-equiv\s*=\s*[\"']?content-language[\"']?[^>]*?content\s*=\s*[\"']?([A-Za-z-]+)", re.I
)
# A byline as the page prints it: "Por EFE", "By AP", "Por: Redacción". The alert prints
# "Por {author}", so the lead word is dropped ("Porfirio", "Byron" keep theirs).
BYLINE_LEAD = re.compile(r"^(?:por|by)\b\s*:?\s*", re.I)


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


# What the crawl asks of trafilatura (bench/crawl.py times bare trafilatura with these too).
TRAFILATURA_OPTIONS: dict[str, Any] = dict(
    with_metadata=True,
    favor_precision=True,
    include_comments=False,
    include_tables=False,
    include_images=False,
    include_links=False,
    deduplicate=False,
)


# Tried in order until one gives text: precision first (least chrome), then trafilatura's
# default balance, then recall mode.  The looser modes pick up menus on some templates, so their
# output counts only when it has prose, and their menu lines are dropped.
FALLBACK_MODES: tuple[dict[str, Any], ...] = ({"favor_precision": False}, {"favor_precision": False, "favor_recall": True})
PROSE_WORDS = 12  # a paragraph of at least this many words is prose, not a menu


def extract_article(html: str, url: str, *, dated: bool = False) -> Extracted:
    """Run trafilatura on one page. Called in a worker process.

    ``dated``: the listing gave the article's date, which wins over the page's (crawler.pipelines.extract),
    so the page's date is looked for only where htmldate looks first (markup, metadata, the URL).
    """
    from trafilatura import bare_extraction

    options = {**TRAFILATURA_OPTIONS, "date_extraction_params": quick_date_search()} if dated else TRAFILATURA_OPTIONS
    extracted = Extracted(html_lang=declared_language(html))
    data = _as_dict(bare_extraction(html, url=url, **options))
    paragraphs = _paragraphs(data)
    if not paragraphs:
        for mode in FALLBACK_MODES:
            loose = _as_dict(bare_extraction(html, url=url, **{**options, **mode}))
            data = data or loose
            kept = [p for p in _paragraphs(loose) if not _menu_line(p)]
            if _has_prose(kept):
                data, paragraphs = loose, kept
                break
    if data is None:
        return extracted
    if not paragraphs:
        # No body in the markup (a page that loads it with a script): the page's own summary
        # is the only article text there is, better stored than "no text".
        for description in (_clean(data.get("description")), meta_description(html)):
            if description and _has_prose([description]):
                paragraphs = [description]
                break
    # In-text teasers and calls to action that precision mode keeps ("Lea también: <another
    # story's headline>") would make the matcher fire on a story the page is not about.
    extracted.paragraphs = drop_navigation(paragraphs)
    extracted.title = _clean(data.get("title"))
    extracted.author = clean_author(data.get("author"))
    extracted.date = _clean(data.get("date"))
    extracted.description = _clean(data.get("description"))
    return extracted


META_TAG = re.compile(r"<meta\b[^>]*>", re.I)
META_NAME_DESCRIPTION = re.compile(r"""\bname\s*=\s*["']?description["'\s/>]""", re.I)
META_CONTENT = re.compile(r"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)


def meta_description(html: str) -> str | None:
    """``<meta name="description">`` from the page head (trafilatura prefers og:description,
    which some sites fill with the headline again)."""
    for tag in META_TAG.findall(html[:50000]):
        if META_NAME_DESCRIPTION.search(tag):
            found = META_CONTENT.search(tag)
            if found:
                return _clean(unescape(found.group(1) if found.group(1) is not None else found.group(2)))
    return None


def _as_dict(result: object) -> dict[str, Any] | None:
    if result is None:
        return None
    # trafilatura 2 returns a Document (with as_dict), older releases a dict
    return cast("dict[str, Any]", result.as_dict() if hasattr(result, "as_dict") else dict(cast("dict[str, Any]", result)))


def _paragraphs(data: dict[str, Any] | None) -> list[str]:
    text = (data or {}).get("text") or ""
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def _menu_line(paragraph: str) -> bool:
    """A navigation entry ("Inicio", "Ciencia y Tecnología", "DOMINGO 8"): a few words, no sentence end."""
    return len(paragraph.split()) <= 4 and not paragraph.rstrip().endswith((".", "?", "!", "»", '"', ":"))


def _has_prose(paragraphs: list[str]) -> bool:
    return any(len(p.split()) >= PROSE_WORDS for p in paragraphs)


# A page too short for precision mode: trafilatura takes its fallback extractors, which load
# justext's stoplists (~27 MB), loaded once in the fork server for the workers to share.
# Not dateparser: htmldate's search of a page's text for a date (its "extensive search")
# hands the candidates to dateparser, whose first call compiles every one of its 200 locales'
# patterns (~1.3-1.7 s of CPU, ~40 MB). Preloaded, every crawl and every worker start paid
# that, though a feed's or news sitemap's date wins over the page's: pages listed with a date
# skip that search (``quick_date_search``), and a worker loads dateparser on its first page
# listed without one (a section page, a feed without dates).
WARM_UP_PAGES = ("<html><body><p>hola</p></body></html>",)


def quick_date_search() -> dict[str, Any]:
    """htmldate's parameters as trafilatura sets them by default, without the extensive search of the text."""
    return {"original_date": True, "extensive_search": False, "max_date": date.today().isoformat()}


def warm_up() -> None:
    """Load trafilatura and what it loads lazily on its first pages, before real pages arrive."""
    for page in WARM_UP_PAGES:
        extract_article(page, "http://localhost/")


def clean_author(value: object) -> str | None:
    """trafilatura's author field without a leading "Por"/"By" on any of its names
    ("Por EFE; Ana Pérez" → "EFE; Ana Pérez")."""
    text = _clean(value)
    if text is None:
        return None
    names = [BYLINE_LEAD.sub("", name.strip()) for name in text.split(";")]
    return "; ".join(name for name in names if name) or None


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None
