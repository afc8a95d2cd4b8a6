"""Benchmark: `graphrec ingest` throughput, and where the time goes.

For each source, on a fresh embedded server:

1. **parse**: the parser alone (rows -> list), no database;
2. **first load**: the full ingest (parse + graphrec's writer + driver + server);
3. **re-run**: the same ingest again (idempotent: nothing new is created);
4. **export**: every interaction back out with :func:`graphrec.graph.interactions.read_interactions`.

Server time is what the server reports per write (``result_available_after +
result_consumed_after``, summed by ``GraphClient.server_write_ms``); the rest of
the wall time minus parsing is graphrec's writer plus the driver (row maps,
packing, network).

    python bench/ingest.py                           # synthetic 1M + ml-latest-small
    python bench/ingest.py --interactions 100000     # smaller synthetic
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _report import machine, save, today  # bench/_report.py (scripts run from bench/)
from _server import fresh_target  # bench/_server.py

from graphrec.graph.client import GraphClient
from graphrec.graph.embedded import ArcadeDBServer, EmbeddedServer, free_port
from graphrec.graph.interactions import read_interactions
from graphrec.ingest import ingest
from graphrec.loaders import parse

ML_SMALL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ml-latest-small"


def measure(
    server: EmbeddedServer, name: str, fmt: str, path: Path | None, options: dict, batch_size: int
) -> dict:
    start = time.perf_counter()
    n_rows = sum(1 for _ in parse(fmt, path, **options))
    parse_s = time.perf_counter() - start

    result: dict = {"source": name, "rows": n_rows, "parse_s": round(parse_s, 2)}
    try:
        with GraphClient.open(fresh_target(server)) as graph:
            for phase in ("first_load", "rerun"):
                graph.server_write_ms = 0
                summary = ingest(
                    graph, parse(fmt, path, **options), batch_size=batch_size, progress=False
                )
                rels = sum(c.rows for c in summary.relationships.values())
                server_s = graph.server_write_ms / 1000
                result[phase] = {
                    "seconds": round(summary.seconds, 2),
                    "relationships": rels,
                    "relationships_created": summary.relationships_created,
                    "relationships_per_s": round(rels / summary.seconds),
                    "server_s": round(server_s, 2),
                    "writer_and_driver_s": round(summary.seconds - server_s - parse_s, 2),
                }
            start = time.perf_counter()
            table = read_interactions(graph)
            export_s = time.perf_counter() - start
            result["export"] = {"rows": len(table), "rows_per_s": round(len(table) / export_s)}
            counts = graph.read("graph/count_relationships")
            result["graph_relationships"] = {row["type"]: row["n"] for row in counts}
    finally:
        fresh_target(server)  # leave the database empty for the next source
    return result


def to_markdown(meta: dict, results: list[dict]) -> str:
    lines = [
        f"### ingest ({meta['date']}, {meta['machine']}, {meta['server']})",
        "",
        f"`{meta['command']}` (batch size {meta['batch_size']:,})",
        "",
        "| source | rows | relationships | phase | seconds | rel/s | parse s | writer+driver s | server s |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for phase in ("first_load", "rerun"):
            p = r[phase]
            lines.append(
                f"| {r['source']} | {r['rows']:,} | {p['relationships']:,} | {phase.replace('_', ' ')} | "
                f"{p['seconds']} | {p['relationships_per_s']:,} | {r['parse_s']} | "
                f"{p['writer_and_driver_s']} | {p['server_s']} |"
            )
    lines += ["", "| source | interactions exported | export rows/s |", "|---|---:|---:|"]
    for r in results:
        lines.append(f"| {r['source']} | {r['export']['rows']:,} | {r['export']['rows_per_s']:,} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument(
        "--movielens",
        type=Path,
        default=ML_SMALL,
        help="ml-latest-small folder (skipped if absent)",
    )
    parser.add_argument("--heap", default="4g")
    args = parser.parse_args()

    sources = [
        (
            f"synthetic-{args.interactions // 1000}k",
            "synthetic",
            None,
            {
                "users": args.users,
                "items": args.items,
                "interactions": args.interactions,
                "seed": 0,
            },
        )
    ]
    if args.movielens.is_dir():
        sources.append(("ml-latest-small", "movielens", args.movielens, {}))

    with tempfile.TemporaryDirectory() as tmp:
        server = ArcadeDBServer(  # several databases: ArcadeDB only
            Path(tmp), bolt_port=free_port(), http_port=free_port(), heap=args.heap
        )
        server.start()
        try:
            with GraphClient.open(server.target()) as graph:
                agent = graph.driver.get_server_info().agent
            results = []
            for source in sources:
                print(f"measuring {source[0]} ...", flush=True)
                results.append(measure(server, *source, batch_size=args.batch_size))
        finally:
            server.stop()

    meta = {
        "date": today(),
        "machine": machine(),
        "server": agent,
        "command": f"python bench/ingest.py --users {args.users} --items {args.items} "
        f"--interactions {args.interactions} --batch-size {args.batch_size}",
        "batch_size": args.batch_size,
    }
    save("ingest", {"meta": meta, "results": results}, to_markdown(meta, results))


if __name__ == "__main__":
    main()
