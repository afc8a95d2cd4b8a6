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
    items = [f"i{n}" for n in range(8)]
    graph.run_write("UNWIND $ids AS id CREATE (:Item {id: id})", {"ids": items})
    # A map is not a property value on either engine: the graph refuses the row (the API's
    # validation never sends one; this is the writer's own guard). Two of eight requests
    # carry one, beside a good row.
    bad = {2, 5}
    requests = [
        [_row(f"u{n}", item)]
        + ([_row(f"u{n}", items[(n + 1) % 8], weight={"not": "a number"})] if n in bad else [])
        for n, item in enumerate(items)
    ]
    outcomes, committed = _run(graph, requests)
    for n, outcome in enumerate(outcomes):
        if n in bad:
            assert isinstance(outcome, GraphUnavailableError), n
        else:
            assert outcome is None, (n, outcome)
    good = {(f"u{n}", item) for n, item in enumerate(items) if n not in bad}
    assert _stored(graph) == good  # nothing of the refused requests
    # Memory heard of exactly what committed, each row once.
    heard = [(r["user_id"], r["item_id"]) for rows in committed for r in rows]
    assert sorted(heard) == sorted(good)


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
