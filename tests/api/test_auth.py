"""API key: writes and admin need it, reads only when locked; insecure set-ups refuse to start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graphrec.api.main import InsecureConfigError


def test_refuses_to_start_with_writes_and_no_key(
    make_app: Callable[..., Any], shared_graph: Any
) -> None:
    with pytest.raises(InsecureConfigError, match="GRAPHREC_API_KEY"):
        make_app(shared_graph, api_key=None)
    with pytest.raises(InsecureConfigError, match="LOCK_READS"):
        make_app(shared_graph, api_key=None, api_lock_reads=True, app_options={"read_only": True})


def test_writes_and_admin_need_the_key(writable_client: TestClient, trained: Any) -> None:
    item = trained.embeddings["Item"].ids[0]
    body = {"user_id": "auth-user", "item_id": item}
    without = {"X-API-Key": ""}
    for method, path, payload in (
        ("POST", "/interactions", body),
        ("POST", "/items", {"id": "auth-item"}),
        ("POST", "/admin/reload", None),
    ):
        missing = writable_client.request(method, path, json=payload, headers=without)
        wrong = writable_client.request(method, path, json=payload, headers={"X-API-Key": "nope"})
        assert missing.status_code == 401, (path, missing.text)
        assert missing.json()["detail"] == "missing X-API-Key header"
        assert wrong.status_code == 403 and wrong.json()["detail"] == "invalid API key"
    assert writable_client.post("/interactions", json=body).status_code == 201  # with the key


def test_reads_are_open_by_default(writable_client: TestClient, trained: Any) -> None:
    user = trained.embeddings["User"].ids[0]
    response = writable_client.get(f"/users/{user}/recommendations", headers={"X-API-Key": ""})
    assert response.status_code == 200


def test_reads_can_be_locked(
    client_for: Callable[..., TestClient], shared_graph: Any, api_key: str, trained: Any
) -> None:
    client = client_for(shared_graph, api_lock_reads=True)
    user, item = trained.embeddings["User"].ids[0], trained.embeddings["Item"].ids[0]
    for path in (f"/users/{user}/recommendations", f"/items/{item}/similar", "/metrics"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"X-API-Key": "nope"}).status_code == 403
        assert client.get(path, headers={"X-API-Key": api_key}).status_code == 200
    assert client.get("/health").status_code == 200  # for load balancers


def test_read_only_service_refuses_writes(
    client_for: Callable[..., TestClient], shared_graph: Any, api_key: str
) -> None:
    client = client_for(shared_graph, app_options={"read_only": True})
    response = client.post("/items", json={"id": "ro"}, headers={"X-API-Key": api_key})
    assert response.status_code == 403 and "read-only" in response.json()["detail"]
    assert client.get("/health").json()["writes"] is False


def test_read_only_without_key_starts_with_admin_disabled(
    client_for: Callable[..., TestClient], shared_graph: Any
) -> None:
    client = client_for(shared_graph, api_key=None, app_options={"read_only": True})
    assert client.post("/admin/reload").status_code == 403


def test_dev_mode_accepts_writes_without_a_key(
    client_for: Callable[..., TestClient], module_graph: Any, trained: Any
) -> None:
    client = client_for(module_graph, api_key=None, app_options={"dev": True})
    item = trained.embeddings["Item"].ids[1]
    response = client.post("/interactions", json={"user_id": "dev-user", "item_id": item})
    assert response.status_code == 201
