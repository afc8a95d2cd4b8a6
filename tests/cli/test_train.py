"""`graphrec ingest`, `train` (full-batch, mini-batch, distributed) and `evaluate` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphrec.graph.client import GraphClient
from graphrec.writeback import active_model


def graphrec(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graphrec", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def test_ingest_train_evaluate(
    graph: GraphClient, graph_env: dict[str, str], tmp_path: Path
) -> None:
    empty = graphrec("train", "--model", "lightgcn", "--epochs", "1", env=graph_env)
    assert (
        empty.returncode == 1 and "empty graph" in empty.stderr and "Traceback" not in empty.stderr
    )

    ingested = graphrec(
        "ingest",
        "synthetic",
        "--users",
        "120",
        "--items",
        "90",
        "--interactions",
        "2500",
        "--summary-json",
        str(tmp_path / "summary.json"),
        env=graph_env,
    )
    assert ingested.returncode == 0, ingested.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["relationships"]["INTERACTED"]["created"] == 2500 and summary["rejected"] == 0

    for model in ("lightgcn", "mf"):
        trained = graphrec(
            "train",
            "--model",
            model,
            "--epochs",
            "2",
            "--dim",
            "8",
            "--batch-size",
            "512",
            "--metrics-out",
            str(tmp_path / f"{model}.json"),
            env=graph_env,
        )
        assert trained.returncode == 0, trained.stderr[-2000:]
        metrics = json.loads(trained.stdout)
        assert 0 <= metrics["recall@20"] <= 1
        assert json.loads((tmp_path / f"{model}.json").read_text()) == metrics
        assert "written back to the graph as emb_" in trained.stderr
        assert active_model(graph, model).metrics["recall@20"] == metrics["recall@20"]

    # More interactions after training: evaluation still uses each run's own test edges.
    more = graphrec(
        "ingest", "synthetic", "--users", "120", "--items", "90", "--interactions", "800",
        "--seed", "5", env=graph_env,
    )  # fmt: skip
    assert more.returncode == 0, more.stderr
    compared = graphrec(
        "evaluate", "--models", "lightgcn,mf", "--out-dir", str(tmp_path / "cmp"),
        "--metrics-out", str(tmp_path / "cmp.json"), env=graph_env,
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr[-2000:]
    assert "| lightgcn (lightgcn-" in compared.stdout and "| most_popular |" in compared.stdout
    assert (tmp_path / "cmp" / "comparison.png").stat().st_size > 0
    rows = json.loads((tmp_path / "cmp.json").read_text())
    for model in ("lightgcn", "mf"):
        trained = json.loads((tmp_path / f"{model}.json").read_text())
        (row,) = [row for name, row in rows.items() if name.startswith(f"{model} (")]
        assert row["recall@20"] == pytest.approx(trained["recall@20"], abs=1e-9)
        assert row["num_users"] == trained["num_users"]


def test_runs_never_collide_and_resuming_is_explicit(
    graph: GraphClient, graph_env: dict[str, str], tmp_path: Path
) -> None:
    ingested = graphrec(
        "ingest", "synthetic", "--users", "80", "--items", "60", "--interactions", "1500",
        env=graph_env,
    )  # fmt: skip
    assert ingested.returncode == 0, ingested.stderr
    common = ["--epochs", "1", "--dim", "8", "--batch-size", "512", "--no-write-back"]
    first = graphrec("train", "--model", "relgnn", "--seed", "0", *common, env=graph_env)
    second = graphrec("train", "--model", "relgnn", "--seed", "1", *common, env=graph_env)
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    listed = graphrec("runs", "--json", env=graph_env)
    runs = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(runs) == 2 and runs[0]["run"] != runs[1]["run"]
    assert all(run["finished"] and run["model"] == "relgnn" for run in runs)
    # Resuming with other settings, or after the graph changed, is refused in one line.
    other = graphrec(
        "train", "--model", "relgnn", "--resume", runs[0]["run"], "--lr", "0.5", *common,
        env=graph_env,
    )  # fmt: skip
    assert other.returncode == 1 and "Traceback" not in other.stderr
    assert "different settings (lr)" in other.stderr
    more = graphrec(
        "ingest", "synthetic", "--users", "90", "--items", "70", "--interactions", "300",
        "--seed", "3", env=graph_env,
    )  # fmt: skip
    assert more.returncode == 0, more.stderr
    changed = graphrec(
        "train", "--model", "relgnn", "--resume", runs[0]["run"], "--seed", "0", *common,
        env=graph_env,
    )  # fmt: skip
    assert changed.returncode == 1 and "Traceback" not in changed.stderr
    assert "another split of the data" in changed.stderr
    unknown = graphrec("train", "--resume", "no-such-run", *common, env=graph_env)
    assert unknown.returncode == 2 and "no run 'no-such-run'" in unknown.stderr
    taken = graphrec("train", "--run-dir", runs[0]["path"], *common, env=graph_env)
    assert taken.returncode == 2 and "is not empty" in taken.stderr


def test_unknown_model_lists_the_known_ones(graph_env: dict[str, str]) -> None:
    result = graphrec("train", "--model", "transformer", env=graph_env)
    assert result.returncode == 2
    for known in ("lightgcn", "mf", "ngcf", "relgnn"):
        assert known in result.stderr


def test_relation_aware_model_starts_from_a_kge_run(
    graph: GraphClient, graph_env: dict[str, str]
) -> None:
    ingested = graphrec(
        "ingest",
        "synthetic",
        "--users",
        "80",
        "--items",
        "60",
        "--interactions",
        "1500",
        env=graph_env,
    )
    assert ingested.returncode == 0, ingested.stderr
    kge = graphrec(
        "kge",
        "train",
        "--model",
        "TransE",
        "--epochs",
        "2",
        "--dim",
        "8",
        "--run-name",
        "tiny",
        "--no-write-back",
        env=graph_env,
    )
    assert kge.returncode == 0, kge.stderr[-2000:]
    trained = graphrec(
        "train",
        "--model",
        "relgnn",
        "--epochs",
        "1",
        "--dim",
        "8",
        "--init-from-kge",
        "tiny",
        "--no-write-back",
        env=graph_env,
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "recall@20" in json.loads(trained.stdout)
    mismatch = graphrec(
        "train",
        "--model",
        "relgnn",
        "--epochs",
        "1",
        "--dim",
        "16",
        "--init-from-kge",
        "tiny",
        env=graph_env,
    )
    assert mismatch.returncode == 1 and "dimension" in mismatch.stderr
    wrong_model = graphrec("train", "--model", "lightgcn", "--init-from-kge", "tiny", env=graph_env)
    assert wrong_model.returncode == 2 and "relgnn" in wrong_model.stderr


# -- scale options: --mini-batch, --fan-out, --memory-cap, --distributed ----------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--mini-batch", "--layers", "3", "--fan-out", "10,5"],
            "--fan-out has 2 values but the model has 3 layers",
        ),
        (["--mini-batch", "--layers", "2", "--fan-out", "10,0"], "--fan-out value 2 is 0"),
        (["--fan-out", "10,5"], "--fan-out only applies to --mini-batch"),
        (["--mini-batch", "--model", "mf"], "--mini-batch supports lightgcn, relgnn, not 'mf'"),
        (["--distributed", "999"], "--distributed 999 asks for 999 processes but only"),
        (["--mini-batch", "--distributed", "2"], "cannot be combined"),
    ],
)
def test_bad_scale_options_fail_before_any_work(
    args: list[str], message: str, tmp_path: Path
) -> None:
    # Nothing listens on port 1: reaching the graph would fail with another message.
    env = {
        **os.environ,
        "GRAPHREC_NEO4J_URI": "bolt://127.0.0.1:1",
        "GRAPHREC_DATA_DIR": str(tmp_path),
    }
    result = graphrec("train", *args, env=env)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_mini_batch_distributed_and_memory_cap_from_the_graph(
    graph: GraphClient, graph_env: dict[str, str], tmp_path: Path
) -> None:
    ingested = graphrec(
        "ingest", "synthetic", "--users", "120", "--items", "90", "--interactions", "2500",
        env=graph_env,
    )  # fmt: skip
    assert ingested.returncode == 0, ingested.stderr

    capped = graphrec("train", "--memory-cap", "0.01", "--epochs", "1", env=graph_env)
    assert capped.returncode == 1
    # Below even the interpreter's own memory: the graph's counts suffice to refuse it,
    # before the export.
    assert "full-batch training would need at least" in capped.stderr
    assert "more than the memory cap of 0.01 GB" in capped.stderr

    common = ["--epochs", "2", "--dim", "8", "--batch-size", "256", "--patience", "0"]
    mini = graphrec(
        "train", "--model", "lightgcn", "--layers", "2", "--mini-batch", "--fan-out", "5,5",
        "--memory-cap", "8", "--run-dir", str(tmp_path / "mini"), *common, env=graph_env,
    )  # fmt: skip
    assert mini.returncode == 0, mini.stderr[-3000:]
    metrics = json.loads(mini.stdout)
    assert 0 < metrics["recall@20"] <= 1
    config = json.loads((tmp_path / "mini" / "config.json").read_text())
    assert config["mini_batch"]["fan_outs"] == [5, 5]
    assert active_model(graph, "lightgcn").metrics["recall@20"] == metrics["recall@20"]

    parallel = graphrec(
        "train", "--model", "mf", "--distributed", "2", "--run-dir", str(tmp_path / "ddp"),
        *common, env=graph_env,
    )  # fmt: skip
    assert parallel.returncode == 0, parallel.stderr[-3000:]
    assert 0 <= json.loads(parallel.stdout)["recall@20"] <= 1
    assert active_model(graph, "mf") is not None
