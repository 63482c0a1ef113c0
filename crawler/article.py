"""One page to the article the rules see: the crawl's path and ``vigia match``'s, one function.

decode (the declared charset, else UTF-8, else Windows-1252: ``crawler.decoding``) →
extract (trafilatura with its fallbacks, then the navigation filter: ``crawler.extraction``;
the listing's metadata where the page has none) → Spanish check (``rules.spanish``) →
the ``rules.Document`` the rule set is matched against.

The crawl runs ``read_article`` in its extraction pool, on the page's bytes as downloaded
(decoding is the worker's work too, and bytes cross the process boundary as one copy);
``vigia match`` runs it on a fetched page or a saved file, and ``from_plain_text`` joins the same path after extraction for a text file.
Everything here is picklable: the result crosses the pool's process boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.decoding import decode_page
from crawler.extraction import extract_article
from crawler.items import ListedArticle
from rules.document import Document, drop_navigation
from rules.spanish import detect_language
from stories import Signed, Telling, sign, simhash

WANTED_LANGUAGE = "es"


@dataclass
class Article:
    """What the page pipeline made of one page: the stored fields and the language verdict."""

    title: str | None = None
    author: str | None = None
    date: str | None = None  # the page's ISO date as trafilatura gives it (a listing's date wins in the crawl)
    summary: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    html_lang: str | None = None
    language: str | None = None
    # What the story joins compute from the text alone, for a Spanish article with text
    # (``read_crawled_article``): its SimHash, and its shingles and MinHash band keys.
    fingerprint: int | None = None
    signed: Signed | None = None

    @property
    def text(self) -> str:
        """Paragraphs joined by blank lines, as the matcher and storage want them."""
        return "\n\n".join(self.paragraphs)

    @property
    def spanish(self) -> bool:
        return self.language == WANTED_LANGUAGE

    def document(self) -> Document:
        return article_document(self.title, self.text, self.summary)


def article_document(title: str | None, text: str, summary: str | None) -> Document:
    """The document a rule set is matched against (the crawl's match stage builds it here too)."""
    return Document(title=title or "", text=text, summary=summary or "")


def read_article(page: bytes | str, url: str, *, content_type: str | None = None,
                 listed: ListedArticle | None = None) -> Article:
    """Decode (bytes only), extract, filter, tell the language: one page as the crawl sees it.

    ``listed`` is what the feed or sitemap said about the article: its title, author and
    language fill what the page lacks, and its summary is preferred to the page's.
    """
    html = decode_page(page, content_type)[1] if isinstance(page, bytes) else page
    listed = listed or ListedArticle(url=url)
    extracted = extract_article(html, url, dated=listed.published is not None)
    return _finish(
        Article(
            title=extracted.title or listed.title,
            author=extracted.author or listed.author,
            date=extracted.date,
            summary=listed.summary or extracted.description,
            paragraphs=extracted.paragraphs,
            html_lang=extracted.html_lang,
        ),
        listed.language,
    )


def read_crawled_article(page: bytes, url: str, *, content_type: str | None, listed: ListedArticle) -> Article:
    """``read_article`` plus the text's story fingerprints: what the crawl's extraction workers run.

    The fingerprints cost ~5 ms of pure Python an article; computed here, beside the
    extraction, they leave the crawl's one reactor thread free to download.
    """
    article = read_article(page, url, content_type=content_type, listed=listed)
    if article.spanish and article.paragraphs:  # the articles that the language stage lets on
        article.fingerprint = simhash(article.text)
        article.signed = sign(Telling(article.text))
    return article


def from_plain_text(title: str, paragraphs: list[str]) -> Article:
    """A text with no page around it (``vigia match`` on a .txt file or ``--text``) joins the
    pipeline after extraction: the same filter, language check and document."""
    return _finish(Article(title=title, paragraphs=drop_navigation(paragraphs)), None)


def _finish(article: Article, listed_language: str | None) -> Article:
    """The Spanish check; the navigation filter ran in extraction (``extract_article``)."""
    if not article.paragraphs:
        # No text: nothing to vote on, so the listing's word (if any) is all there is.
        article.language = listed_language
    else:
        article.language = detect_language(article.text, article.html_lang, listed_language)
    return article
