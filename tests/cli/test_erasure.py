"""``graphrec users delete``, ``graphrec items delete`` and ``graphrec recommend --all --write``
as a user runs them (the real CLI app, on the test's embedded database)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from graphrec import loaders
from graphrec.cli import app
from graphrec.graph.client import GraphClient
from graphrec.ingest import derive_co_engagement, ingest
from graphrec.serving.erasure import user_references
from graphrec.serving.materialise import read_recommended
from graphrec.writeback import Embeddings, write_embeddings


def _rows() -> list:
    return list(loaders.parse("synthetic", None, users=30, items=40, interactions=500, seed=5))


def _ids(graph: GraphClient, page: str) -> list[str]:
    return [row["id"] for rows in graph.pages(page, page_size=1_000) for row in rows]


@pytest.fixture
def served(graph: GraphClient) -> GraphClient:
    ingest(graph, _rows(), progress=False)
    derive_co_engagement(graph, min_shared=2)
    rng = np.random.default_rng(0)
    users, items = _ids(graph, "export/user_ids_page"), _ids(graph, "export/item_ids_page")
    write_embeddings(
        graph,
        model="mf",
        embeddings={
            "User": Embeddings(users, rng.normal(size=(len(users), 8)).astype(np.float32)),
            "Item": Embeddings(items, rng.normal(size=(len(items), 8)).astype(np.float32)),
        },
        progress=False,
    )
    return graph


def test_users_delete_then_reingest(served: GraphClient, graph_env: dict[str, str]) -> None:
    graph, runner = served, CliRunner()
    user = _ids(graph, "export/user_ids_page")[0]
    result = runner.invoke(app, ["users", "delete", user], env=graph_env)
    assert result.exit_code == 0, result.output
    assert f"erased user {user!r}" in result.output
    assert user_references(graph, user) == (0, 0)
    assert not graph.run("MATCH (u:User) WHERE u.id = $id RETURN u.id", {"id": user})
    again = runner.invoke(app, ["users", "delete", user], env=graph_env)
    assert again.exit_code == 1 and "unknown user" in again.output
    bad = runner.invoke(app, ["users", "delete", "a/b"], env=graph_env)
    assert bad.exit_code == 2 and "user_id" in bad.output
    ingest(graph, _rows(), progress=False)
    assert user_references(graph, user)[0] == 1


def test_items_delete(served: GraphClient, graph_env: dict[str, str]) -> None:
    graph, runner = served, CliRunner()
    item = _ids(graph, "export/item_ids_page")[0]
    assert runner.invoke(app, ["items", "delete", item], env=graph_env).exit_code == 0
    assert graph.run("MATCH (i:Item {id: $id}) RETURN i.id", {"id": item}) == []
    assert runner.invoke(app, ["items", "delete", item], env=graph_env).exit_code == 1


def test_recommend_all_write(served: GraphClient, graph_env: dict[str, str]) -> None:
    graph, runner = served, CliRunner()
    result = runner.invoke(app, ["recommend", "--all", "--k", "4", "--write"], env=graph_env)
    assert result.exit_code == 0, result.output
    assert "users/s" in result.output and "RECOMMENDED edges" in result.output
    users = _ids(graph, "export/user_ids_page")
    items = len(_ids(graph, "export/item_ids_page"))
    for user in users:
        seen = graph.run(
            "MATCH (:User {id: $id})-[:INTERACTED]->(i:Item) RETURN count(DISTINCT i) AS n",
            {"id": user},
        )[0]["n"]
        ranks = [r["rank"] for r in read_recommended(graph, "mf", user)]
        assert ranks == list(range(1, min(4, items - seen) + 1))  # seen items left out
    as_json = runner.invoke(
        app, ["recommend", "--all", "--k", "4", "--write", "--json"], env=graph_env
    )
    body = json.loads(as_json.stdout[as_json.stdout.index("{") :])
    assert body["written"] == 0 and body["skipped"] == len(users)
    # An erased user's materialised recommendations go with them.
    assert runner.invoke(app, ["users", "delete", users[0]], env=graph_env).exit_code == 0
    assert read_recommended(graph, "mf", users[0]) == []
    assert runner.invoke(app, ["recommend", "--all"], env=graph_env).exit_code == 1
    assert runner.invoke(app, ["recommend"], env=graph_env).exit_code == 1
    conflict = runner.invoke(app, ["recommend", "--all", "--k", "5", "--write"], env=graph_env)
    assert conflict.exit_code == 1 and "already materialised with k=4" in conflict.output
