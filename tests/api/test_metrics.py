"""``GET /metrics``: Prometheus collectors whose label values come from a closed set."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

SERIES = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) ", re.MULTILINE)


def _series(text: str) -> set[str]:
    """Every series in an exposition (name and labels, without the value)."""
    return set(SERIES.findall(text))


def test_made_up_methods_do_not_grow_metrics(shared_client: TestClient, trained: Any) -> None:
    user = trained.embeddings["User"].ids[0]
    paths = [f"/users/{user}/recommendations", "/no/such/route", "/health"]
    for path in paths:  # every kind of answer once, so their series exist
        shared_client.request("BREW", path)
        shared_client.get(path)
    shared_client.get("/metrics")  # and the scrape's own
    before = shared_client.get("/metrics").text
    for n in range(300):
        response = shared_client.request(f"M{n}X", paths[n % len(paths)])
        assert response.status_code in (404, 405)
    after = shared_client.get("/metrics").text
    assert _series(after) == _series(before)
    assert len(after) < len(before) * 1.05  # only counts changed
    methods = {
        sample.labels["method"]
        for family in text_string_to_metric_families(after)
        for sample in family.samples
        if "method" in sample.labels
    }
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "other" in methods


def test_prometheus_histograms_and_counters_per_route(
    shared_client: TestClient, trained: Any
) -> None:
    user = trained.embeddings["User"].ids[0]
    for _ in range(3):
        shared_client.get(f"/users/{user}/recommendations")
    shared_client.get("/users/nobody-at-all/recommendations")
    shared_client.get("/no/such/route")
    response = shared_client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    requests = families["graphrec_http_requests"]
    assert requests.type == "counter"
    counts = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in requests.samples
        if s.name.endswith("_total")
    }
    route = "/users/{user_id}/recommendations"
    assert counts[("GET", route, "200")] >= 3 and counts[("GET", route, "404")] >= 1
    assert counts[("GET", "other", "404")] >= 1  # an unrouted path is "other", not its text
    latency = families["graphrec_http_request_duration_seconds"]
    assert latency.type == "histogram"
    buckets = [
        s
        for s in latency.samples
        if s.name.endswith("_bucket") and s.labels["route"] == route and s.labels["method"] == "GET"
    ]
    assert buckets and buckets[-1].labels["le"] == "+Inf" and buckets[-1].value >= 4
    assert not any("quantile" in s.labels for f in families.values() for s in f.samples)
    gauges = {s.name: s for f in families.values() if f.type == "gauge" for s in f.samples}
    items = shared_client.get("/health").json()["items"]
    assert gauges["graphrec_catalog_items"].value == items
    model = next(s for s in gauges.values() if s.name == "graphrec_model_version")
    assert model.labels == {"model": "lightgcn"} and model.value >= 1


def test_json_view_is_derived_from_the_same_collectors(
    shared_client: TestClient, trained: Any
) -> None:
    user = trained.embeddings["User"].ids[1]
    shared_client.get(f"/users/{user}/recommendations")
    body = shared_client.get("/metrics", params={"format": "json"}).json()
    route = next(
        r
        for r in body["routes"]
        if r["route"] == "/users/{user_id}/recommendations" and r["method"] == "GET"
    )
    assert route["statuses"]["200"] >= 1 and route["count"] == sum(route["statuses"].values())
    assert route["latency_seconds"]["count"] == route["count"]
    assert route["latency_seconds"]["buckets"][-1] == {"le": "+Inf", "count": route["count"]}
    text = shared_client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    total = sum(
        s.value
        for s in families["graphrec_http_requests"].samples
        if s.name.endswith("_total")
        and s.labels["route"] == route["route"]
        and s.labels["method"] == "GET"
    )
    assert total >= route["count"]  # the text view was taken later
    assert body["gauges"]["catalog_items"] == shared_client.get("/health").json()["items"]
    assert body["gauges"]["model_version_lightgcn"] >= 1
