"""`graphrec evaluate` ranks an in-database peer beside a trained model, on one split."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphrec.graph.client import GraphClient


def graphrec(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graphrec", *args],
        env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_evaluate_a_model_and_the_peers(
    graph: GraphClient, graph_env: dict[str, str], tmp_path: Path, test_engine: str
) -> None:
    ingested = graphrec(
        "ingest", "synthetic", "--users", "60", "--items", "50", "--interactions", "900",
        env=graph_env,
    )  # fmt: skip
    assert ingested.returncode == 0, ingested.stderr
    trained = graphrec(
        "train", "--model", "mf", "--epochs", "2", "--dim", "8", "--no-write-back", env=graph_env
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    # The GDS peers need the plugin, which the Neo4j test servers load (tests/conftest.py).
    peers = ["cypher_cf"] + (
        ["gds_node_similarity", "gds_fastrp_knn"] if test_engine == "neo4j" else []
    )
    compared = graphrec("evaluate", "--models", ",".join(["mf", *peers]), env=graph_env)
    assert compared.returncode == 0, compared.stderr[-2000:]
    assert "| mf (mf-" in compared.stdout
    for peer in peers:
        assert f"| {peer} |" in compared.stdout
        assert f"{peer}: projection" in compared.stderr  # the time split is reported
    assert graph.read("peers/count_holdout")[0]["n"] == 0
    alone = graphrec(
        "evaluate", "--models", "cypher_cf", "--run-dir", "/nonexistent", env=graph_env
    )
    assert alone.returncode == 1 and "no run" in alone.stderr
