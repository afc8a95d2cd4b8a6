"""graphrec's commands tell running API processes about their writes: ``graphrec users delete``,
``graphrec items delete``, ``graphrec train`` and ``graphrec ingest`` add change-feed entries (graphrec/feed.py)
that a serving process applies without ``POST /admin/reload``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from graphrec.cli import app
from graphrec.feed import announce_reload
from graphrec.graph.client import GraphClient

ECOMMERCE = Path(__file__).resolve().parents[2] / "loaders" / "examples" / "ecommerce"


def test_cli_writes_reach_a_running_service_through_the_feed(
    fresh_graph: Any,
    client_for: Callable[..., Any],
    env_for: Callable[..., dict[str, str]],
    trained: Any,
    tmp_path: Path,
) -> None:
    # The service's own feed timer is an hour away: the test reads the feed by hand, so each
    # step sees exactly the entries the command before it wrote.
    client = client_for(fresh_graph, api_sync_interval=3600.0)
    state = client.app.state.service
    runner, env = CliRunner(), env_for(fresh_graph.target, tmp_path / "cli")
    user = trained.embeddings["User"].ids[2]
    item = client.get(f"/users/{user}/recommendations", params={"k": 1}).json()["items"][0]
    item = item["item_id"]

    erased = runner.invoke(app, ["users", "delete", user], env=env)
    assert erased.exit_code == 0, erased.output
    assert "announced in the change feed" in erased.output
    assert client.get(f"/users/{user}/recommendations").status_code == 200  # not read yet
    assert client.portal.call(state.feed.poll) == 1
    assert client.get(f"/users/{user}/recommendations").status_code == 404
    assert user not in state.index.state

    deleted = runner.invoke(app, ["items", "delete", item], env=env)
    assert deleted.exit_code == 0, deleted.output
    assert client.portal.call(state.feed.poll) == 1
    assert client.get(f"/items/{item}").status_code == 404
    other = trained.embeddings["User"].ids[3]
    answer = client.get(f"/users/{other}/recommendations", params={"k": 50}).json()
    assert item not in [i["item_id"] for i in answer["items"]]

    # A new model version from graphrec train: the service reloads and serves it.
    assert "mf" not in state.index.snapshot.models
    args = ["train", "--model", "mf", "--epochs", "2", "--dim", "8", "--no-refit"]
    trained_cli = runner.invoke(app, [*args, "--run-dir", str(tmp_path / "run")], env=env)
    assert trained_cli.exit_code == 0, trained_cli.output
    assert client.portal.call(state.feed.poll) == 1
    assert "mf" in state.index.snapshot.models
    assert "mf" in [m["name"] for m in client.get("/models").json()["models"]]

    # An ingest of another catalog into the same graph: the service reloads and serves it.
    assert "P01" not in state.index.snapshot.catalog.item_pos
    ingested = runner.invoke(app, ["ingest", "csv", str(ECOMMERCE)], env=env)
    assert ingested.exit_code == 0, ingested.output
    assert "the ingest announced" in ingested.output
    assert client.portal.call(state.feed.poll) == 1
    assert "P01" in state.index.snapshot.catalog.item_pos
    assert client.get("/items/P01").status_code == 200


def test_no_feed_no_entry(graph: GraphClient) -> None:
    # A graph no API process has served has no (:ChangeFeed): nothing is announced or written.
    assert announce_reload(graph) is False
    assert graph.read("api/changes_since", since=0, after_id="", limit=10) == []
