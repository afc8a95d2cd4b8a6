"""Benchmark: ``graphrec recommend --all --write`` throughput (users/s) into the graph.

On a fresh embedded ArcadeDB server (temporary directory, free ports), per catalog:
ingest, write random dim-64 embeddings back as model ``lightgcn`` (throughput does
not depend on how good the vectors are: every user is ranked by the same dot
products and writes the same number of edges), load the serving index, then time
:func:`graphrec.serving.materialise.materialise` (ranking, ``RECOMMENDED`` edges in
one transaction per batch of users, the pointer switch) for ``--versions`` model
versions in turn (default 2): each run after the first also deletes the previous
version's edges.

- ``ml-latest-small``: MovieLens (610 users, 9.7k items, 100k ratings), when
  ``/work/shared/data/ml-latest-small`` (or ``--movielens``) exists;
- ``synthetic-<n>``: the synthetic generator with ``--synthetic-users`` users
  (default 10,000; ``--synthetic-users 100000`` for the issue's 100k-user graph),
  half as many items and 20 interactions per user.

JSON and markdown go to ``bench/out/materialise.json`` and ``.md``.

    python bench/materialise.py
    python bench/materialise.py --synthetic-users 100000 --k 20
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _report import machine, save, today  # bench/_report.py (scripts run from bench/)
from _server import fresh_target  # bench/_server.py

from graphrec import loaders
from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.embedded import ArcadeDBServer, EmbeddedServer, free_port
from graphrec.ingest import ingest
from graphrec.serving import load_index
from graphrec.serving.materialise import materialise
from graphrec.writeback import Embeddings, write_embeddings

MOVIELENS = Path("/work/shared/data/ml-latest-small")
DIM = 64


def _ids(graph: GraphClient, page: str) -> list[str]:
    return [row["id"] for rows in graph.pages(page, page_size=10_000) for row in rows]


def _write_random_version(graph: GraphClient, seed: int) -> None:
    rng = np.random.default_rng(seed)
    users, items = _ids(graph, "export/user_ids_page"), _ids(graph, "export/item_ids_page")
    write_embeddings(
        graph,
        model="lightgcn",
        embeddings={
            "User": Embeddings(users, rng.normal(size=(len(users), DIM)).astype(np.float32)),
            "Item": Embeddings(items, rng.normal(size=(len(items), DIM)).astype(np.float32)),
        },
        batch_size=10_000,
        progress=False,
    )


def run_catalog(
    server: EmbeddedServer, name: str, rows: Any, *, k: int, batch_users: int, versions: int
) -> dict[str, Any]:
    target: ConnectionTarget = fresh_target(server)
    with GraphClient.open(target) as graph:
        graph.apply_schema()
        start = time.perf_counter()
        ingest(graph, rows, progress=False)
        ingest_s = time.perf_counter() - start
        runs = []
        for version_seed in range(1, versions + 1):
            _write_random_version(graph, version_seed)
            start = time.perf_counter()
            index = load_index(graph)
            load_s = time.perf_counter() - start
            result = materialise(graph, index, k=k, batch_users=batch_users, progress=True)
            runs.append({**result.as_dict(), "load_index_s": round(load_s, 2)})
    return {"catalog": name, "ingest_s": round(ingest_s, 1), "runs": runs}


def to_markdown(meta: dict[str, Any], results: list[dict[str, Any]]) -> str:
    lines = [
        f"# recommend --all --write ({meta['date']}, {meta['machine']})",
        "",
        f"k={meta['k']}, {meta['batch_users']} users per transaction, random dim-{DIM} vectors, "
        f"embedded ArcadeDB. {meta['note']}",
        "",
        "| catalog | run | users | edges | old edges removed | seconds | users/s | edges/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for number, run in enumerate(result["runs"], 1):
            edges_s = run["edges"] / run["seconds"] if run["seconds"] else 0.0
            lines.append(
                f"| {result['catalog']} | v{run['version']} ({'first' if number == 1 else 'replaces v1'}) "
                f"| {run['users']:,} | {run['edges']:,} | {run['removed']:,} | {run['seconds']:.1f} "
                f"| {run['users_per_second']:,.0f} | {edges_s:,.0f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movielens", type=Path, default=MOVIELENS)
    parser.add_argument("--synthetic-users", type=int, default=10_000, help="0 skips it")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--batch-users", type=int, default=500)
    parser.add_argument(
        "--versions", type=int, default=2, help="model versions materialised in turn (default: 2)"
    )
    parser.add_argument("--note", default="", help="e.g. 'taken on a loaded machine'")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        server = ArcadeDBServer(  # one database per catalog: ArcadeDB only
            Path(tmp), bolt_port=free_port(), http_port=free_port()
        )
        server.start()
        try:
            if args.movielens.is_dir():
                rows = loaders.parse("movielens", args.movielens)
                results.append(
                    run_catalog(
                        server,
                        "ml-latest-small",
                        rows,
                        k=args.k,
                        batch_users=args.batch_users,
                        versions=args.versions,
                    )
                )
            if args.synthetic_users > 0:
                users = args.synthetic_users
                rows = loaders.parse(
                    "synthetic",
                    None,
                    users=users,
                    items=max(users // 2, 100),
                    interactions=20 * users,
                    seed=0,
                )
                results.append(
                    run_catalog(
                        server,
                        f"synthetic{users}",
                        rows,
                        k=args.k,
                        batch_users=args.batch_users,
                        versions=args.versions,
                    )
                )
        finally:
            server.stop()
    meta = {
        "versions": args.versions,
        "date": today(),
        "machine": machine(),
        "k": args.k,
        "batch_users": args.batch_users,
        "note": args.note,
    }
    save("materialise", {"meta": meta, "results": results}, to_markdown(meta, results))


if __name__ == "__main__":
    main()
