"""The daemon behind ``vigia run``: schedule crawls, supervise their processes, deliver continuously.

Modules, in the order a tick flows through them: schedule (one APScheduler job per
source), crawl_job (what a tick does), supervisor (the crawl subprocess), polling and
source_state (the next interval), delivery_loop (outbox to Slack), metrics and
http_endpoint (/healthz, /metrics), config_snapshot (crawls keep the accepted config),
lifecycle (start, SIGHUP, SIGTERM).
"""
