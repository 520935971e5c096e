"""Prometheus metrics of one gateway app (own registry, so several apps can live in one process).

With ``--workers N`` set ``PROMETHEUS_MULTIPROC_DIR`` to aggregate across worker processes.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("hegui_requests_total", "Requests answered, by endpoint and HTTP status",
                                ["endpoint", "status"], registry=self.registry)
        self.decisions = Counter("hegui_decisions_total", "Moderation decisions by direction, action and risk",
                                 ["direction", "action", "category"], registry=self.registry)
        self.upstream_latency = Histogram("hegui_upstream_latency_seconds",
                                          "Time the upstream took (to the last byte)", ["upstream"],
                                          buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.overhead = Histogram("hegui_gateway_overhead_seconds",
                                  "Time spent in hegui per request (total minus upstream)", ["endpoint"],
                                  buckets=_OVERHEAD_BUCKETS, registry=self.registry)
        self.rate_limited = Counter("hegui_rate_limited_total",
                                    "Requests refused by the per-key rate limit (429, not audited), by endpoint",
                                    ["endpoint"], registry=self.registry)
        self.audit_write = Histogram("hegui_audit_write_seconds", "Wait for the audit record to commit",
                                     buckets=_OVERHEAD_BUCKETS, registry=self.registry)

    def decision(self, direction: str, action: str, categories: list[str]) -> None:
        for cat in categories or ["none"]:
            self.decisions.labels(direction, action, cat).inc()

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            reg = CollectorRegistry()
            multiprocess.MultiProcessCollector(reg)  # type: ignore[no-untyped-call]
            return bytes(generate_latest(reg))
        return bytes(generate_latest(self.registry))
