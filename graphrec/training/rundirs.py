"""Run directories: every ``graphrec train`` gets its own, named by a run id.

``<data dir>/runs/<run id>/`` with ``<run id> = <model>-<UTC time>-<4 hex>``,
for example ``lightgcn-20261201-221503-3fa1``. A run directory holds the
checkpoint while training, then ``model.pt``, ``config.json``,
``history.json``, ``metrics.json``, ``training.png``, the split it was
trained and evaluated on (``split.pt``) and the id map (``ids.json``).
Resuming is explicit: ``graphrec train --resume RUN``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Folder under the data dir that holds the run directories.
RUNS_FOLDER = "runs"


@dataclass(frozen=True)
class RunInfo:
    """What ``graphrec runs`` shows of one run directory."""

    path: Path
    model: str | None
    finished: bool
    created: float
    metrics: dict[str, Any]
    fingerprint: str | None

    @property
    def run_id(self) -> str:
        return self.path.name


def runs_root(data_dir: Path) -> Path:
    return Path(data_dir) / RUNS_FOLDER


def new_run_dir(root: Path, model: str) -> Path:
    """A new run directory's path for ``model`` under ``root`` (created when the run
    writes its first file, so a refused command leaves nothing behind)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    while True:
        path = root / f"{model}-{stamp}-{secrets.token_hex(2)}"
        if not path.exists():
            return path


def resolve_run(root: Path, run: str | Path) -> Path:
    """The run directory ``run`` names: a path, or a run id under ``root``.

    Raises:
        FileNotFoundError: with the runs that exist.
    """
    candidates = [Path(run), root / str(run)]
    for path in candidates:
        if path.is_dir():
            return path
    known = ", ".join(info.run_id for info in list_runs(root)[-5:]) or "none"
    raise FileNotFoundError(f"no run {str(run)!r} (latest runs: {known}; see `graphrec runs`)")


def read_info(path: Path) -> RunInfo:
    config = _json(path / "config.json") or {}
    summary = _json(path / "metrics.json") or {}
    return RunInfo(
        path=path,
        model=config.get("model") or path.name.split("-")[0],
        finished=(path / "model.pt").is_file(),
        created=path.stat().st_mtime,
        metrics=summary.get("test", {}),
        fingerprint=(config.get("data") or {}).get("fingerprint"),
    )


def list_runs(root: Path, model: str | None = None) -> list[RunInfo]:
    """Run directories under ``root`` (of ``model`` only, when given), oldest first."""
    if not root.is_dir():
        return []
    infos = [read_info(path) for path in root.iterdir() if path.is_dir()]
    infos = [info for info in infos if model is None or info.model == model]
    return sorted(infos, key=lambda info: (info.created, info.run_id))


def latest_run(root: Path, model: str) -> Path:
    """The newest finished run of ``model``.

    Raises:
        FileNotFoundError: no finished run of it.
    """
    finished = [info for info in list_runs(root, model) if info.finished]
    if not finished:
        raise FileNotFoundError(
            f"no finished run of {model!r} under {root}; train one with `graphrec train -m {model}`"
        )
    return finished[-1].path


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
