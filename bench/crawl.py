"""What a whole crawl costs beside bare extraction: pages/s, CPU time and peak memory.

Serves N real pages from ../shared/corpus/articles (Spanish and other languages) on
loopback behind one RSS feed, and measures, each in a fresh subprocess:

- bare trafilatura on one core: ``bare_extraction`` with the crawl's own options
  (``crawler.extraction.TRAFILATURA_OPTIONS``) on the same pages, decoded as the spider
  decodes them and passed the URL they are served at;
- a whole ``vigia crawl --no-deliver`` as a user runs it (its CLI entry in the measured
  process: config, rules, migrations, Scrapy, feed parsing, extraction pool, language
  filter, fingerprint, matching, SQLite) over them with W extraction workers;
- the same ``vigia crawl`` over an empty feed: its fixed start-up cost (migrations,
  Scrapy, the fork server importing trafilatura).

CPU time is user + system from ``getrusage``: the crawl's own process plus its children
(a migration child if the command starts one, the fork server and the workers it forks; the fork server is stopped and reaped after
the crawl, so the workers' time reaches the crawl process's ``RUSAGE_CHILDREN``). The
loopback server runs in this parent process, so its cost is counted in neither.
On a shared machine wall times move with the load; CPU times much less.

Peak memory is sampled from this parent every 0.2 s over the crawl child's whole process
tree (the crawler, the fork server, its workers): the largest sum of resident sizes (RSS,
which counts the pages a forked worker shares with the fork server once per process) and
the largest sum of proportional sizes (PSS, ``/proc/PID/smaps_rollup``: a shared page is
split between the processes that share it, so the sum is what the tree really occupies).
``--profile FILE`` runs the crawl under cProfile (the crawler process only) and writes the
stats to FILE; its timings are then not comparable with a run without it.
Prints figures; asserts nothing.

    python bench/crawl.py [--pages N] [--workers W] [--profile FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path[:0] = [str(REPO), str(REPO / "tests")]
CONTENT_TYPE = "text/html"  # as the loopback site serves the pages, without a charset


def corpus_pages(limit: int) -> list[tuple[str, bytes]]:
    manifest = json.loads((SHARED / "corpus" / "manifest.json").read_text())
    pages = [(Path(r["file"]).stem, (SHARED / "corpus" / r["file"]).read_bytes()) for r in manifest if r["kind"] == "article_html"]
    while len(pages) < limit:  # repeat the corpus under new URLs if more pages are asked for
        pages += [(f"{name}-{len(pages)}", body) for name, body in pages[: limit - len(pages)]]
    return pages[:limit]


EXTRACTION_LOG = "VIGIA_BENCH_EXTRACTION_LOG"


def time_extraction_in_workers(folder: str) -> None:
    """Count the CPU time spent inside ``bare_extraction`` in each extraction worker.

    The measured crawl adds this script to its fork server's preload
    (``preload_this_script``), which calls this there: each worker it forks keeps its
    running total in ``folder/<pid>`` (the fork server's own warm-up is not counted).
    Comparing the crawl's whole CPU time with that total, both from the same run, gives
    the overhead without the run-to-run noise of a shared machine.
    """
    import trafilatura

    real = trafilatura.bare_extraction
    fork_server, total = os.getpid(), [0.0]

    def timed(*args: object, **kwargs: object) -> object:
        started = time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            if os.getpid() != fork_server:
                total[0] += time.process_time() - started
                (Path(folder) / str(os.getpid())).write_text(repr(total[0]))

    trafilatura.bare_extraction = timed


def preload_this_script() -> None:
    """Have the crawl's fork server import this script (as ``bench.crawl``) before its own preload."""
    from multiprocessing.context import ForkServerContext

    set_preload = ForkServerContext.set_forkserver_preload

    def with_this_script(context: ForkServerContext, modules: list[str]) -> None:
        set_preload(context, ["bench.crawl", *modules])

    ForkServerContext.set_forkserver_preload = with_this_script  # type: ignore[method-assign]


def import_as_the_console_script() -> None:
    """Import what the ``vigia`` console script imports (its entry point's module).

    A build whose extraction workers import the calling script's main module does it here
    as it would in a user's ``vigia crawl``, whose main module is that script.
    """
    from importlib import import_module
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="vigia")
    import_module(script.module)


if __name__ == "bench.crawl" and os.environ.get(EXTRACTION_LOG):
    time_extraction_in_workers(os.environ[EXTRACTION_LOG])
if __name__ == "__mp_main__":
    import_as_the_console_script()


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# Measured in a child process ---------------------------------------------------------


