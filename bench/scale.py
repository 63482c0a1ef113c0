"""How many feeds can `vigia run` keep polling on this machine, and at what CPU cost?

Serves N small RSS feeds on loopback, spread over many hosts (127.0.1.1–127.0.1.H are all
loopback; one server listens on each), writes a config with every source at interval T
(``min_every`` = ``max_every`` = T, so adaptive polling keeps that pace), runs `vigia run`
as a subprocess and, over a window after the first round of polls, counts the feed polls
the servers answered (and how many got 304) and the CPU the daemon's whole process tree
used (/proc: the daemon, its crawl worker, the extraction pool). Midway through the window
one matching story is published in one feed and the delay until it reaches the Slack
stand-in is measured. Prints figures; asserts nothing.

The feeds are valid RSS with no items (an unchanged outlet answers 304 with validators):
the load under test is polling, not extraction. The servers run in this process, so their
CPU is not counted against the daemon; the machine's other load is reported as measured.

    python bench/scale.py [--feeds 100 1400 5000] [--every 60] [--window 120] [--hosts 100]
    python bench/scale.py --feeds 1400 --redis-workers 2   # the scheduler plus two `vigia worker` over Redis
    python bench/scale.py --feeds 1400 --window 3600 --memory-every 300   # an hour, resident sizes every 5 min
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.labelled import LabelledArticle, article_page, feed
from tests.support.slack_standin import SlackStandIn
from vigia.daemon import procfs

PORT = 18080  # --port changes it
REDIS_URL = "redis://127.0.0.1:6379/0"


class Feeds:
    """What every host serves, and what it answered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bodies: dict[str, tuple[bytes, str, str]] = {}  # path -> (body, content type, etag)
        self.counting = False
        self.half_interval = 30.0
        self.seen: set[str] = set()  # feeds polled at least once
        self.polls = 0
        self.not_modified = 0
        self.last_poll: dict[str, float] = {}
        self.close_repeats = 0  # a feed polled twice within half an interval: a tick served twice

    def put(self, path: str, body: bytes, content_type: str) -> None:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        with self.lock:
            self.bodies[path] = (body, content_type, etag)

    def answer(self, path: str, if_none_match: str | None) -> tuple[int, bytes, str, str]:
        with self.lock:
            found = self.bodies.get(path)
            is_feed = path.startswith("/feed/")
            if found is None:
                return 404, b"not here\n", "text/plain", ""
            body, content_type, etag = found
            unchanged = is_feed and if_none_match == etag
            if is_feed:
                self.seen.add(path)
            if is_feed and self.counting:
                self.polls += 1
                self.not_modified += unchanged
                now = time.monotonic()
                if now - self.last_poll.get(path, -1e9) < self.half_interval:
                    self.close_repeats += 1
                self.last_poll[path] = now
        return (304 if unchanged else 200), (b"" if unchanged else body), content_type, etag


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = socket.SOMAXCONN  # not socketserver's 5: dropped SYNs come back 1 s later


