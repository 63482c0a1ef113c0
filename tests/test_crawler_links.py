"""crawler.links: article links on a section page."""

from pathlib import Path

from crawler.links import article_links, is_article_url

FIXTURES = Path(__file__).parent / "fixtures" / "crawler"
SECTION = "https://www.example.mx/seguridad/"


def test_default_patterns_keep_dated_and_slugged_links_of_the_site() -> None:
    links = article_links((FIXTURES / "section_page.html").read_text(), SECTION)
    assert [link.url for link in links] == [
        "https://www.example.mx/seguridad/2025/09/03/guardia-nacional-refuerza-garitas/",
        "https://www.example.mx/seguridad/cae-red-de-trafico-de-armas-en-sonora-y-arizona",
        "https://www.example.mx/seguridad/nota-20250901-extradicion.html",
    ]
    assert links[0].title == "Guardia Nacional refuerza garitas"


def test_source_patterns_replace_the_default() -> None:
    links = article_links((FIXTURES / "section_page.html").read_text(), SECTION, [r"/seguridad/nota-\d+"])
    assert [link.url for link in links] == ["https://www.example.mx/seguridad/nota-20250901-extradicion.html"]


def test_navigation_is_not_an_article() -> None:
    for url in [
        "https://www.example.mx/",
        "https://www.example.mx/seguridad/",
        "https://www.example.mx/tag/fentanilo-y-armas-en-la-frontera-norte/",
        "https://www.example.mx/aviso-de-privacidad",
        "https://otro-sitio.com/2025/09/03/nota",
    ]:
        assert not is_article_url(url, SECTION), url


def test_www_and_bare_host_are_one_site() -> None:
    assert is_article_url("https://example.mx/2025/09/03/nota", SECTION)


def test_garbage_html_gives_no_links() -> None:
    assert article_links(b"", SECTION) == []
    assert article_links(b"\x00\x01\x02", SECTION) == []


def test_a_backtracking_pattern_cannot_hang_on_hostile_links() -> None:
    # With Python's re, (a+)+$ on 60 a's and a "!" backtracks for longer than a test run lasts;
    # link patterns run on RE2, in time linear in the URL.
    hostile = "".join(f'<a href="/{"a" * 60}!{i}">x</a>' for i in range(50))
    matching = '<a href="/nota/aaaa">Nota</a>'
    links = article_links(f"<html><body>{hostile}{matching}</body></html>", SECTION, [r"/(a+)+$"])
    assert [link.url for link in links] == ["https://www.example.mx/nota/aaaa"]
