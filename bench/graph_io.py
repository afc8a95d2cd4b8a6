"""Benchmark: batched ingest (relationships/s) and export (rows/s) over Bolt, graphrec vs naive.

On a fresh embedded server of ``--engine`` (temporary directory, free ports), with the
same 100k random user-item relationships:

- **ingest, naive**: one ``UNWIND $rows ... MERGE`` per batch (``bench/cypher/``);
- **ingest, graphrec**: :func:`graphrec.ingest.ingest` (first load, then a re-run);
- **export, naive**: one query, one record per relationship;
- **export, graphrec**: :func:`graphrec.graph.interactions.read_interactions` (pages of users,
  one record per user with parallel lists).

Writes JSON and markdown to ``bench/out/``.

    python bench/graph_io.py --relationships 100000
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from _cypher import bench_cypher
from _report import machine, save, today  # bench/_report.py (scripts run from bench/)
from _server import bench_server, fresh_target

from graphrec.graph.client import GraphClient
from graphrec.graph.embedded import EmbeddedServer
from graphrec.graph.engines import ENGINE_NAMES
from graphrec.graph.interactions import read_interactions
from graphrec.ingest import ingest
from graphrec.loaders.rows import InteractionRow, ItemRow, UserRow


def make_rows(n_rels: int, n_users: int, n_items: int, seed: int) -> list:
    rng = random.Random(seed)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < n_rels:
        pairs.add((rng.randrange(n_users), rng.randrange(n_items)))
    rows: list = [UserRow(f"u{i}") for i in range(n_users)] + [
        ItemRow(f"i{i}", f"item {i}") for i in range(n_items)
    ]
    log = [
        InteractionRow(
            f"u{u}",
            f"i{i}",
            "rating",
            1.0,
            float(rng.randint(1, 5)),
            1_600_000_000 + rng.randrange(10**7),
        )
        for u, i in pairs
    ]
    rng.shuffle(log)
    return rows + log


def run(server: EmbeddedServer, rows: list, batch_size: int) -> dict:
    n_rels = sum(isinstance(r, InteractionRow) for r in rows)
    results: dict = {}

    with GraphClient.open(fresh_target(server)) as graph:
        nodes = [r for r in rows if not isinstance(r, InteractionRow)]
        ingest(graph, nodes, batch_size=batch_size, progress=False)
        log = [
            {
                "user_id": r.user_id,
                "item_id": r.item_id,
                "kind": r.kind,
                "weight": r.weight,
                "rating": r.rating,
                "ts": r.ts,
                "split": r.split,
            }
            for r in rows
            if isinstance(r, InteractionRow)
        ]
        query = bench_cypher("naive_merge_interactions")
        start = time.perf_counter()
        for k in range(0, len(log), batch_size):
            graph.run_write(query, {"rows": log[k : k + batch_size]})
        results["ingest_naive"] = round(n_rels / (time.perf_counter() - start))

        start = time.perf_counter()
        exported = graph.run(bench_cypher("naive_export"))
        results["export_naive"] = round(len(exported) / (time.perf_counter() - start))
        assert len(exported) == n_rels

    with GraphClient.open(fresh_target(server)) as graph:
        first = ingest(graph, rows, batch_size=batch_size, progress=False)
        results["ingest_graphrec_first"] = round(n_rels / first.seconds)
        again = ingest(graph, rows, batch_size=batch_size, progress=False)
        results["ingest_graphrec_rerun"] = round(n_rels / again.seconds)
        assert again.relationships_created == 0

        start = time.perf_counter()
        table = read_interactions(graph)
        results["export_graphrec"] = round(len(table) / (time.perf_counter() - start))
        assert len(table) == n_rels
    return results


def to_markdown(meta: dict, r: dict) -> str:
    return "\n".join(
        [
            f"### graph_io ({meta['date']}, {meta['machine']}, {meta['server']})",
            "",
            f"`{meta['command']}`: {meta['relationships']:,} relationships, batch size {meta['batch_size']:,}.",
            "",
            "| what | naive | graphrec | ratio |",
            "|---|---:|---:|---:|",
            f"| ingest, relationships/s (first load) | {r['ingest_naive']:,} | {r['ingest_graphrec_first']:,} | "
            f"{r['ingest_graphrec_first'] / r['ingest_naive']:.1f}x |",
            f"| ingest, relationships/s (re-run, nothing new) | — | {r['ingest_graphrec_rerun']:,} | |",
            f"| export, rows/s | {r['export_naive']:,} | {r['export_graphrec']:,} | "
            f"{r['export_graphrec'] / r['export_naive']:.1f}x |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--relationships", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", choices=ENGINE_NAMES, default="arcadedb")
    args = parser.parse_args()

    rows = make_rows(args.relationships, args.users, args.items, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        server = bench_server(Path(tmp), engine=args.engine, heap="4g")
        server.start()
        try:
            with GraphClient.open(server.target()) as graph:
                agent = graph.driver.get_server_info().agent
            results = run(server, rows, args.batch_size)
        finally:
            server.stop()
    meta = {
        "date": today(),
        "machine": machine(),
        "server": agent,
        "command": f"python bench/graph_io.py --relationships {args.relationships} --users {args.users} "
        f"--items {args.items} --batch-size {args.batch_size} --engine {args.engine}",
        "relationships": args.relationships,
        "batch_size": args.batch_size,
    }
    save(f"graph_io-{args.engine}", {"meta": meta, "results": results}, to_markdown(meta, results))


if __name__ == "__main__":
    main()
