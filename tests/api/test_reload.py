"""POST /admin/reload: a new model version without restart; no request mixes two versions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest

from graphrec.writeback import Embeddings

K = 20


def _expected(embeddings: dict[str, Embeddings], user: str) -> dict[str, float]:
    users, items = embeddings["User"], embeddings["Item"]
    scores = items.vectors @ users.vectors[list(users.ids).index(user)]
    return {item: float(score) for item, score in zip(items.ids, scores, strict=True)}


def _new_version(trained: Any) -> dict[str, Embeddings]:
    rng = np.random.default_rng(1)
    return {
        label: Embeddings(e.ids, rng.normal(size=e.vectors.shape).astype(np.float32))
        for label, e in trained.embeddings.items()
    }


def test_reload_serves_the_new_version_and_never_mixes(
    fresh_graph: Any,
    trained: Any,
    make_app: Callable[..., Any],
    serve: Callable[..., Any],
    write_version: Callable[..., Any],
    api_key: str,
) -> None:
    user = trained.embeddings["User"].ids[0]
    item = trained.embeddings["Item"].ids[0]
    second = _new_version(trained)
    expected = {1: _expected(trained.embeddings, user), 2: _expected(second, user)}
    path = f"/users/{user}/recommendations"
    params = {"k": K, "exclude_seen": "false"}

    async def scenario(base: str) -> tuple[list[dict], dict, int]:
        async with httpx.AsyncClient(
            base_url=base, headers={"X-API-Key": api_key}, timeout=60
        ) as client:
            first = (await client.get(path, params=params)).json()
            assert first["model"]["version"] == 1
            record = await asyncio.to_thread(write_version, fresh_graph, second)
            assert record.version == 2
            # Still version 1 until reloaded.
            assert (await client.get(path, params=params)).json()["model"]["version"] == 1

            reloaded = asyncio.Event()

            async def read_many() -> list[dict]:
                # Read while the reload runs (however long the engine takes), then once more.
                bodies = []
                while not reloaded.is_set() and len(bodies) < 5_000:
                    bodies.append((await client.get(path, params=params)).json())
                    await asyncio.sleep(0)
                bodies.append((await client.get(path, params=params)).json())
                return bodies

            async def reload() -> httpx.Response:
                try:
                    return await client.post("/admin/reload", headers={"X-API-Key": api_key})
                finally:
                    reloaded.set()

            async def interact() -> int:
                response = await client.post(
                    "/interactions",
                    json={"user_id": "during-reload", "item_id": item},
                    headers={"X-API-Key": api_key},
                )
                return response.status_code

            results = await asyncio.gather(reload(), interact(), *(read_many() for _ in range(4)))
            reload_response, posted, *reads = results
            assert reload_response.status_code == 200, reload_response.text
            seen_after = (
                await client.get("/users/during-reload/recommendations", params={"k": 1000})
            ).json()
            return reads, reload_response.json(), posted, seen_after

    with serve(make_app(fresh_graph)) as server:
        reads, reloaded, posted, seen_after = asyncio.run(scenario(server.url))

    assert reloaded["changed"] is True
    assert [(m["name"], m["version"]) for m in reloaded["models"]] == [("lightgcn", 2)]
    for batch in reads:  # each reader's requests follow one another
        versions = [b["model"]["version"] for b in batch]
        assert set(versions) <= {1, 2} and versions[-1] == 2
        assert versions == sorted(versions)  # once on version 2, never back
    for body in (
        b for batch in reads for b in batch
    ):  # every response is exactly one version's ranking
        scores = expected[body["model"]["version"]]
        top = sorted(scores, key=lambda i: -scores[i])[:K]
        assert [i["item_id"] for i in body["items"]] == top
        for entry in body["items"]:
            assert entry["score"] == pytest.approx(scores[entry["item_id"]], rel=1e-4, abs=1e-5)
    # The interaction posted during the reload survived it.
    assert posted == 201
    assert seen_after["source"] == "fold_in"
    assert item not in {i["item_id"] for i in seen_after["items"]}


def test_reload_needs_the_key(writable_client: Any) -> None:
    response = writable_client.post("/admin/reload", headers={"X-API-Key": ""})
    assert response.status_code == 401


def test_reload_without_changes(writable_client: Any) -> None:
    response = writable_client.post("/admin/reload")
    assert response.status_code == 200
    assert response.json()["changed"] is False
