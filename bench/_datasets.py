"""Benchmark datasets through graphrec's own path, cached: ingest into a private embedded
graph, derive co-engagement, export to disk once; later runs memory-map the export.

The data is read in place from ``../shared/data`` (never copied into the project);
the exports go to ``bench/out/datasets/<name>/`` (gitignored).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from _report import OUT  # bench/_report.py (scripts run from bench/)
from _server import bench_server

from graphrec import loaders
from graphrec.export import export_to_disk, load_export
from graphrec.graph.client import GraphClient
from graphrec.ingest import derive_co_engagement, ingest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LOADERS = Path(__file__).resolve().parents[1] / "loaders" / "examples"

#: name -> (loader format, source folder, loader options)
DATASETS: dict[str, tuple[str, Path | None, dict[str, Any]]] = {
    "ml-latest-small": ("movielens", SHARED / "ml-latest-small", {}),
    "lastfm-kg": ("csv", SHARED / "lastfm-kg", {"mapping": LOADERS / "lastfm-kg" / "mapping.toml"}),
    # The generator's typed entity KG (artists, producers, labels, hub countries), where a
    # share of every user's taste goes through entities: the KG carries signal by design.
    "synthetic-entity-kg": (
        "synthetic",
        None,
        {"users": 3_000, "items": 2_000, "interactions": 60_000, "seed": 0, "entity_kg": True},
    ),
}


def dataset_export(name: str, *, refresh: bool = False) -> tuple[Any, Any]:
    """``(HeteroData, IdMap)`` of dataset ``name``, exported once and then read from disk."""
    folder = OUT / "datasets" / name
    if refresh or not (folder / "manifest.json").is_file():
        fmt, source, options = DATASETS[name]
        if source is not None and not source.is_dir():
            raise SystemExit(f"{source} is missing: this benchmark needs ../shared/data/{name}")
        with tempfile.TemporaryDirectory() as tmp:
            server = bench_server(Path(tmp))
            server.start()
            try:
                with GraphClient.open(server.target()) as graph:
                    graph.apply_schema()
                    summary = ingest(graph, loaders.parse(fmt, source, **options), progress=True)
                    print(summary.format_table(), flush=True)
                    derive_co_engagement(graph)
                    export_to_disk(graph, folder, progress=True)
            finally:
                server.stop()
    return load_export(folder)
