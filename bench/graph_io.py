"""Benchmark: batched ingest (relationships/s) and export (rows/s) over Bolt.

Runs against a fresh embedded ArcadeDB server in a temporary directory on free
ports (or, with ``--uri``, any Bolt server: the benchmark then writes into the
configured database, so point it at a scratch one). Writes JSON and markdown to
``bench/out/``.

    python bench/graph_io.py --relationships 100000
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.embedded import EmbeddedServer, free_port

OUT = Path(__file__).parent / "out"


def make_rows(n_rels: int, n_users: int, n_items: int, seed: int) -> tuple[list, list, list]:
    rng = random.Random(seed)
    users = [{"id": f"u{i}", "properties": {}} for i in range(n_users)]
    items = [{"id": f"i{i}", "title": f"item {i}", "properties": {}} for i in range(n_items)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < n_rels:
        pairs.add((rng.randrange(n_users), rng.randrange(n_items)))
    rels = [
        {
            "user_id": f"u{u}",
            "item_id": f"i{i}",
            "kind": "rating",
            "weight": 1.0,
            "rating": float(rng.randint(1, 5)),
            "ts": 1_600_000_000 + rng.randrange(10**7),
            "split": None,
        }
        for u, i in sorted(pairs)
    ]
    return users, items, rels


def timed_write(graph: GraphClient, name: str, rows: list, batch_size: int, label: str) -> float:
    start = time.perf_counter()
    with tqdm(total=len(rows), desc=label, unit="row", leave=False) as bar:
        graph.write_batches(name, rows, batch_size=batch_size, on_batch=bar.update)
    return time.perf_counter() - start


def run(target: ConnectionTarget, server: EmbeddedServer | None, args: argparse.Namespace) -> dict:
    users, items, rels = make_rows(args.relationships, args.users, args.items, args.seed)
    results: dict = {"ingest": [], "export": []}
    for batch_size in args.batch_sizes:
        db = f"bench{batch_size}"
        if server is not None:
            server.create_database(db)
            run_target = replace(target, database=db)
        else:
            run_target = target
        with GraphClient.open(run_target) as graph:
            graph.apply_schema()
            t_nodes = timed_write(graph, "ingest/merge_users", users, batch_size, "users")
            t_nodes += timed_write(graph, "ingest/merge_items", items, batch_size, "items")
            t_rels = timed_write(graph, "ingest/merge_interactions", rels, batch_size, "rels")
            t_rerun = timed_write(
                graph, "ingest/merge_interactions", rels, batch_size, "rels again"
            )
            count = graph.run("MATCH ()-[r:INTERACTED]->() RETURN count(r) AS n")[0]["n"]
            assert count == len(rels), f"expected {len(rels)} relationships, found {count}"
            results["ingest"].append(
                {
                    "batch_size": batch_size,
                    "nodes_per_s": round((len(users) + len(items)) / t_nodes),
                    "relationships_per_s": round(len(rels) / t_rels),
                    "rerun_relationships_per_s": round(len(rels) / t_rerun),
                    "seconds": round(t_rels, 2),
                }
            )
            if batch_size == args.batch_sizes[-1]:
                results["export"] = export_bench(graph, len(rels), args.page_users)
        if server is not None:
            server.drop_database(db)
    return results


def export_bench(graph: GraphClient, expected: int, page_users: int) -> list[dict]:
    out = []
    start = time.perf_counter()
    rows = graph.read("export/interactions_all")
    elapsed = time.perf_counter() - start
    assert len(rows) == expected
    out.append(
        {
            "method": "one query, all rows",
            "rows": len(rows),
            "rows_per_s": round(len(rows) / elapsed),
        }
    )

    start = time.perf_counter()
    total, after = 0, ""
    while True:
        page = graph.read("export/interactions_page", after=after, limit=page_users)
        if not page:
            break
        total += len(page)
        after = max(row["user_id"] for row in page)
    elapsed = time.perf_counter() - start
    assert total == expected
    out.append(
        {
            "method": f"paged by user id ({page_users} users/page)",
            "rows": total,
            "rows_per_s": round(total / elapsed),
        }
    )
    return out


def to_markdown(meta: dict, results: dict) -> str:
    lines = [
        f"### graph_io ({meta['date']}, {meta['machine']}, {meta['server']})",
        "",
        f"`{meta['command']}`: {meta['relationships']:,} relationships between "
        f"{meta['users']:,} users and {meta['items']:,} items.",
        "",
        "| batch size | nodes/s | relationships/s (MERGE, new) | relationships/s (re-run, no change) |",
        "|---:|---:|---:|---:|",
    ]
    for row in results["ingest"]:
        lines.append(
            f"| {row['batch_size']:,} | {row['nodes_per_s']:,} | {row['relationships_per_s']:,} | "
            f"{row['rerun_relationships_per_s']:,} |"
        )
    lines += ["", "| export | rows | rows/s |", "|---|---:|---:|"]
    for row in results["export"]:
        lines.append(f"| {row['method']} | {row['rows']:,} | {row['rows_per_s']:,} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--relationships", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1_000, 5_000, 20_000])
    parser.add_argument("--page-users", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--uri", help="a Bolt server to use instead of a fresh embedded one")
    parser.add_argument("--user", default="neo4j")
    parser.add_argument("--password", default="")
    parser.add_argument("--database", default="neo4j")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if args.uri:
            target = ConnectionTarget(args.uri, args.user, args.password, args.database)
            args.batch_sizes = args.batch_sizes[-1:]  # one database only: no per-size isolation
        else:
            server = EmbeddedServer(
                Path(tmp), bolt_port=free_port(), http_port=free_port(), heap="4g"
            )
            server.start()
            target = server.target()
        try:
            with GraphClient.open(target) as graph:
                agent = graph.driver.get_server_info().agent
            results = run(target, server, args)
        finally:
            if server is not None:
                server.stop()

    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
        "server": agent,
        "command": "python bench/graph_io.py "
        + " ".join(
            f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in vars(args).items()
            if v is not None and k not in ("password",)
        ),
        "relationships": args.relationships,
        "users": args.users,
        "items": args.items,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "graph_io.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    markdown = to_markdown(meta, results)
    (OUT / "graph_io.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
