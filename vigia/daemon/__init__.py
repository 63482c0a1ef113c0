"""The daemon behind ``vigia run``: schedule polls, supervise the crawl worker, deliver continuously.

Modules, in the order a tick flows through them: schedule (one APScheduler job per
source), tick (what a tick does), poll_outcome (what a poll answers), supervisor (the
long-lived crawl worker: worker_process starts and stops it, worker_protocol is the JSON
lines it speaks, worker_health decides when it is hung or worn, poll_book holds its polls)
or redis_jobs (the job queue `vigia worker` processes take polls from), blame (which
source a worker death is charged to), polling and source_state (the next interval,
quarantine), delivery_loop (outbox to Slack), metrics,
db_probe and http_endpoint (/healthz, /metrics), procfs (the worker's size), config_snapshot
(the worker keeps the accepted config), lifecycle (start, SIGHUP, SIGTERM).
"""