def serve(feeds: Feeds, host: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall between them

        def do_GET(self) -> None:
            status, body, content_type, etag = feeds.answer(self.path, self.headers.get("If-None-Match"))
            self.send_response(status)
            if etag:
                self.send_header("ETag", etag)
            if status != 304:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = Server((host, PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def empty_feed(title: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.invalid/</link><description>bench</description>"
        "</channel></rss>"
    ).encode()


def write_config(directory: Path, urls: list[str], slack_url: str, every: float, redis: bool) -> Path:
    sources = "\n".join(f'  - {{name: "feed {i}", type: rss, url: "{url}"}}' for i, url in enumerate(urls))
    config = directory / "vigia.yaml"
    config.write_text(
        f"""database:
  url: sqlite:///{directory / 'vigia.db'}
slack:
  token: xoxb-bench-token
  base_url: {slack_url}
sources:
{sources}
crawler:
  obey_robots: true
{f"  redis_url: {REDIS_URL}" if redis else ""}
daemon:
  every: {every:g}s
  min_every: {every:g}s
  max_every: {every:g}s
  http: 127.0.0.1:0
""",
        encoding="utf-8",
    )
    return config


def tree_cpu(pid: int) -> float:
    return sum(procfs.cpu_seconds(member) for member in procfs.tree(pid))


def cpu_by_roles(roots: list[int]) -> dict[str, float]:
    roles = cpu_by_role(roots[0])
    for i, root in enumerate(roots[1:]):
        for role, seconds in cpu_by_role(root, top=f"redis worker {i}").items():
            roles[role] = roles.get(role, 0.0) + seconds
    return roles


def clear_redis(config: Path) -> None:
    import redis

    from vigia.config import load_config
    from vigia.crawl_spec import redis_prefix

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(redis_prefix(load_config(config)) + ":*"):
        client.delete(key)


def cpu_by_role(pid: int, top: str = "daemon") -> dict[str, float]:
    """CPU so far of the daemon itself, its crawl worker, and the rest (the extraction pool)."""
    roles: dict[str, float] = {}
    for member in procfs.tree(pid):
        try:
            cmdline = Path(f"/proc/{member}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        role = top if member == pid else "worker" if b"worker" in cmdline else "pool"
        roles[role] = roles.get(role, 0.0) + procfs.cpu_seconds(member, reaped_children=role != "worker")
    return roles


def resident_by_role(roots: list[int]) -> dict[str, tuple[int, int]]:
    """(RSS, PSS) bytes now of the daemon itself, its crawl worker(s), and the rest (the extraction pool)."""
    sizes: dict[str, tuple[int, int]] = {}
    for root in roots:
        for member in procfs.tree(root):
            try:
                cmdline = Path(f"/proc/{member}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            role = "daemon" if member == roots[0] else "worker" if b"worker" in cmdline else "pool"
            rss, pss = sizes.get(role, (0, 0))
            sizes[role] = (rss + procfs.resident_bytes(member), pss + procfs.proportional_bytes(member))
    return sizes


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return (total - idle) / procfs.TICKS, total / procfs.TICKS


def story() -> LabelledArticle:
    from rules import Document, load_rules
    from tests.support.labelled import load_labelled, stories

    ruleset = load_rules([{"builtin": "mx-us-security"}], REPO)
    for group in stories(load_labelled()).values():
        article = group[0]
        if ruleset.match(Document(title=article.title, text="\n\n".join(article.paragraphs))):
            return article
    raise SystemExit("no matching story in the labelled set")


def run(
    n: int,
    every: float,
    window: float,
    hosts: int,
    servers: dict[str, ThreadingHTTPServer],
    feeds: Feeds,
    redis_workers: int,
    memory_every: float = 0.0,
) -> None:
    feeds.half_interval = every / 2
    host_names = [f"127.0.1.{h}" for h in range(1, hosts + 1)]
    for host in host_names:
        if host not in servers:
            servers[host] = serve(feeds, host)
    urls, paths = [], []
    for i in range(n):
        path = f"/feed/{n}-{i}.xml"
        paths.append(path)
        feeds.put(path, empty_feed(f"feed {i}"), "application/rss+xml")
        urls.append(f"http://{host_names[i % hosts]}:{PORT}{path}")
    article = story()
    target = n // 2
    target_host = host_names[target % hosts]
    with tempfile.TemporaryDirectory(prefix="vigia-scale-") as scratch, SlackStandIn() as slack:
        config = write_config(Path(scratch), urls, slack.url, every, redis=redis_workers > 0)
        daemon = subprocess.Popen(
            [sys.executable, "-m", "vigia", "run", "--config", str(config), "--log-format", "json", "--log-level", "WARNING"],
            cwd=scratch,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=open(Path(scratch) / "daemon.log", "w"),  # noqa: SIM115 - closed with the directory
        )
        if redis_workers:
            # Workers start once the daemon has migrated the fresh database (two first migrations
            # at once on one SQLite file collide).
            log = Path(scratch) / "daemon.log"
            while "vigia run: watching" not in log.read_text(errors="replace") and daemon.poll() is None:
                time.sleep(0.2)
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "vigia", "worker", "--config", str(config), "--log-format", "json"],
                cwd=scratch,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=subprocess.DEVNULL,
                stderr=open(Path(scratch) / f"worker-{i}.log", "w"),  # noqa: SIM115 - closed with the directory
            )
            for i in range(redis_workers)
        ]
        roots = [daemon.pid] + [w.pid for w in workers]
        started = time.monotonic()
        try:
            # Warm-up: start-up, migrations, the first (200) poll of every feed, robots.txt per host;
            # then half an interval more, so the window starts in the steady state.
            warm_until = time.monotonic() + 10 * every
            while len(feeds.seen & set(paths)) < n and time.monotonic() < warm_until:
                time.sleep(0.5)
            warm_up = time.monotonic() - started
            time.sleep(every / 2)
            feeds.counting, feeds.polls, feeds.not_modified = True, 0, 0
            cpu0, (busy0, total0), t0 = sum(map(tree_cpu, roots)), machine_busy(), time.monotonic()
            roles0 = cpu_by_roles(roots)
            peak_rss = 0
            published_at = seen_at = None
            next_trace = t0
            while (now := time.monotonic()) - t0 < window:
                peak_rss = max(peak_rss, sum(map(procfs.tree_resident_bytes, roots)))
                if memory_every and now >= next_trace:
                    sizes = resident_by_role(roots)
                    said = ", ".join(f"{role} {rss / 1e6:.0f}/{pss / 1e6:.0f}" for role, (rss, pss) in sorted(sizes.items()))
                    total_rss, total_pss = (sum(size[i] for size in sizes.values()) / 1e6 for i in (0, 1))
                    print(
                        f"  resident (RSS/PSS MB) at {now - t0:5.0f}s: {said}; total {total_rss:.0f}/{total_pss:.0f} MB",
                        flush=True,
                    )
                    next_trace += memory_every
                if published_at is None and now - t0 > window / 2 - every:
                    feeds.put(article.path, article_page(article).encode(), "text/html; charset=utf-8")
                    content_type, body = feed("rss", f"feed {target}", f"http://{target_host}:{PORT}", [article])
                    feeds.put(f"/feed/{n}-{target}.xml", body.encode(), content_type)
                    published_at = now
                if published_at is not None and seen_at is None and article.path in json.dumps(slack.messages, ensure_ascii=False):
                    seen_at = now
                time.sleep(0.2)
            cpu1, (busy1, total1), t1 = sum(map(tree_cpu, roots)), machine_busy(), time.monotonic()
            roles1 = cpu_by_roles(roots)
            feeds.counting = False
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(60)
                except subprocess.TimeoutExpired:
                    worker.kill()
            if workers:
                clear_redis(config)
            daemon.send_signal(signal.SIGTERM)
            try:
                code = daemon.wait(90)
            except subprocess.TimeoutExpired:
                daemon.kill()
                code = daemon.wait()
        log_lines = (Path(scratch) / "daemon.log").read_text(errors="replace").splitlines()
        worker_codes = [w.returncode for w in workers]
        for i in range(redis_workers):
            log_lines += (Path(scratch) / f"worker-{i}.log").read_text(errors="replace").splitlines()
    span = t1 - t0
    due = n * span / every
    cpu = cpu1 - cpu0
    cores = os.cpu_count() or 1
    polls = feeds.polls
    print(f"N={n} feeds on {hosts} hosts, every {every:g}s, window {span:.0f}s (every feed first polled {warm_up:.0f}s after start)")
    print(f"  polls answered: {polls} of {due:.0f} due ({100 * polls / due:.1f}%), {feeds.not_modified} answered 304")
    print(f"  feeds polled twice within half an interval: {feeds.close_repeats}")
    print(
        f"  daemon tree CPU: {cpu:.1f}s = {100 * cpu / (span * cores):.1f}% of the machine's {cores} cores; "
        f"{1000 * cpu / max(polls, 1):.2f} ms per poll; peak resident {peak_rss / 1e6:.0f} MB"
    )
    split = ", ".join(f"{role} {roles1[role] - roles0.get(role, 0.0):.1f}s" for role in sorted(roles1))
    print(f"  of which: {split}")
    machine = (busy1 - busy0) / ((total1 - total0) or 1)
    print(f"  whole machine busy meanwhile: {100 * machine:.0f}% (other helpers' work and this script's servers included)")
    if published_at is None:
        print("  latency: no story published (window too short)")
    elif seen_at is None:
        print(f"  latency: the story published {t1 - published_at:.0f}s before the end had not reached Slack")
    else:
        print(f"  latency: story published -> Slack in {seen_at - published_at:.1f}s (interval {every:g}s)")
    errors = [line for line in log_lines if '"level": "error"' in line]
    workers_said = f", workers' exit statuses {worker_codes}" if redis_workers else ""
    print(f"  daemon exit status {code}{workers_said}; {len(errors)} error lines in the logs")
    for line in errors[:3]:
        print("   ", line[:300])


def main() -> None:
    global PORT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, nargs="+", default=[100, 1400, 5000])
    parser.add_argument("--every", type=float, default=60.0, help="poll interval T in seconds (default 60)")
    parser.add_argument("--window", type=float, default=120.0, help="measuring window in seconds (default 120)")
    parser.add_argument("--hosts", type=int, default=100, help="loopback hosts 127.0.1.1.. to spread the feeds over")
    parser.add_argument("--redis-workers", type=int, default=0, help="poll through Redis with this many `vigia worker`")
    parser.add_argument("--memory-every", type=float, default=0.0, help="print resident sizes every this many seconds")
    parser.add_argument("--port", type=int, default=PORT, help=f"the feed servers' port (default {PORT})")
    args = parser.parse_args()
    PORT = args.port
    servers: dict[str, ThreadingHTTPServer] = {}
    feeds = Feeds()
    print(f"bench/scale.py: {' '.join(sys.argv[1:]) or '(defaults)'}; load average before: {os.getloadavg()[0]:.2f}")
    for n in args.feeds:
        run(n, args.every, args.window, args.hosts, servers, feeds, args.redis_workers, args.memory_every)


if __name__ == "__main__":
    main()
