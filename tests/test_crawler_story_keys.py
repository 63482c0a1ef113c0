"""The story fingerprints the extraction workers compute are those storage would compute itself."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.article import read_crawled_article
from crawler.items import ListedArticle
from storage.articles import _signed
from stories import Telling, sign, simhash

PARAGRAPHS = (
    "El gobierno de México y el de Estados Unidos acordaron el martes un plan conjunto contra el tráfico de armas en la frontera.",
    "Según informaron ambos gobiernos en un comunicado, la cooperación incluye el intercambio de información entre sus fiscalías.",
    "La secretaria de Seguridad dijo que las primeras operaciones conjuntas comenzarán durante las próximas semanas en Sonora.",
    "También se acordó una reunión mensual de los equipos técnicos para revisar los resultados y ajustar las metas del plan.",
)
SPANISH = ("<html lang='es'><body><article><h1>Acuerdo de seguridad</h1>"
           + "".join(f"<p>{text}</p>" for text in PARAGRAPHS) + "</article></body></html>")
ENGLISH = ("<html lang='en'><body><article><h1>Security deal</h1>" + "<p>The governments of Mexico and the United "
           "States agreed on Tuesday to a joint plan against arms trafficking at the border, both said.</p>" * 4
           + "</article></body></html>")
URL = "https://diario.example/2025/03/03/nota.html"


def read(page: str):  # type: ignore[no-untyped-def]
    return read_crawled_article(page.encode("utf-8"), URL, content_type="text/html; charset=utf-8", listed=ListedArticle(url=URL))


def test_a_spanish_article_comes_back_with_its_text_s_fingerprints() -> None:
    article = read(SPANISH)
    assert article.spanish and article.paragraphs
    assert article.fingerprint == simhash(article.text)
    expected = sign(Telling(article.text))
    assert article.signed is not None
    assert (article.signed.shingles, article.signed.band_keys) == (expected.shingles, expected.band_keys)


def test_an_article_the_language_stage_skips_comes_back_without() -> None:
    article = read(ENGLISH)
    assert not article.spanish
    assert article.fingerprint is None and article.signed is None


def test_storage_uses_them_only_for_the_text_it_stores() -> None:
    article = read(SPANISH)
    telling = Telling(article.text, "Acuerdo", datetime(2025, 3, 3, tzinfo=UTC), frozenset({"rule"}))
    used = _signed(telling, article.signed)
    assert used.telling == telling and used.band_keys == article.signed.band_keys  # type: ignore[union-attr]
    other = Telling(article.text + "\n\nOtro párrafo añadido después de la extracción, con más palabras.")
    assert _signed(other, article.signed).shingles == sign(other).shingles
