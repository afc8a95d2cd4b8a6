"""50 concurrent clients posting interactions: the graph holds exactly what was acknowledged."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from graphrec.graph.client import GraphClient

CLIENTS = 50
PER_CLIENT = 5
USERS = 10  # clients share new users, so several race to create each one


def test_concurrent_interactions_lose_nothing(
    module_graph: Any,
    trained: Any,
    make_app: Callable[..., Any],
    serve: Callable[..., Any],
    api_key: str,
) -> None:
    items = list(trained.embeddings["Item"].ids)

    async def client_run(client: httpx.AsyncClient, number: int) -> list[tuple[int, tuple]]:
        results = []
        for j in range(PER_CLIENT):
            key = (f"conc-{number % USERS}", items[(number // USERS) * PER_CLIENT + j])
            response = await client.post(
                "/interactions",
                json={"user_id": key[0], "item_id": key[1], "kind": "concurrent"},
            )
            results.append((response.status_code, key))
        return results

    async def scenario(base: str) -> list[tuple[int, tuple]]:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(
            base_url=base, headers={"X-API-Key": api_key}, timeout=60, limits=limits
        ) as client:
            batches = await asyncio.gather(*(client_run(client, n) for n in range(CLIENTS)))
        return [r for batch in batches for r in batch]

    with serve(make_app(module_graph)) as server:
        results = asyncio.run(scenario(server.url))
        with httpx.Client(base_url=server.url, headers={"X-API-Key": api_key}) as client:
            seen_in_memory = {
                f"conc-{u}": client.get(
                    f"/users/conc-{u}/recommendations", params={"k": 1000}
                ).json()
                for u in range(USERS)
            }

    acknowledged = {key for status, key in results if status == 201}
    assert len(acknowledged) == CLIENTS * PER_CLIENT, {s for s, _ in results}
    with GraphClient.open(module_graph.target) as graph:
        stored = graph.run(
            "MATCH (u:User)-[r:INTERACTED {kind: 'concurrent'}]->(i:Item) "
            "RETURN u.id AS user, i.id AS item"
        )
        users = graph.run("MATCH (u:User) WHERE u.id STARTS WITH 'conc-' RETURN count(u) AS n")
    assert {(r["user"], r["item"]) for r in stored} == acknowledged
    assert len(stored) == len(acknowledged)
    assert users == [{"n": USERS}]
    for user, body in seen_in_memory.items():  # the in-memory seen sets got every write too
        recommended = {i["item_id"] for i in body["items"]}
        assert not recommended & {item for u, item in acknowledged if u == user}
