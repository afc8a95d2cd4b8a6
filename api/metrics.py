"""Request metrics as Prometheus collectors (``prometheus_client``), one registry per app.

- ``graphrec_http_requests_total{method, route, status}``: a counter;
- ``graphrec_http_request_duration_seconds{method, route}``: a histogram (fixed
  buckets, so replicas' series add up; quantiles are computed by the server
  from the buckets, never per process);
- ``graphrec_http_exceptions_total{method, route}``: requests that raised instead
  of answering (they count as status 500 above too);
- gauges read from the service when scraped: ``graphrec_catalog_items``,
  ``graphrec_writer_queue``, ``graphrec_model_version{model}``; and the
  ``process_*`` metrics of this process.

Label values come from a closed set whatever clients send: ``method`` is one of
:data:`KNOWN_METHODS` or ``other``; ``route`` is the template of the route that
matched (``/users/{user_id}/recommendations``, never the concrete path) or
``other``; ``status`` is the status code the app answered with.

:class:`MetricsMiddleware` is plain ASGI (no per-request task or body copy).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Methods recorded by name; any other token is recorded as :data:`OTHER`.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The label value of an unknown method or an unrouted path.
OTHER = "other"
#: Latency buckets in seconds: an in-memory ranking takes about a millisecond, an
#: explanation up to the explain timeout, a write up to the graph timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: The content type of the text exposition format written by :meth:`Metrics.prometheus`.
PROMETHEUS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

#: ``gauges()``: the service's gauges now, name -> value, or name -> {model: value}.
GaugeSource = Callable[[], Mapping[str, float | Mapping[str, float]]]


class _ServiceGauges(Collector):
    """Gauges read from the running service at scrape time (none before it started)."""

    def __init__(self) -> None:
        self.source: GaugeSource | None = None

    def collect(self) -> Iterator[Metric]:
        if self.source is None:
            return
        for name, value in sorted(self.source().items()):
            if isinstance(value, Mapping):
                label = "model"
                family = GaugeMetricFamily(
                    f"graphrec_{name}", name.replace("_", " "), labels=[label]
                )
                for key, number in sorted(value.items()):
                    family.add_metric([key], float(number))
            else:
                family = GaugeMetricFamily(f"graphrec_{name}", name.replace("_", " "), float(value))
            yield family


class Metrics:
    """The app's collectors, in a registry of its own (two apps in a process do not mix)."""

    def __init__(self) -> None:
        self.started = time.time()
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "graphrec_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "graphrec_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.exceptions = Counter(
            "graphrec_http_exceptions",
            "HTTP requests that raised an unhandled exception, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self._gauges = _ServiceGauges()
        self.registry.register(self._gauges)
        ProcessCollector(registry=self.registry)

    def watch(self, source: GaugeSource) -> None:
        """Read the service's gauges from ``source`` at each scrape."""
        self._gauges.source = source

    def record(
        self, method: str, route: str | None, status: int, seconds: float, *, failed: bool = False
    ) -> None:
        """Count one request; ``method`` and ``route`` outside the closed set become ``other``."""
        method = method if method in KNOWN_METHODS else OTHER
        route = route or OTHER
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        if failed:
            self.exceptions.labels(method, route).inc()

    def prometheus(self) -> bytes:
        """The Prometheus text exposition format (version 0.0.4)."""
        return generate_latest(self.registry)

    def as_dict(self) -> dict[str, Any]:
        """The same collectors as JSON: per route, counts by status and the latency histogram."""
        routes: dict[tuple[str, str], dict[str, Any]] = {}

        def entry(labels: Mapping[str, str]) -> dict[str, Any]:
            key = (labels["method"], labels["route"])
            if key not in routes:
                routes[key] = {
                    "method": key[0],
                    "route": key[1],
                    "count": 0,
                    "statuses": {},
                    "latency_seconds": {"count": 0, "sum": 0.0, "buckets": []},
                }
            return routes[key]

        for family in self.requests.collect():
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    route = entry(sample.labels)
                    route["statuses"][sample.labels["status"]] = int(sample.value)
                    route["count"] += int(sample.value)
        for family in self.latency.collect():
            for sample in family.samples:
                latency = entry(sample.labels)["latency_seconds"]
                if sample.name.endswith("_bucket"):
                    latency["buckets"].append(
                        {"le": sample.labels["le"], "count": int(sample.value)}
                    )
                elif sample.name.endswith("_count"):
                    latency["count"] = int(sample.value)
                elif sample.name.endswith("_sum"):
                    latency["sum"] = sample.value
        gauges: dict[str, float] = {}
        for family in self._gauges.collect():
            for sample in family.samples:
                suffix = "".join(f"_{value}" for value in sample.labels.values())
                gauges[sample.name.removeprefix("graphrec_") + suffix] = sample.value
        for route in routes.values():
            route["statuses"] = dict(sorted(route["statuses"].items()))
        return {
            "uptime_seconds": time.time() - self.started,
            "routes": [routes[key] for key in sorted(routes, key=lambda k: (k[1], k[0]))],
            "gauges": gauges,
        }


class MetricsMiddleware:
    """Time every HTTP request and record it under its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering
        failed = True

        async def send_and_see(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_see)
            failed = False
        finally:
            route = getattr(scope.get("route"), "path", None)
            self.metrics.record(
                scope["method"], route, status, time.perf_counter() - start, failed=failed
            )
