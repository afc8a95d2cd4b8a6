"""GraphClient against the real embedded server: round trips, constraints, batches, idempotency."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from neo4j.exceptions import ConstraintError

from graphrec.graph import cypher
from graphrec.graph.async_client import AsyncGraphClient
from graphrec.graph.client import GraphClient, batched


def test_round_trip_keeps_types(graph: GraphClient) -> None:
    props = {"id": "u1", "n": 42, "x": 0.5, "tags": ["a", "b"], "flag": True, "none": None}
    graph.run_write(
        "CREATE (u:User {id: $id, n: $n, x: $x, tags: $tags, flag: $flag, none: $none})", props
    )
    rows = graph.run(
        "MATCH (u:User {id: $id}) RETURN u.id AS id, u.n AS n, u.x AS x, u.tags AS tags, "
        "u.flag AS flag, u.none AS none",
        {"id": "u1"},
    )
    assert rows == [props]


def test_parameters_are_data_not_code(graph: GraphClient) -> None:
    nasty = "x'}) DETACH DELETE n //"
    graph.run_write("CREATE (:User {id: $id})", {"id": nasty})
    assert graph.run("MATCH (u:User) RETURN u.id AS id") == [{"id": nasty}]


def test_constraint_rejects_duplicate_business_id(graph: GraphClient) -> None:
    graph.run_write("CREATE (:Item {id: 'i1'})")
    with pytest.raises(ConstraintError):
        graph.run_write("CREATE (:Item {id: 'i1'})")
    assert graph.run("MATCH (i:Item) RETURN count(i) AS n") == [{"n": 1}]


@pytest.mark.parametrize("label", ["User", "Item", "Concept", "Model"])
def test_every_label_has_a_unique_id(graph: GraphClient, label: str) -> None:
    # Labels come from this fixed list, never from input.
    graph.run_write(f"CREATE (:{label} {{id: 'same'}})")
    with pytest.raises(ConstraintError):
        graph.run_write(f"CREATE (:{label} {{id: 'same'}})")


def test_apply_schema_is_idempotent(graph: GraphClient) -> None:
    first = graph.apply_schema()
    second = graph.apply_schema()
    assert first == second == cypher.names("schema")
    # One uniqueness constraint per keyed label: User, Item, Concept, Model, Recommendations.
    assert [name.removeprefix("schema/constraint_") for name in first] == [
        "concept_id",
        "item_id",
        "model_id",
        "recommendations_model",
        "user_id",
    ]


def test_batch_writer_10k_rows_and_rerun_adds_nothing(graph: GraphClient) -> None:
    rows = [{"id": f"u{i}", "properties": {"name": f"user {i}"}} for i in range(10_000)]
    seen_batches: list[int] = []
    stats = graph.write_batches(
        "ingest/merge_users", rows, batch_size=3_000, on_batch=seen_batches.append
    )
    assert stats.rows == 10_000
    assert stats.batches == 4
    assert seen_batches == [3_000, 3_000, 3_000, 1_000]
    assert stats.counters["nodes_created"] == 10_000
    again = graph.write_batches("ingest/merge_users", rows, batch_size=5_000)
    assert again.counters.get("nodes_created", 0) == 0
    assert graph.run("MATCH (u:User) RETURN count(u) AS n") == [{"n": 10_000}]
    assert graph.run("MATCH (u:User {id: 'u9999'}) RETURN u.name AS name") == [
        {"name": "user 9999"}
    ]


def test_batched_splits_lazily() -> None:
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []
    with pytest.raises(ValueError):
        list(batched(range(3), 0))


def test_cypher_loader_names_and_errors() -> None:
    assert cypher.load("graph/ping") == "RETURN 1 AS ok"
    assert cypher.load("graph/ping") is cypher.load("graph/ping")  # cached
    with pytest.raises(FileNotFoundError, match="no Cypher statement"):
        cypher.load("graph/does_not_exist")
    with pytest.raises(ValueError, match="invalid"):
        cypher.load("../etc/passwd")


def test_async_client_round_trip(graph: GraphClient) -> None:
    async def scenario() -> tuple[dict, list]:
        async with await AsyncGraphClient.open(graph.target) as client:
            counters = await client.write(
                "ingest/merge_users", rows=[{"id": "a1", "properties": {"name": "A"}}]
            )
            rows = await client.read("graph/count_nodes")
            return counters, rows

    counters, rows = asyncio.run(scenario())
    assert counters["nodes_created"] == 1
    assert rows == [{"label": "User", "n": 1}]


def test_wrong_database_name_is_reported(graph: GraphClient) -> None:
    target = replace(graph.target, database="nosuchdb")
    with (
        GraphClient.open(target, verify=False) as client,
        pytest.raises(Exception, match="nosuchdb"),
    ):
        client.run("RETURN 1")


def test_close_waits_for_reads_nobody_waits_for(graph: GraphClient) -> None:
    # A caller past its deadline leaves reads running (graphrec.explain does);
    # closing the driver under them used to race their threads for the connection.
    client = GraphClient.open(graph.target)
    futures = [client.submit_read("graph/count_nodes") for _ in range(40)]
    client.close()
    assert all(f.done() for f in futures)
    finished = [f for f in futures if not f.cancelled()]
    assert finished, "the reads that had started are run to the end, not dropped"
    for future in finished:
        assert future.exception() is None
        assert future.result() == []  # the empty test database
