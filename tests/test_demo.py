"""`graphrec demo` as a user runs it (tiny sizes), against the test's database, up to the
served API answering over HTTP and a clean Ctrl-C."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from graphrec.graph.client import GraphClient
from graphrec.graph.embedded import free_port
from graphrec.writeback import list_models


def _lines(stream, into: queue.Queue) -> None:  # noqa: ANN001
    for line in stream:
        into.put(line)
    into.put(None)


def _get(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_demo_runs_the_whole_loop_then_serves(
    graph: GraphClient, graph_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    port = free_port()
    env = {key: value for key, value in graph_env.items() if key != "GRAPHREC_API_KEY"}
    args = "--users 80 --items 60 --interactions 1500 --epochs 2 --dim 8".split()
    errors = tmp_path / "stderr.txt"  # a file: progress bars would fill a pipe nobody reads
    process = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",  # SIGABRT then writes every thread's stack to stderr (see below)
            "-m",
            "graphrec",
            "demo",
            *args,
            "--out-dir",
            str(out),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=errors.open("w"),
        stdin=subprocess.DEVNULL,
        text=True,
    )
    printed: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, printed), daemon=True).start()
    stdout = ""
    try:
        while "Ctrl-C stops the API" not in stdout:
            line = printed.get(timeout=600)
            assert line is not None, (
                f"the demo ended early:\n{stdout}\n{errors.read_text()[-3000:]}"
            )
            stdout += line
        url = f"http://127.0.0.1:{port}"
        assert f"API:           {url}" in stdout and f"OpenAPI docs:  {url}/docs" in stdout
        assert "API key:" in stdout  # none configured: one made for this run, and shown
        assert f"Explorer page: {url}/ui/" in stdout
        with urllib.request.urlopen(f"{url}/ui/", timeout=30) as page:
            assert page.status == 200 and b"graphrec explorer" in page.read()
        assert _get(f"{url}/health")[0] == 200
        assert "/users/{user_id}/recommendations" in _get(f"{url}/openapi.json")[1]["paths"]
        example = stdout.split("curl '")[1].split("'")[0]
        status, body = _get(example)
        assert status == 200 and len(body["items"]) == 5 and body["explanations"] is not None
        # A write with the key the demo printed is accepted (and refused without it).
        key = stdout.split("API key:")[1].split()[0]
        user, item = body["user_id"], body["items"][0]["item_id"]
        payload = json.dumps({"user_id": user, "item_id": item, "kind": "view"}).encode()
        request = urllib.request.Request(
            f"{url}/interactions",
            data=payload,
            headers={"Content-Type": "application/json", "X-API-Key": key},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status in (200, 201)
        anonymous = urllib.request.Request(
            f"{url}/interactions", data=payload, headers={"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(anonymous, timeout=30)
        assert refused.value.code == 401
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)  # a clean stop, not a fast one: the CI machine may be loaded
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=30)
            pytest.fail(
                "the demo did not stop within 120 s of Ctrl-C; where its threads were:\n"
                + errors.read_text()[-8000:]
            )
    assert process.returncode == 0, errors.read_text()[-3000:]
    stdout += "".join(iter(lambda: printed.get(timeout=5) or "", ""))
    assert "API stopped" in stdout
    assert "RETURN 1 -> 1" in stdout
    for step in (
        "1/6 ingesting",
        "2/6 exporting",
        "3/6 training",
        "4/6 evaluation",
        "5/6 recommendations",
        "6/6 serving",
    ):
        assert step in stdout
    assert "| lightgcn |" in stdout and "| most_popular |" in stdout
    assert stdout.count("why: ") == 3
    for name in ("training-lightgcn.png", "training-relgnn.png", "comparison.png", "comparison.md"):
        assert (out / name).stat().st_size > 0
    active = {r.name for r in list_models(graph) if r.active}
    assert active == {"lightgcn", "relgnn"}
