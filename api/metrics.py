"""Request counts and latency percentiles, kept in memory, rendered as JSON or Prometheus text.

:class:`MetricsMiddleware` is plain ASGI (no per-request task or body copy) and
records every HTTP request under its route template
(``/users/{user_id}/recommendations``, not the concrete path), so the number of
series stays bounded whatever clients send.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Latencies kept per route for the percentiles (a ring buffer: the most recent ones).
WINDOW = 8_192
QUANTILES = (0.5, 0.95, 0.99)
UNMATCHED = "<unmatched>"


@dataclass
class RouteStats:
    """Counts by status code and a window of recent latencies for one (method, route)."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: np.ndarray = field(default_factory=lambda: np.zeros(WINDOW))
    total_seconds: float = 0.0
    count: int = 0

    def record(self, status: int, seconds: float) -> None:
        self.latencies[self.count % WINDOW] = seconds
        self.count += 1
        self.total_seconds += seconds
        self.statuses[status] += 1

    def quantiles(self) -> dict[float, float]:
        window = self.latencies[: min(self.count, WINDOW)]
        if window.size == 0:
            return dict.fromkeys(QUANTILES, 0.0)
        values = np.quantile(window, QUANTILES)
        return {q: float(v) for q, v in zip(QUANTILES, values, strict=True)}


class Metrics:
    """All routes' statistics since start-up."""

    def __init__(self) -> None:
        self.started = time.time()
        self.routes: dict[tuple[str, str], RouteStats] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        stats = self.routes.get((method, route))
        if stats is None:
            stats = self.routes[(method, route)] = RouteStats()
        stats.record(status, seconds)

    def as_dict(self, gauges: dict[str, float] | None = None) -> dict[str, Any]:
        routes = []
        for (method, route), stats in sorted(self.routes.items(), key=lambda kv: kv[0][::-1]):
            q = stats.quantiles()
            routes.append(
                {
                    "method": method,
                    "route": route,
                    "count": stats.count,
                    "statuses": {str(code): n for code, n in sorted(stats.statuses.items())},
                    "latency_ms": {
                        "p50": q[0.5] * 1e3,
                        "p95": q[0.95] * 1e3,
                        "p99": q[0.99] * 1e3,
                        "mean": stats.total_seconds / stats.count * 1e3 if stats.count else 0.0,
                    },
                }
            )
        return {
            "uptime_seconds": time.time() - self.started,
            "routes": routes,
            "gauges": dict(gauges or {}),
        }

    def prometheus(self, gauges: dict[str, float] | None = None) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines = [
            "# HELP graphrec_http_requests_total HTTP requests by method, route and status.",
            "# TYPE graphrec_http_requests_total counter",
        ]
        for (method, route), stats in sorted(self.routes.items()):
            for status, n in sorted(stats.statuses.items()):
                labels = _labels(method=method, route=route, status=str(status))
                lines.append(f"graphrec_http_requests_total{{{labels}}} {n}")
        lines += [
            "# HELP graphrec_http_request_duration_seconds Request latency over the last "
            f"{WINDOW} requests per route.",
            "# TYPE graphrec_http_request_duration_seconds summary",
        ]
        for (method, route), stats in sorted(self.routes.items()):
            for q, value in stats.quantiles().items():
                labels = _labels(method=method, route=route, quantile=str(q))
                lines.append(f"graphrec_http_request_duration_seconds{{{labels}}} {value:.6f}")
            labels = _labels(method=method, route=route)
            lines.append(
                f"graphrec_http_request_duration_seconds_sum{{{labels}}} {stats.total_seconds:.6f}"
            )
            lines.append(f"graphrec_http_request_duration_seconds_count{{{labels}}} {stats.count}")
        for name, value in sorted((gauges or {}).items()):
            lines.append(f"# TYPE graphrec_{name} gauge")
            lines.append(f"graphrec_{name} {value}")
        return "\n".join(lines) + "\n"


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return ",".join(f'{key}="{escape(value)}"' for key, value in labels.items())


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

        async def send_and_see(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_see)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            self.metrics.record(scope["method"], template, status, time.perf_counter() - start)