def measure_bare(job: dict) -> dict:
    """trafilatura alone, same options and inputs as the crawl's workers, one core."""
    from trafilatura import bare_extraction

    from crawler.decoding import decode_page
    from crawler.extraction import TRAFILATURA_OPTIONS, warm_up

    pages = [(decode_page(Path(file).read_bytes(), CONTENT_TYPE)[1], url) for file, url in job["pages"]]
    warm_up()  # as each crawl worker does before its first page
    cpu, started = time.process_time(), time.perf_counter()
    for html, url in pages:
        bare_extraction(html, url=url, **TRAFILATURA_OPTIONS)
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_crawl(job: dict) -> dict:
    """One whole ``vigia crawl`` (its CLI entry, in this process), with its CPU time and that of its children."""
    import multiprocessing.forkserver

    from vigia.cli import main as vigia

    preload_this_script()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[EXTRACTION_LOG] = os.path.join(tmp, "extraction")
        os.mkdir(os.environ[EXTRACTION_LOG])
        config, report_file = Path(tmp) / "vigia.yaml", Path(tmp) / "report.json"
        config.write_text(json.dumps({  # JSON is YAML
            "database": {"url": f"sqlite:///{tmp}/bench.db"},
            "slack": {"channel": "#bench"},
            "alerts": {"max_age": None},
            "crawler": {"autothrottle": False, "concurrency_per_domain": 16, "workers": job["workers"]},
            "sources": [{"name": "bench", "type": "rss", "url": job["feed"]}],
            "rules": [{"builtin": "mx-us-security"}],
        }))
        argv = ["crawl", "--no-deliver", "--config", str(config), "--report-json", str(report_file)]
        profiler = None
        if job.get("profile"):
            import cProfile

            profiler = cProfile.Profile(time.process_time)  # CPU time: a loaded machine moves wall time
            profiler.enable()
        cpu_self, started = cpu_seconds(resource.RUSAGE_SELF), time.perf_counter()
        code = vigia(argv, out=sys.stderr, err=sys.stderr)  # stdout carries this child's result
        wall = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(job["profile"])
        cpu_self = cpu_seconds(resource.RUSAGE_SELF) - cpu_self
        # The pool is shut down; stop the fork server too so that it reaps its workers
        # and is reaped by us: then RUSAGE_CHILDREN holds the workers' CPU time.
        multiprocessing.forkserver._forkserver._stop()  # type: ignore[attr-defined]
        extraction = sum(float(log.read_text()) for log in Path(os.environ[EXTRACTION_LOG]).iterdir())
        report = json.loads(report_file.read_text())
    return {
        "wall": wall,
        "cpu_self": cpu_self,
        "cpu_children": cpu_seconds(resource.RUSAGE_CHILDREN),
        "cpu_extraction": extraction,
        "rss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "report": f"exit {code}; {report['fetched']} fetched, {report['new']} new, {report['matched']} matched, "
        f"{report['skipped']} skipped, {len(report['errors'])} errors",
    }


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc (Linux)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                todo += [int(child) for child in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
        except OSError:  # it ended meanwhile
            continue
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB, or (0, 0) if it has gone."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    fields = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:] if line.endswith("kB")}
    return fields.get("Rss", 0), fields.get("Pss", 0)


class TreeMemory(threading.Thread):
    """Samples a process tree's summed RSS and PSS until stopped; keeps the peaks (MB)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.done = pid, threading.Event()
        self.rss = self.pss = 0.0
        self.processes = 0
        self.at_peak = ""  # each process's PSS when the PSS sum peaked

    def run(self) -> None:
        while not self.done.wait(0.2):
            tree = process_tree(self.pid)
            sizes = [memory_kb(pid) for pid in tree]
            self.rss = max(self.rss, sum(rss for rss, _ in sizes) / 1024)
            pss = sum(pss for _, pss in sizes) / 1024
            if pss > self.pss:
                self.pss = pss
                self.at_peak = " + ".join(f"{size / 1024:.0f}" for _, size in sizes)
            self.processes = max(self.processes, len(tree))


def in_child(kind: str, job: dict) -> dict:
    """Run ``measure_<kind>`` in a fresh interpreter (so nothing else is counted)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(job, handle)
    try:
        child = subprocess.Popen(
            [sys.executable, __file__, "--measure", kind, handle.name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        memory = TreeMemory(child.pid)
        memory.start()
        stdout, stderr = child.communicate()
        memory.done.set()
        memory.join()
    finally:
        os.unlink(handle.name)
    if child.returncode:
        sys.exit(f"bench child ({kind}) failed:\n{stderr}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(tree_rss=memory.rss, tree_pss=memory.pss, tree_processes=memory.processes, tree_at_peak=memory.at_peak)
    return result


# The parent: serves the pages and prints -----------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=225)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the crawler process; stats to FILE")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, job = args.measure
        print(json.dumps({"bare": measure_bare, "crawl": measure_crawl}[kind](json.loads(Path(job).read_text()))))
        return

    from support.news_site import NewsSite

    pages = corpus_pages(args.pages)
    n = len(pages)
    with NewsSite() as site, tempfile.TemporaryDirectory(prefix="vigia-bench-") as folder:
        files = []
        for index, (name, body) in enumerate(pages):
            path = f"/n/{index}/{name}.html"
            site.add(path, body, content_type=CONTENT_TYPE)
            file = Path(folder) / f"{index}.html"
            file.write_bytes(body)
            files.append((str(file), site.url(path)))
        items = "".join(f"<item><title>{i}</title><link>{url}</link></item>" for i, (_, url) in enumerate(files))
        site.add("/rss.xml", f'<rss version="2.0"><channel><title>bench</title>{items}</channel></rss>', content_type="application/rss+xml")
        site.add("/empty.xml", '<rss version="2.0"><channel><title>empty</title></channel></rss>', content_type="application/rss+xml")

        load = os.getloadavg()[0]
        bare = in_child("bare", {"pages": files})
        empty = in_child("crawl", {"feed": site.url("/empty.xml"), "workers": args.workers})
        crawl = in_child("crawl", {"feed": site.url("/rss.xml"), "workers": args.workers,
                                   "profile": os.path.abspath(args.profile) if args.profile else None})

    crawl_cpu = crawl["cpu_self"] + crawl["cpu_children"]
    fixed_cpu = empty["cpu_self"] + empty["cpu_children"]
    print(f"pages: {n} ({sum(len(b) for _, b in pages) / 1e6:.1f} MB of HTML); crawl: {crawl['report']}")
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} at start (wall times move with it; CPU times much less)")
    print(f"bare trafilatura, 1 core  : {bare['wall']:6.2f} s wall  {n / bare['wall']:6.1f} pages/s  "
          f"{bare['cpu']:6.2f} s CPU  peak RSS {bare['rss_self']:.0f} MB")
    print(f"whole vigia crawl, {args.workers} workers: {crawl['wall']:6.2f} s wall  {n / crawl['wall']:6.1f} pages/s  "
          f"{crawl_cpu:6.2f} s CPU ({crawl['cpu_self']:.2f} crawler + {crawl['cpu_children']:.2f} workers)  "
          f"peak RSS {crawl['rss_self']:.0f} MB (crawler) + {crawl['rss_children']:.0f} MB (largest worker)")
    print(f"  process tree ({crawl['tree_processes']} processes), peak of sums: RSS {crawl['tree_rss']:.0f} MB, "
          f"PSS {crawl['tree_pss']:.0f} MB (shared pages counted once; {crawl['tree_at_peak']} MB, crawler first)")
    print(f"  of which fixed start-up  : {empty['wall']:6.2f} s wall  {fixed_cpu:6.2f} s CPU "
          f"({empty['cpu_self']:.2f} crawler + {empty['cpu_children']:.2f} fork server and workers), from a crawl of an empty feed")
    print(f"crawl vs bare: wall {100 * (crawl['wall'] - bare['wall']) / bare['wall']:+.1f} %; "
          f"CPU overhead {100 * (crawl_cpu - bare['cpu']) / bare['cpu']:+.1f} % "
          f"({100 * (crawl_cpu - fixed_cpu - bare['cpu']) / bare['cpu']:+.1f} % without start-up)")
    inside = crawl["cpu_extraction"]
    print(f"same run, CPU inside bare_extraction in the workers: {inside:.2f} s; everything else "
          f"{crawl_cpu - inside:.2f} s = {100 * (crawl_cpu - inside) / inside:+.1f} % "
          f"({100 * (crawl_cpu - fixed_cpu - inside) / inside:+.1f} % without start-up; "
          f"crawler process {100 * crawl['cpu_self'] / inside:.1f} %, workers outside extraction "
          f"{100 * (crawl['cpu_children'] - inside) / inside:.1f} %)")
    per_article = 1000 * (crawl["cpu_self"] - empty["cpu_self"]) / n
    print(f"crawler process CPU per article, without start-up: {per_article:.1f} ms; "
          f"throughput vs bare one core: {bare['wall'] / crawl['wall']:.2f}x (wall)")


if __name__ == "__main__":
    main()
