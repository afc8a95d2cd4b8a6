"""The wheel is what users install: it must carry the Cypher files and the mapped packages."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contents_and_cli_from_the_wheel(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=600,
    )
    [wheel] = tmp_path.glob("graphrec-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_cypher = {n for n in names if n.endswith(".cypher")}
    in_repo = {
        f"graphrec/cypher/{p.relative_to(ROOT / 'cypher')}"
        for p in (ROOT / "cypher").rglob("*.cypher")
    }
    assert in_repo and in_repo == shipped_cypher
    for module in ("graphrec/loaders/movielens.py", "graphrec/api/main.py", "graphrec/cli/db.py"):
        assert module in names
    assert "graphrec/loaders/examples/ecommerce/mapping.toml" in names
    # The explorer page's static files (served at /ui), every one of them.
    shipped_ui = {n for n in names if n.startswith("graphrec/api/ui/")}
    in_repo_ui = {f"graphrec/api/ui/{p.name}" for p in (ROOT / "api" / "ui").iterdir()}
    assert "graphrec/api/ui/index.html" in in_repo_ui and shipped_ui == in_repo_ui
    # The Neo4j engine's launcher ships as source plus its Maven pom, built on first use.
    launcher = "graphrec/graph/engines/neo4j_launcher/"
    assert {
        f"{launcher}pom.xml",
        f"{launcher}src/main/java/graphrec/launcher/Launcher.java",
    } <= names
    # No generic top-level names in site-packages.
    assert {n.split("/")[0] for n in names} == {
        "graphrec",
        wheel.name.split("-py3")[0] + ".dist-info",
    }

    # Installed from the wheel alone (not the editable checkout): the CLI and a Cypher file load.
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=600,
    )
    probe = (
        "import graphrec, graphrec.loaders, graphrec.cypher\n"
        "from graphrec.graph import cypher\n"
        "assert graphrec.__file__.startswith(sys.argv[1]), graphrec.__file__\n"
        "assert graphrec.loaders.__file__.startswith(sys.argv[1])\n"
        "print(cypher.load('graph/ping'))\n"
        "from graphrec.api.routes.ui import page_file\n"
        "assert b'graphrec explorer' in page_file('index.html').body\n"
        "from graphrec.graph.engines import neo4j_build\n"
        "assert 'pom.xml' in neo4j_build._source_files()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import sys\n" + probe, str(target)],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "RETURN 1 AS ok"
    help_text = subprocess.run(
        [sys.executable, "-m", "graphrec", "--help"],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert help_text.returncode == 0, help_text.stderr
    assert "ingest" in help_text.stdout and "db" in help_text.stdout
