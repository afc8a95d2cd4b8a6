"""`graphrec demo` as a user runs it (tiny sizes), against the test's database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphrec.graph.client import GraphClient
from graphrec.writeback import list_models


def test_demo_runs_the_whole_loop(
    graph: GraphClient, graph_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "graphrec",
            "demo",
            "--users",
            "80",
            "--items",
            "60",
            "--interactions",
            "1500",
            "--epochs",
            "2",
            "--dim",
            "8",
            "--out-dir",
            str(out),
        ],
        env=graph_env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    stdout = result.stdout
    assert "RETURN 1 -> 1" in stdout
    for step in (
        "1/5 ingesting",
        "2/5 exporting",
        "3/5 training",
        "4/5 evaluation",
        "5/5 recommendations",
    ):
        assert step in stdout
    assert "| lightgcn |" in stdout and "| most_popular |" in stdout
    assert stdout.count("why: ") == 3
    for name in ("training-lightgcn.png", "training-relgnn.png", "comparison.png", "comparison.md"):
        assert (out / name).stat().st_size > 0
    active = {r.name for r in list_models(graph) if r.active}
    assert active == {"lightgcn", "relgnn"}
