"""What a whole crawl costs beside bare extraction: articles/s and peak memory.

Serves N real pages from ../shared/corpus/articles (Spanish and other languages) on
loopback behind one RSS feed, times ``run_crawl`` over them (Scrapy, feed parsing,
extraction pool, language filter, fingerprint, matching, SQLite), then times bare
trafilatura ``bare_extraction`` on the same pages on one core. Prints figures; asserts
nothing.

    python bench/crawl.py [--pages N] [--workers W]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def corpus_pages(limit: int) -> list[tuple[str, bytes]]:
    manifest = json.loads((SHARED / "corpus" / "manifest.json").read_text())
    pages = [(Path(r["file"]).stem, (SHARED / "corpus" / r["file"]).read_bytes()) for r in manifest if r["kind"] == "article_html"]
    while len(pages) < limit:  # repeat the corpus under new URLs if more pages are asked for
        pages += [(f"{name}-{len(pages)}", body) for name, body in pages[: limit - len(pages)]]
    return pages[:limit]


def peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def bench_crawl(pages: list[tuple[str, bytes]], workers: int) -> tuple[float, float, float]:
    from crawler.run import run_crawl
    from crawler.spec import CrawlSpec, SourceSpec
    from rules import load_rules
    from support.news_site import NewsSite

    with NewsSite() as site, tempfile.TemporaryDirectory() as tmp:
        links = []
        for index, (name, body) in enumerate(pages):
            path = f"/n/{index}/{name}.html"
            site.add(path, body, content_type="text/html")
            links.append(site.url(path))
        items = "".join(f"<item><title>{i}</title><link>{url}</link></item>" for i, url in enumerate(links))
        site.add("/rss.xml", f'<rss version="2.0"><channel><title>bench</title>{items}</channel></rss>', content_type="application/rss+xml")
        spec = CrawlSpec(
            database_url=f"sqlite:///{tmp}/bench.db",
            sources=[SourceSpec("bench", "rss", site.url("/rss.xml"), "Bench")],
            ruleset=load_rules([{"builtin": "mx-us-security"}], REPO),
            default_channel="#bench",
            autothrottle=False,
            concurrency_per_domain=16,
            workers=workers,
            max_age=None,
        )
        started = time.perf_counter()
        report = run_crawl(spec)
        elapsed = time.perf_counter() - started
    print(f"crawl: {report.fetched} fetched, {report.new} new, {report.matched} matched, "
          f"{report.skipped} skipped, {len(report.errors)} errors")
    return elapsed, peak_rss_mb(resource.RUSAGE_SELF), peak_rss_mb(resource.RUSAGE_CHILDREN)


def bench_bare(pages: list[tuple[str, bytes]]) -> tuple[float, float]:
    """trafilatura alone, same options as the crawl, one core, in a fresh process."""
    import subprocess

    code = (
        "import sys, time, json, resource\n"
        "from trafilatura import bare_extraction\n"
        "from w3lib.encoding import html_to_unicode\n"
        f"files = {json.dumps([str(p) for p in _page_files(pages)])}\n"
        "bodies = [html_to_unicode(None, open(f, 'rb').read())[1] for f in files]\n"
        "t = time.perf_counter()\n"
        "for b in bodies:\n"
        "    bare_extraction(b, url='https://example.com/', with_metadata=True, favor_precision=True,\n"
        "                    include_comments=False, include_tables=False)\n"
        "print(json.dumps([time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    elapsed, rss = json.loads(out.strip().splitlines()[-1])
    return elapsed, rss


_TMP: list[Path] = []


def _page_files(pages: list[tuple[str, bytes]]) -> list[Path]:
    folder = Path(tempfile.mkdtemp(prefix="vigia-bench-"))
    files = []
    for index, (name, body) in enumerate(pages):
        path = folder / f"{index}.html"
        path.write_bytes(body)
        files.append(path)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=225)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    pages = corpus_pages(args.pages)

    bare_s, bare_rss = bench_bare(pages)
    crawl_s, rss_self, rss_children = bench_crawl(pages, args.workers)
    n = len(pages)
    print(f"pages: {n} ({sum(len(b) for _, b in pages) / 1e6:.1f} MB of HTML)")
    print(f"bare trafilatura, 1 core : {bare_s:6.2f} s  {n / bare_s:7.1f} pages/s  peak RSS {bare_rss:.0f} MB")
    print(f"whole run_crawl, {args.workers} workers: {crawl_s:6.2f} s  {n / crawl_s:7.1f} pages/s  "
          f"peak RSS {rss_self:.0f} MB (crawler) + {rss_children:.0f} MB (largest worker)")
    print(f"crawl vs bare extraction: {100 * (crawl_s - bare_s) / bare_s:+.1f} % wall time "
          f"(CPU-normalised overhead at {args.workers} workers: {100 * (crawl_s * args.workers - bare_s) / bare_s:+.1f} %)")


if __name__ == "__main__":
    main()
