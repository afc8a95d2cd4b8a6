"""Property-based requests generated from the app's own OpenAPI schema: no 5xx, ever.

Every operation gets a bounded number of examples (valid and invalid), sent
with the API key so that writes are exercised too, against a live server on
its own database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402  (after the skip check)

EXAMPLES = {"POST /admin/reload": 3}
DEFAULT_EXAMPLES = 25


def test_no_server_errors(
    fresh_graph: Any, make_app: Callable[..., Any], serve: Callable[..., Any], api_key: str
) -> None:
    app = make_app(fresh_graph)
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: list[str] = []
    with serve(app) as server:
        for result in schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            run_examples(operation, label, server.url, api_key, failures)
    assert not failures, "\n".join(failures[:10])


def run_examples(operation: Any, label: str, base: str, api_key: str, failures: list[str]) -> None:
    """Send ``operation``'s generated cases; record any 5xx in ``failures``."""

    @settings(
        max_examples=EXAMPLES.get(label, DEFAULT_EXAMPLES),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        response = case.call(base_url=base, headers={"X-API-Key": api_key})
        if response.status_code >= 500:
            failures.append(
                f"{label}: {response.status_code} for {case.path_parameters} "
                f"{case.query} {case.body!r}: {response.text[:200]}"
            )

    check()
