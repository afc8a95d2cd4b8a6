"""On Neo4j, ingest merges interactions: a batch that runs twice (a driver retry after a commit
whose answer was lost) and API writes of the same keys during an ingest add no second edge.
tests/ingest/test_retries.py covers the other relationships on both engines."""

from __future__ import annotations

import threading

import pytest

from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest
from graphrec.loaders.rows import InteractionRow, ItemRow, UserRow

pytestmark = pytest.mark.engine_only(
    "neo4j",
    reason="ArcadeDB's ingest creates the keys it diffed in Python (its relationship MERGE is "
    "slow), so there a lost-answer retry or a concurrent writer can duplicate (graphrec/graph/"
    "client.py says so)",
)

USERS, ITEMS = 40, 30


def _catalog(graph: GraphClient) -> None:
    rows: list = [UserRow(f"u{u}") for u in range(USERS)] + [ItemRow(f"i{i}") for i in range(ITEMS)]
    ingest(graph, rows, progress=False)


def _pairs() -> list[tuple[str, str]]:
    return [(f"u{u}", f"i{(u * 7 + j) % ITEMS}") for u in range(USERS) for j in range(10)]


def _interactions(graph: GraphClient) -> int:
    counts = {row["type"]: row["n"] for row in graph.read("graph/count_relationships")}
    return counts.get("INTERACTED", 0)


def _duplicates(graph: GraphClient) -> int:
    return graph.read("graph/count_duplicate_interactions")[0]["n"]


def test_an_interaction_batch_that_runs_twice_adds_nothing(graph: GraphClient) -> None:
    _catalog(graph)
    rows = [
        {"user_id": u, "item_id": i, "kind": "rating", "weight": 1.0, "rating": 4.0, "ts": 7,
         "split": None}
        for u, i in _pairs()
    ]  # fmt: skip
    first = graph.write("ingest/merge_interactions", rows=rows)
    again = graph.write("ingest/merge_interactions", rows=rows)  # what a retry sends
    assert first["relationships_created"] == len(rows)
    assert again.get("relationships_created", 0) == 0
    assert _interactions(graph) == len(rows)
    assert _duplicates(graph) == 0


def test_api_writes_during_an_ingest_add_no_second_edge(graph: GraphClient) -> None:
    _catalog(graph)
    pairs = _pairs()
    log = [InteractionRow(u, i, kind="click", ts=1) for u, i in pairs]
    failures: list[BaseException] = []

    def post_everything() -> None:
        # The API's own statement, one posted interaction per transaction, as requests arrive.
        try:
            with GraphClient.open(graph.target) as api:
                for user, item in reversed(pairs):
                    row = {"user_id": user, "item_id": item, "kind": "click", "weight": 1.0,
                           "rating": None, "ts": 2}  # fmt: skip
                    api.write("api/merge_interactions", rows=[row])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            failures.append(exc)

    poster = threading.Thread(target=post_everything)
    poster.start()
    summary = ingest(graph, log, batch_size=25, progress=False)  # many small transactions
    poster.join(timeout=300)
    assert not poster.is_alive() and not failures
    assert _duplicates(graph) == 0
    assert _interactions(graph) == len(pairs)
    assert summary.relationships["INTERACTED"].rows == len(pairs)
