"""The health endpoint: what Docker's HEALTHCHECK and Prometheus see."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from vigia.daemon.http_endpoint import HealthEndpoint, parse_address
from vigia.daemon.metrics import DaemonMetrics


async def _get(port: int, request: bytes) -> tuple[str, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return head.decode().split("\r\n")[0], body


def _serve(healthy: tuple[bool, str], *requests: bytes) -> list[tuple[str, bytes]]:
    async def scenario() -> list[tuple[str, bytes]]:
        metrics = DaemonMetrics()
        metrics.crawls.labels("El Universal", "ok").inc()
        endpoint = HealthEndpoint("127.0.0.1:0", metrics, lambda: healthy)
        await endpoint.start()
        try:
            return [await _get(endpoint.port, request) for request in requests]
        finally:
            await endpoint.close()

    return asyncio.run(scenario())


def test_healthz_is_200_while_alive_and_503_otherwise() -> None:
    [(status, body)] = _serve((True, "scheduler running"), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == "HTTP/1.1 200 OK" and body.startswith(b"ok")
    [(status, body)] = _serve((False, "the dispatcher is not running"), b"GET /healthz HTTP/1.1\r\n\r\n")
    assert status == "HTTP/1.1 503 Service Unavailable"
    assert b"dispatcher is not running" in body


def test_metrics_are_prometheus_text() -> None:
    [(status, body)] = _serve((True, ""), b"GET /metrics HTTP/1.1\r\n\r\n")
    assert status == "HTTP/1.1 200 OK"
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(body.decode()) for s in f.samples}
    assert samples[("vigia_crawls_total", (("outcome", "ok"), ("source", "El Universal")))] == 1


def test_other_paths_and_methods_are_refused() -> None:
    answers = _serve((True, ""), b"GET /admin HTTP/1.1\r\n\r\n", b"POST /healthz HTTP/1.1\r\n\r\n", b"HEAD /healthz HTTP/1.1\r\n\r\n")
    assert [status for status, _ in answers] == ["HTTP/1.1 404 Not Found", "HTTP/1.1 405 Method Not Allowed", "HTTP/1.1 200 OK"]
    assert answers[2][1] == b""


def test_an_address_without_host_means_loopback() -> None:
    assert parse_address(":9108") == ("127.0.0.1", 9108)
    assert parse_address("0.0.0.0:9108") == ("0.0.0.0", 9108)
    assert parse_address("[::1]:9108") == ("::1", 9108)


def test_per_source_series_read_as_prometheus_client_would_publish_them() -> None:
    metrics = DaemonMetrics()
    for seconds in (0.02, 1.0, 700.0):
        metrics.crawl_duration.labels("rss").observe(seconds)
    metrics.last_duration.labels("El Universal").set(700.0)
    metrics.articles.labels("El Universal", "fetched").inc(4)
    metrics.poll_interval.labels("El Universal").set(60)
    metrics.poll_interval.labels("Retirado").set(900)
    metrics.last_duration.labels("Retirado").set(3.0)
    metrics.forget_source("Retirado")

    text = metrics.exposition().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}

    assert families["vigia_crawl_duration_seconds"].type == "histogram"
    bucket = "vigia_crawl_duration_seconds_bucket"
    assert samples[(bucket, (("le", "0.01"), ("type", "rss")))] == 0
    assert samples[(bucket, (("le", "0.05"), ("type", "rss")))] == 1
    assert samples[(bucket, (("le", "1.0"), ("type", "rss")))] == 2  # le: a bound is inclusive
    assert samples[(bucket, (("le", "600.0"), ("type", "rss")))] == 2
    assert samples[(bucket, (("le", "+Inf"), ("type", "rss")))] == 3
    assert samples[("vigia_crawl_duration_seconds_count", (("type", "rss"),))] == 3
    assert samples[("vigia_crawl_duration_seconds_sum", (("type", "rss"),))] == 701.02
    assert samples[("vigia_source_last_poll_duration_seconds", (("source", "El Universal"),))] == 700.0
    assert samples[("vigia_articles_total", (("source", "El Universal"), ("stage", "fetched")))] == 4
    assert samples[("vigia_source_poll_interval_seconds", (("source", "El Universal"),))] == 60
    assert ("vigia_source_poll_interval_seconds", (("source", "Retirado"),)) not in samples
    assert ("vigia_source_last_poll_duration_seconds", (("source", "Retirado"),)) not in samples
    assert "_created" not in text


def test_a_counter_refuses_to_go_down() -> None:
    metrics = DaemonMetrics()
    with pytest.raises(ValueError, match="non-negative"):
        metrics.crawls.labels("El Universal", "ok").inc(-1)
