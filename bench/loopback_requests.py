"""Requests a second one loopback news site serves over one keep-alive connection: prints figures, asserts nothing.

Scrapy keeps a connection per host open, so this is the pace at which a crawl of one
loopback outlet (the tests', the benches') can go.

    python bench/loopback_requests.py [--seconds 3] [--size 20000]
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.news_site import NewsSite


def requests_per_second(site: NewsSite, path: str, seconds: float) -> float:
    connection = http.client.HTTPConnection(site.host, site.port, timeout=10)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"unexpected HTTP {response.status} for {path}")
        count += 1
    connection.close()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long each measurement runs")
    parser.add_argument("--size", type=int, default=20_000, help="page size in bytes")
    args = parser.parse_args()
    with NewsSite() as site:
        site.add("/page.html", b"<html><body>" + b"x" * max(args.size - 27, 0) + b"</body></html>", conditional=False)
        rate = requests_per_second(site, "/page.html", args.seconds)
    print(f"one keep-alive connection, {args.size}-byte page, {args.seconds:g} s: {rate:,.0f} requests/s")


if __name__ == "__main__":
    main()
