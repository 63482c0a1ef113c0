"""What the extraction workers hold: not the calling script's main module, dateparser only when
a page needs it, no cookie middleware in the crawl, a large page's memory handed back.

A ``forkserver`` worker would import the calling script's main module (as ``__mp_main__``)
before running anything: for the ``vigia`` console script that was vigia.cli with SQLAlchemy
and pydantic in every worker. They run only crawler functions, so the fork server stands in
for the script.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = """
import json, os, sys
from pathlib import Path

if __name__ == "__mp_main__":  # imported by an extraction worker
    (Path(sys.argv[1]) / str(os.getpid())).write_text("imported")

if __name__ == "__main__":
    from crawler.article import read_crawled_article
    from crawler.items import ListedArticle
    from crawler.pipelines.extract import ExtractPipeline

    pipeline = ExtractPipeline(None, 2)  # the run is only told of failures, and there are none
    pipeline.spider_opened()
    page = b"<html><head><title>Sismo en Oaxaca</title></head><body><article>" + b"<p>El sismo sacudi\\xc3\\xb3 la costa de Oaxaca esta ma\\xc3\\xb1ana, sin da\\xc3\\xb1os graves.</p>" * 8 + b"</article></body></html>"
    assert pipeline.pool is not None
    futures = [
        pipeline.pool.submit(read_crawled_article, page, f"http://127.0.0.1/{i}.html", content_type="text/html",
                             listed=ListedArticle(url=f"http://127.0.0.1/{i}.html"))
        for i in range(4)
    ]
    titles = [future.result().title for future in futures]
    workers = sorted(str(process.pid) for process in pipeline.pool._processes.values())
    pipeline.spider_closed()
    print(json.dumps({"titles": titles, "workers": workers}))
"""


def test_the_workers_run_nothing_of_the_calling_script(tmp_path: Path) -> None:
    script, marks = tmp_path / "crawl_script.py", tmp_path / "marks"
    script.write_text(SCRIPT, encoding="utf-8")
    marks.mkdir()
    done = subprocess.run([sys.executable, str(script), str(marks)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["titles"] == ["Sismo en Oaxaca"] * 4
    assert len(result["workers"]) == 2
    assert sorted(mark.name for mark in marks.iterdir()) == []


def imported_after(code: str, modules: list[str]) -> dict[str, bool]:
    probe = f"import json, sys\n{code}\nprint(json.dumps({{m: m in sys.modules for m in {modules!r}}}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# A page whose only date is in its text, in words (no metadata, none in the URL).
DATED_IN_WORDS = (
    "<html><head><title>Sismo en Oaxaca</title></head><body><article><p>Publicado el martes 3 de marzo de 2026</p>"
    + "<p>El sismo sacudió la costa de Oaxaca esta mañana, sin daños graves según Protección Civil.</p>" * 6
    + "</article></body></html>"
)


def test_dateparser_is_loaded_only_for_a_page_listed_without_a_date() -> None:
    """htmldate's search of the text for a date goes through dateparser, whose first call compiles
    every locale's patterns (~1.5 s): no crawl start pays it, nor a page whose listing gave its date."""
    assert imported_after("import crawler.fork_server", ["dateparser"]) == {"dateparser": False}
    read = (
        "from datetime import UTC, datetime\n"
        "from crawler.article import read_article\n"
        "from crawler.items import ListedArticle\n"
        f"page = {DATED_IN_WORDS!r}\n"
        "listed = ListedArticle(url='http://127.0.0.1/sismo.html', published={published})\n"
        "article = read_article(page, listed.url, listed=listed)\n"
        "assert article.paragraphs\n"
    )
    listed_with_date = read.format(published="datetime(2026, 3, 3, 9, 30, tzinfo=UTC)")  # it wins: the page's is not needed
    assert imported_after(listed_with_date, ["dateparser"]) == {"dateparser": False}
    listed_without = read.format(published=None) + "assert (article.date or '').startswith('2026'), article.date\n"
    assert imported_after(listed_without, ["dateparser"]) == {"dateparser": True}


def test_the_crawl_s_middlewares_leave_the_cookie_middleware_and_tldextract_out() -> None:
    code = (
        "from scrapy.settings import Settings\n"
        "from crawler import settings as ours\n"
        "settings = Settings(); settings.setmodule(ours, priority='project')\n"
        "assert not settings.getbool('COOKIES_ENABLED')\n"
        "middlewares = settings.getwithbase('DOWNLOADER_MIDDLEWARES')\n"
        "assert 'scrapy.downloadermiddlewares.redirect.RedirectMiddleware' in middlewares\n"
        "assert not [m for m in middlewares if 'Cookies' in str(m)]\n"
    )
    assert imported_after(code, ["tldextract", "scrapy.downloadermiddlewares.cookies"]) == {
        "tldextract": False, "scrapy.downloadermiddlewares.cookies": False,
    }  # fmt: skip


def test_a_large_page_is_read_as_before_and_its_memory_handed_back() -> None:
    """The workers' entry reads a page as the page pipeline does, then trims the heap (glibc's malloc_trim)."""
    import platform

    from crawler import worker_memory
    from crawler.article import read_crawled_article
    from crawler.items import ListedArticle

    paragraph = "<p>El sismo sacudió la costa de Oaxaca esta mañana; Protección Civil revisa escuelas y hospitales.</p>"
    page = f"<html><head><title>Sismo</title></head><body><article>{paragraph * 3000}</article></body></html>".encode()
    assert len(page) >= worker_memory.LARGE_PAGE
    listed = ListedArticle(url="http://127.0.0.1/sismo.html")
    trims: list[int] = []
    real_trim = worker_memory._MALLOC_TRIM
    if platform.libc_ver()[0] == "glibc":
        assert real_trim is not None
    worker_memory._MALLOC_TRIM = lambda pad: trims.append(pad) or (real_trim(pad) if real_trim else 0)
    try:
        read = worker_memory.read_and_release(page, listed.url, content_type="text/html", listed=listed)
        small = worker_memory.read_and_release(page[:4000], listed.url, content_type="text/html", listed=listed)
    finally:
        worker_memory._MALLOC_TRIM = real_trim
    assert read == read_crawled_article(page, listed.url, content_type="text/html", listed=listed)
    assert small == read_crawled_article(page[:4000], listed.url, content_type="text/html", listed=listed)
    assert trims == [0]  # after the large page only
