"""The API's group commit (:class:`graphrec.api.writes.InteractionWriter`) on the real graph:
requests queued together share one transaction, and a row the graph refuses fails only the
request that sent it."""

from __future__ import annotations

import asyncio
from typing import Any

from graphrec.api.writes import InteractionWriter
from graphrec.graph.async_client import AsyncGraphClient
from graphrec.graph.client import GraphClient
from graphrec.graph.errors import GraphUnavailableError


def _row(user: str, item: str, weight: Any = 1.0) -> dict[str, Any]:
    return {"user_id": user, "item_id": item, "kind": "click", "weight": weight, "rating": None,
            "ts": 1_700_000_000}  # fmt: skip


def _stored(graph: GraphClient) -> set[tuple[str, str]]:
    rows = graph.run("MATCH (u:User)-[:INTERACTED]->(i:Item) RETURN u.id AS u, i.id AS i")
    return {(r["u"], r["i"]) for r in rows}


def _run(graph: GraphClient, requests: list[list[dict[str, Any]]]) -> tuple[list, list]:
    """Queue every request before the writer runs (so they share one batch); return each
    request's outcome (``None`` or its exception) and the row lists the writer committed."""
    committed: list[list[dict[str, Any]]] = []

    async def scenario() -> list[Any]:
        async with await AsyncGraphClient.open(graph.target) as client:
            writer = InteractionWriter(client, committed.append, retry_seconds=0.5)
            writer.start()
            try:
                return await asyncio.gather(
                    *(writer.write(rows) for rows in requests), return_exceptions=True
                )
            finally:
                await writer.stop()

    return asyncio.run(scenario()), committed


def test_one_bad_row_fails_only_its_request(graph: GraphClient) -> None:
    graph.run_write("UNWIND ['i1', 'i2', 'i3'] AS id CREATE (:Item {id: id})")
    # A map is not a property value on either engine: the graph refuses the row (the API's
    # validation never sends one; this is the writer's own guard).
    outcomes, committed = _run(
        graph,
        [
            [_row("a", "i1")],
            [_row("b", "i2"), _row("b", "i3", weight={"not": "a number"})],
            [_row("c", "i3")],
        ],
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], GraphUnavailableError)
    assert _stored(graph) == {("a", "i1"), ("c", "i3")}  # nothing of the refused request
    # Memory heard of exactly what committed: the shared batch first failed, then each request.
    assert [[(r["user_id"], r["item_id"]) for r in rows] for rows in committed] == [
        [("a", "i1")],
        [("c", "i3")],
    ]


def test_good_requests_share_one_transaction(graph: GraphClient) -> None:
    graph.run_write("UNWIND ['i1', 'i2'] AS id CREATE (:Item {id: id})")
    outcomes, committed = _run(graph, [[_row("a", "i1")], [_row("b", "i2")], [_row("a", "i2")]])
    assert outcomes == [None, None, None]
    assert len(committed) == 1 and len(committed[0]) == 3
    assert _stored(graph) == {("a", "i1"), ("b", "i2"), ("a", "i2")}


def test_a_lone_bad_request_fails_and_writes_nothing(graph: GraphClient) -> None:
    graph.run_write("CREATE (:Item {id: 'i1'})")
    outcomes, committed = _run(graph, [[_row("a", "i1", weight={"x": 1})]])
    assert isinstance(outcomes[0], GraphUnavailableError)
    assert committed == [] and _stored(graph) == set()
