"""Per-key rate limiting: a token bucket per caller, in this process's memory.

A caller is its API key when the key is one of the configured keys, else its
client address (so that made-up keys do not each get a bucket of their own).
Each bucket holds ``api_rate_burst`` tokens and refills at ``api_rate_limit``
per second; a request takes one token, or is answered 429 with
``Retry-After`` (whole seconds until a token is back). ``/health`` is not
limited (load balancers poll it).

The buckets are per process: with N replicas behind a balancer a key may make
up to N times the rate in all.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict

from fastapi import status
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from graphrec.config import Settings

from .deps import API_KEY_HEADER, key_scope
from .errors import body

#: Paths never limited.
EXEMPT = frozenset({"/health"})
#: Buckets kept at most (the least recently used go first; a dropped bucket starts full).
MAX_BUCKETS = 100_000


class TokenBuckets:
    """Token buckets by caller: ``take(caller)`` is 0 when allowed, else seconds to wait."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic) -> None:  # noqa: ANN001
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be positive and burst at least 1, got {rate}, {burst}")
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, caller: str) -> float:
        now = self.clock()
        tokens, then = self._buckets.pop(caller, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[caller] = (tokens, now)
        while len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return wait


class RateLimitMiddleware:
    """429 for callers over ``api_rate_limit`` requests per second (off when it is 0)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        rate = settings.api_rate_limit
        self.buckets = TokenBuckets(rate, settings.api_rate_burst) if rate > 0 else None

    def caller(self, scope: Scope) -> str:
        key = Headers(scope=scope).get(API_KEY_HEADER.lower())
        if key and key_scope(self.settings, key) is not None:
            return "key:" + hashlib.sha256(key.encode()).hexdigest()
        client = scope.get("client")
        return f"addr:{client[0] if client else 'unknown'}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(self.caller(scope))
        if wait > 0:
            retry = max(1, math.ceil(wait))
            response = JSONResponse(
                body(
                    429,
                    f"rate limit of {self.settings.api_rate_limit:g} requests per second "
                    f"(burst {self.settings.api_rate_burst}) exceeded; retry in {retry} s",
                ),
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(retry)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
