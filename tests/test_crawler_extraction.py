"""Extraction and the language filter on real pages: chrome stays out of the text, and
only Spanish pages pass (the corpus has 82 Spanish pages and 143 in 28 other languages)."""

from pathlib import Path

import pytest

from crawler.extraction import Extracted, declared_language, extract_article
from rules import Document, load_rules
from rules.spanish import detect_language
from tests.support.corpus import CorpusPage

FIXTURES = Path(__file__).parent / "fixtures" / "crawler"


@pytest.fixture(scope="module")
def extracted(corpus_pages: tuple[CorpusPage, ...]) -> list[tuple[dict, Extracted]]:
    return [(page.sidecar, page.page) for page in corpus_pages]


def test_only_spanish_corpus_pages_pass_the_language_filter(extracted: list[tuple[dict, Extracted]]) -> None:
    wrong = []
    for sidecar, page in extracted:
        language = detect_language("\n\n".join(page.paragraphs), page.html_lang)
        if (language == "es") != (sidecar["language"] == "es"):
            wrong.append((sidecar["file"], sidecar["language"], language))
    spanish = sum(1 for sidecar, _ in extracted if sidecar["language"] == "es")
    assert (spanish, len(extracted) - spanish) == (82, 143)
    assert wrong == []


def test_boilerplate_stays_out_of_spanish_texts(extracted: list[tuple[dict, Extracted]]) -> None:
    """trafilatura's own ground truth: 'without' snippets (menus, teasers, footers) must not be in the text."""
    checked = leaked = 0
    for sidecar, page in extracted:
        truth = sidecar.get("ground_truth")
        if sidecar["language"] != "es" or sidecar["ground_truth_format"].split()[0] != "trafilatura" or not truth:
            continue
        text = " ".join(page.paragraphs)
        for snippet in truth.get("without") or []:
            checked += 1
            leaked += " ".join(snippet.split()) in text
    assert checked > 50
    assert leaked / checked < 0.10


def test_every_spanish_corpus_page_yields_text(extracted: list[tuple[dict, Extracted]]) -> None:
    """Precision mode finds nothing on two real pages; the fallbacks (default, then recall mode,
    then the page's own description) give each of the 82 Spanish pages a text, without menus."""
    empty = [sidecar["file"] for sidecar, page in extracted if sidecar["language"] == "es" and not page.paragraphs]
    assert empty == []
    by_file = {sidecar["file"]: page for sidecar, page in extracted}
    panama = " ".join(by_file["articles/trafilatura/prensa.com-curata.html"].paragraphs)
    assert "cuarta dosis" in panama and len(panama) > 2000
    peru = by_file["articles/trafilatura/elperuanoa.pe-logran.html"].paragraphs
    assert any("50 civiles fueron evacuados" in p for p in peru)
    for menu in ["Inicio", "Ciencia y Tecnología", "Descargar PDF", "Variedades"]:
        assert menu not in peru


def test_chrome_with_watchlist_words_does_not_reach_the_matcher() -> None:
    """Menus, a breaking-news bar, "Lo más leído", related links and a footer full of
    watchlist words around a story about a library: no match."""
    html = (FIXTURES / "chrome_page.html").read_text(encoding="utf-8")
    page = extract_article(html, "https://www.example.mx/cultura/2025/09/03/biblioteca-mexicali")
    text = "\n\n".join(page.paragraphs)
    assert "biblioteca pública en el centro de la ciudad" in text
    for chrome in ["Lo más leído", "Cártel de Sinaloa", "Notas relacionadas", "García Harfuch", "ÚLTIMA HORA", "Síguenos", "DEA"]:
        assert chrome not in text
    assert page.title == "Abren en Mexicali una biblioteca pública con 40 mil volúmenes"
    assert page.date == "2025-09-03"
    assert detect_language(text, page.html_lang) == "es"
    ruleset = load_rules([{"builtin": "mx-us-security"}], Path("."))
    assert ruleset.match(Document(title=page.title or "", text=text, summary="")) == []


def test_teasers_are_dropped() -> None:
    from rules.document import drop_navigation as drop_teasers

    paragraphs = [
        "El Senado aprobó la reforma con 80 votos a favor.",
        "LEA TAMBIÉN: Extraditan a Estados Unidos a líder del cártel",
        "Le puede interesar: La DEA y la FGR acuerdan cooperación",
        "Notas relacionadas",
        "Trump amenaza con aranceles",
        "Sheinbaum responde a Washington",
        "La votación se repetirá el jueves, dijo el presidente de la mesa.",
    ]
    assert drop_teasers(paragraphs) == [paragraphs[0], paragraphs[-1]]


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("Por EFE", "EFE"),
        ("By AP", "AP"),
        ("POR: Redacción", "Redacción"),
        ("Por EFE; Por Ana Pérez", "EFE; Ana Pérez"),
        ("Porfirio Díaz", "Porfirio Díaz"),  # a name, not a byline word
        ("Byron Smith", "Byron Smith"),
        ("Por", None),
        (None, None),
    ],
)
def test_byline_word_is_dropped_from_the_author(author: str | None, expected: str | None) -> None:
    """The alert prints "Por {author}": a page's "Por EFE" must not become "Por Por EFE"."""
    from crawler.extraction import clean_author

    assert clean_author(author) == expected


def test_extracted_author_has_no_byline_word() -> None:
    body = "".join(f"<p>El Senado aprobó la reforma número {n} con amplia mayoría, dijo el presidente de la mesa.</p>" for n in range(8))
    html = f'<html lang="es"><head><title>Reforma</title><meta name="author" content="Por EFE"></head><body><article>{body}</article></body></html>'
    assert extract_article(html, "https://www.example.mx/politica/reforma").author == "EFE"


def test_declared_language() -> None:
    assert declared_language('<!DOCTYPE html><html class="x" lang="es-MX"><head>') == "es-MX"
    assert declared_language("<html><head><meta http-equiv='Content-Language' content='pt-BR'>") == "pt-BR"
    assert declared_language("<html><head></head>") is None


@pytest.mark.parametrize(
    ("text", "declared", "expected"),
    [
        ("Hola", "es-MX", "es"),  # too short to vote: the page's word
        ("Hola", None, "und"),
        ("Московский суд вынес приговор по делу о " * 10, "es", "und"),  # another script, whatever the page says
        ("O governo brasileiro anunciou que não vai mais investir na obra, e a população está preocupada com isso. " * 3, "es", "pt"),
        ("El gobierno anunció que no invertirá más en la obra. Según los vecinos, la población está preocupada porque los retrasos "
         "han sido largos y el puente, que fue prometido hace años, sigue sin terminar, mientras las lluvias dañan el camino.", "en", "es"),
    ],
)
def test_detect_language(text: str, declared: str | None, expected: str) -> None:
    assert detect_language(text, declared) == expected
