"""``graphrec recommend`` / ``graphrec similar`` / ``graphrec serve``: the service's code path."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graphrec.cli import recommend as recommend_cli
from graphrec.cli import serve as serve_cli


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    recommend_cli.register(app)
    serve_cli.register(app)
    return app


@pytest.fixture
def env(shared_graph: Any, tmp_path: Any) -> dict[str, str]:
    target = shared_graph.target
    return {
        "GRAPHREC_NEO4J_URI": target.uri,
        "GRAPHREC_NEO4J_USER": target.user,
        "GRAPHREC_NEO4J_PASSWORD": target.password,
        "GRAPHREC_NEO4J_DATABASE": target.database,
        "GRAPHREC_DATA_DIR": str(tmp_path),
    }


def _run(cli: typer.Typer, env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def test_recommend_matches_the_api(
    cli: typer.Typer, env: dict[str, str], shared_client: TestClient, trained: Any
) -> None:
    user = trained.embeddings["User"].ids[4]
    result = _run(cli, env, "recommend", user, "-k", "7", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body == shared_client.get(f"/users/{user}/recommendations", params={"k": 7}).json()
    table = _run(cli, env, "recommend", user, "-k", "3", "--diversity", "0.5")
    assert table.exit_code == 0 and len(table.stdout.strip().splitlines()) == 4


def test_recommend_with_explanations_matches_the_api(
    cli: typer.Typer, env: dict[str, str], shared_client: TestClient, trained: Any
) -> None:
    user = trained.embeddings["User"].ids[5]
    result = _run(cli, env, "recommend", user, "-k", "2", "--explain", "--json")
    assert result.exit_code == 0, result.output
    api = shared_client.get(f"/users/{user}/recommendations", params={"k": 2, "explain": "true"})
    assert json.loads(result.stdout) == api.json()
    table = _run(cli, env, "recommend", user, "-k", "2", "--explain")
    assert table.stdout.count("why: ") == 2


def test_recommend_fallback_and_unknown_user(
    cli: typer.Typer, env: dict[str, str], lonely_user: str
) -> None:
    result = _run(cli, env, "recommend", lonely_user, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["fallback"] is True
    result = _run(cli, env, "recommend", "nobody-here")
    assert result.exit_code == 1 and "unknown user 'nobody-here'" in result.output


def test_similar_in_memory_and_in_graph_agree(
    cli: typer.Typer, env: dict[str, str], shared_client: TestClient, trained: Any
) -> None:
    item = trained.embeddings["Item"].ids[3]
    memory = json.loads(_run(cli, env, "similar", item, "-k", "6", "--json").stdout)
    assert memory == shared_client.get(f"/items/{item}/similar", params={"k": 6}).json()
    graph = json.loads(_run(cli, env, "similar", item, "-k", "6", "--in-graph", "--json").stdout)
    # The shipped Cypher query (vector.similarity.cosine on the stored embeddings) ranks alike.
    assert [i["item_id"] for i in graph["items"]] == [i["item_id"] for i in memory["items"]]
    for a, b in zip(graph["items"], memory["items"], strict=True):
        assert a["score"] == pytest.approx(b["score"], abs=1e-5)
    result = _run(cli, env, "similar", "no-such-item")
    assert result.exit_code == 1 and "unknown item" in result.output


def test_serve_refuses_writes_without_a_key(cli: typer.Typer, env: dict[str, str]) -> None:
    result = _run(cli, env, "serve")
    assert result.exit_code == 2 and "GRAPHREC_API_KEY" in result.output
