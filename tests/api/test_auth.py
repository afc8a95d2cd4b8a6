"""API keys: admin and read scopes, several keys at once, reads about users locked by default,
catalog reads open by setting; insecure set-ups refuse to start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from graphrec.api.main import InsecureConfigError
from graphrec.config import Settings

READ_KEYS = ("read-key-aaaaaaaaaaaa", "read-key-bbbbbbbbbbbb")
OLD_ADMIN = "admin-key-old-0123456789"


def test_refuses_to_start_with_writes_and_no_key(
    make_app: Callable[..., Any], shared_graph: Any
) -> None:
    with pytest.raises(InsecureConfigError, match="GRAPHREC_API_KEY"):
        make_app(shared_graph, api_key=None)
    # Reads about users are locked by default: a read-only service still needs some key.
    with pytest.raises(InsecureConfigError, match="LOCK_READS"):
        make_app(shared_graph, api_key=None, app_options={"read_only": True})
    with pytest.raises(InsecureConfigError, match="LOCK_CATALOG"):
        make_app(
            shared_graph,
            api_key=None,
            api_lock_reads=False,
            api_lock_catalog=True,
            app_options={"read_only": True},
        )
    # Read keys alone are enough for a read-only service.
    make_app(
        shared_graph, api_key=None, api_read_keys=READ_KEYS[0], app_options={"read_only": True}
    )


@pytest.mark.parametrize(
    ("field", "setting"),
    [
        ("api_key", "GRAPHREC_API_KEY"),
        ("api_keys", "GRAPHREC_API_KEYS"),
        ("api_read_keys", "GRAPHREC_API_READ_KEYS"),
    ],
)
def test_short_keys_are_refused_naming_the_setting(field: str, setting: str) -> None:
    value = "x" * 40 + ",short" if field != "api_key" else "short"
    with pytest.raises(ValidationError, match=f"{setting}: key .* has 5 characters.*at least 16"):
        Settings(_env_file=None, **{field: value})
    assert Settings(_env_file=None, api_min_key_length=4, **{field: value}).has_keys


def test_key_lists_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHREC_API_KEYS", f" {OLD_ADMIN} ,, admin-key-new-0123456789")
    monkeypatch.setenv("GRAPHREC_API_READ_KEYS", ",".join(READ_KEYS))
    settings = Settings(_env_file=None)
    assert settings.admin_key_list() == [OLD_ADMIN, "admin-key-new-0123456789"]
    assert settings.read_key_list() == list(READ_KEYS)
    assert "read-key" not in repr(settings)  # secrets stay hidden


def test_writes_and_admin_need_an_admin_key(writable_client: TestClient, trained: Any) -> None:
    item = trained.embeddings["Item"].ids[0]
    body = {"user_id": "auth-user", "item_id": item}
    for method, path, payload in (
        ("POST", "/interactions", body),
        ("POST", "/items", {"id": "auth-item"}),
        ("POST", "/admin/reload", None),
    ):
        missing = writable_client.request(method, path, json=payload, headers={"X-API-Key": ""})
        wrong = writable_client.request(method, path, json=payload, headers={"X-API-Key": "nope"})
        assert missing.status_code == 401, (path, missing.text)
        assert missing.json() == {"detail": "missing X-API-Key header", "code": "missing_api_key"}
        assert wrong.status_code == 401
        assert wrong.json() == {"detail": "invalid API key", "code": "invalid_api_key"}
    assert writable_client.post("/interactions", json=body).status_code == 201  # with the key


def test_scopes_and_rotation(
    client_for: Callable[..., TestClient], module_graph: Any, api_key: str, trained: Any
) -> None:
    client = client_for(module_graph, api_keys=OLD_ADMIN, api_read_keys=",".join(READ_KEYS))
    user, item = trained.embeddings["User"].ids[0], trained.embeddings["Item"].ids[0]
    for key in READ_KEYS:  # both read keys read
        assert client.get(f"/users/{user}", headers={"X-API-Key": key}).status_code == 200
        write = client.post(
            "/interactions", json={"user_id": "scoped", "item_id": item}, headers={"X-API-Key": key}
        )
        assert write.status_code == 403
        assert write.json()["code"] == "insufficient_scope"
        assert "read scope" in write.json()["detail"]
        assert client.post("/admin/reload", headers={"X-API-Key": key}).status_code == 403
    for key in (api_key, OLD_ADMIN):  # GRAPHREC_API_KEY and GRAPHREC_API_KEYS: both admin
        response = client.post(
            "/interactions", json={"user_id": "scoped", "item_id": item}, headers={"X-API-Key": key}
        )
        assert response.status_code == 201
        assert client.get(f"/users/{user}/recommendations", headers={"X-API-Key": key}).is_success


def test_reads_about_users_are_locked_by_default(
    shared_client: TestClient, api_key: str, trained: Any
) -> None:
    user, item = trained.embeddings["User"].ids[0], trained.embeddings["Item"].ids[0]
    for method, path, payload in (
        ("GET", f"/users/{user}/recommendations", None),
        ("GET", f"/users/{user}/recommendations/{item}/explanation", None),
        ("GET", f"/users/{user}", None),
        ("GET", "/users", None),
        ("POST", "/recommendations/batch", {"user_ids": [user]}),
    ):
        missing = shared_client.request(method, path, json=payload, headers={"X-API-Key": ""})
        assert missing.status_code == 401 and missing.json()["code"] == "missing_api_key", path
        wrong = shared_client.request(method, path, json=payload, headers={"X-API-Key": "nope"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_api_key"
        good = shared_client.request(method, path, json=payload, headers={"X-API-Key": api_key})
        assert good.status_code == 200, (path, good.text)
    # Catalog reads stay open by default; /health too (for load balancers).
    for path in (f"/items/{item}", f"/items/{item}/similar", "/models", "/metrics", "/health"):
        assert shared_client.get(path, headers={"X-API-Key": ""}).status_code == 200, path


def test_reads_can_be_opened_and_the_catalog_locked(
    client_for: Callable[..., TestClient], shared_graph: Any, api_key: str, trained: Any
) -> None:
    user, item = trained.embeddings["User"].ids[0], trained.embeddings["Item"].ids[0]
    opened = client_for(shared_graph, api_lock_reads=False)
    assert opened.get(f"/users/{user}/recommendations", headers={"X-API-Key": ""}).is_success
    locked = client_for(shared_graph, api_lock_catalog=True, api_read_keys=READ_KEYS[0])
    for path in (f"/items/{item}", f"/items/{item}/similar", "/models", "/metrics"):
        assert locked.get(path, headers={"X-API-Key": ""}).status_code == 401, path
        assert locked.get(path, headers={"X-API-Key": READ_KEYS[0]}).status_code == 200
    assert locked.get("/health").status_code == 200


def test_dev_opens_reads_and_keyless_writes(
    client_for: Callable[..., TestClient], module_graph: Any, trained: Any
) -> None:
    client = client_for(module_graph, api_key=None, app_options={"dev": True})
    item, user = trained.embeddings["Item"].ids[1], trained.embeddings["User"].ids[1]
    client.headers["X-API-Key"] = ""
    response = client.post("/interactions", json={"user_id": "dev-user", "item_id": item})
    assert response.status_code == 201
    assert client.get(f"/users/{user}/recommendations").status_code == 200
    assert client.get(f"/users/{user}").status_code == 200


def test_dev_with_a_key_still_needs_it_for_writes(
    client_for: Callable[..., TestClient], module_graph: Any, trained: Any
) -> None:
    client = client_for(module_graph, app_options={"dev": True})
    user, item = trained.embeddings["User"].ids[1], trained.embeddings["Item"].ids[1]
    assert client.get(f"/users/{user}/recommendations", headers={"X-API-Key": ""}).is_success
    response = client.post(
        "/interactions", json={"user_id": "dev-user", "item_id": item}, headers={"X-API-Key": ""}
    )
    assert response.status_code == 401


def test_read_only_service_refuses_writes(
    client_for: Callable[..., TestClient], shared_graph: Any, api_key: str
) -> None:
    client = client_for(shared_graph, app_options={"read_only": True})
    response = client.post("/items", json={"id": "ro"}, headers={"X-API-Key": api_key})
    assert response.status_code == 403 and response.json()["code"] == "read_only"
    assert client.get("/health").json()["writes"] is False


def test_read_only_without_any_key_starts_with_admin_disabled(
    client_for: Callable[..., TestClient], shared_graph: Any
) -> None:
    client = client_for(
        shared_graph, api_key=None, api_lock_reads=False, app_options={"read_only": True}
    )
    response = client.post("/admin/reload")
    assert response.status_code == 403 and response.json()["code"] == "endpoint_disabled"
