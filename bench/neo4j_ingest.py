"""Where Neo4j's ingest time goes, and what does not move it (issue 12's 60k relationships/s).

Each measure runs on a fresh embedded Neo4j store (temporary directory, free port), with the
random user-item relationships of bench/graph_io.py (``u<k>`` users, ``i<k>`` items):

1. **settings**: graphrec's :func:`graphrec.ingest.ingest` (a first load of ``--relationships``)
   at each ``--page-caches`` x ``--batch-sizes`` pair, with the server's share of the time;
2. **statement**: the ingest statement alone, the library's ``MERGE``
   (``cypher/ingest/merge_interactions.cypher``) against ``CREATE``
   (``cypher/ingest/create_interactions.cypher``, no existence check), over
   ``--relationships`` in chunks of ``--chunk``, so the JIT warm-up and the growing graph show;
3. **writers**: the ``MERGE`` statement from one writer thread against two, the relationships
   split between them by user (after a warm-up chunk, untimed).

Writes JSON and markdown to ``bench/out/``.

    python bench/neo4j_ingest.py --relationships 1000000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _report import machine, save, today  # bench/_report.py (scripts run from bench/)
from graph_io import make_rows
from tqdm import tqdm

from graphrec.graph.client import GraphClient, batched
from graphrec.graph.engines import Neo4jServer, free_port
from graphrec.ingest import ingest
from graphrec.ingest.targets import TARGETS
from graphrec.loaders.rows import InteractionRow, ItemRow, UserRow


@contextmanager
def neo4j(page_cache: str, args: argparse.Namespace) -> Iterator[GraphClient]:
    """A client of a fresh embedded Neo4j with ``page_cache``; stopped afterwards."""
    build_dir = Path(args.neo4j_build_dir) if args.neo4j_build_dir else None
    with tempfile.TemporaryDirectory(prefix="bench-neo4j-ingest-") as tmp:
        server = Neo4jServer(
            Path(tmp), bolt_port=free_port(), heap=args.heap, page_cache=page_cache,
            build_dir=build_dir,
        )  # fmt: skip
        server.start()
        try:
            with GraphClient.open(server.target()) as graph:
                graph.apply_schema()
                yield graph
        finally:
            server.stop()


def as_dicts(rows: list) -> list[dict[str, Any]]:
    """The interaction rows as the ingest statements take them (ingest's own mapping)."""
    to_param = TARGETS[InteractionRow].to_param
    return [to_param(r) for r in rows if isinstance(r, InteractionRow)]


def nodes_first(graph: GraphClient, rows: list) -> None:
    """Create the users and items (what ingest does before its first relationship batch)."""
    ingest(graph, [r for r in rows if isinstance(r, UserRow | ItemRow)], progress=False)


def settings(rows: list, args: argparse.Namespace) -> list[dict[str, Any]]:
    n = sum(isinstance(r, InteractionRow) for r in rows)
    out = []
    for page_cache in args.page_caches.split(","):
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            with neo4j(page_cache, args) as graph:
                summary = ingest(graph, rows, batch_size=batch_size, progress=True)
                assert summary.relationships_created == n, summary
                out.append({
                    "page_cache": page_cache, "batch_size": batch_size,
                    "rel_s": round(n / summary.seconds), "wall_s": round(summary.seconds, 2),
                    "server_s": round(graph.server_write_ms / 1000, 2),
                })  # fmt: skip
            print(out[-1], flush=True)
    return out


def statement(rows: list, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    interactions = as_dicts(rows)
    for name in ("merge", "create"):
        chunks = []
        with neo4j(args.page_caches.split(",")[0], args) as graph:
            nodes_first(graph, rows)
            for chunk in tqdm(list(batched(interactions, args.chunk)), desc=name, unit="chunk"):
                graph.server_write_ms = 0
                start = time.perf_counter()
                for batch in batched(chunk, args.batch):
                    graph.write(f"ingest/{name}_interactions", rows=batch)
                wall = time.perf_counter() - start
                chunks.append({
                    "rel_s": round(len(chunk) / wall), "wall_s": round(wall, 2),
                    "server_s": round(graph.server_write_ms / 1000, 2),
                })  # fmt: skip
        out[name] = chunks
        print(name, chunks, flush=True)
    return out


def writers(rows: list, args: argparse.Namespace) -> list[dict[str, Any]]:
    interactions = as_dicts(rows)
    warm, timed = interactions[: args.chunk], interactions[args.chunk :]
    out = []
    for count in (1, 2):
        with neo4j(args.page_caches.split(",")[0], args) as graph:
            nodes_first(graph, rows)
            for batch in batched(warm, args.batch):
                graph.write("ingest/merge_interactions", rows=batch)
            parts = [[r for r in timed if int(r["user_id"][1:]) % count == k] for k in range(count)]

            def write(part: list[dict[str, Any]], graph: GraphClient = graph) -> None:
                for batch in batched(part, args.batch):
                    graph.write("ingest/merge_interactions", rows=batch)

            start = time.perf_counter()
            with ThreadPoolExecutor(count) as pool:
                list(pool.map(write, parts))
            wall = time.perf_counter() - start
            counts = {r["type"]: r["n"] for r in graph.read("graph/count_relationships")}
            assert counts["INTERACTED"] == len(interactions), counts
            assert graph.read("graph/count_duplicate_interactions")[0]["n"] == 0
            out.append(
                {"writers": count, "rel_s": round(len(timed) / wall), "wall_s": round(wall, 2)}
            )
        print(out[-1], flush=True)
    return out


def to_markdown(meta: dict[str, Any], result: dict[str, Any]) -> str:
    lines = [
        f"#### Neo4j ingest ({meta['date']}, {meta['machine']}, {meta['conditions'] or 'conditions not given'})",
        "",
        f"`{meta['command']}`. {meta['relationships']:,} relationships over {meta['users']:,} users "
        f"and {meta['items']:,} items; heap {meta['heap']}.",
        "",
    ]
    if "settings" in result:
        lines += ["graphrec's ingest (first load), by page cache and batch size:", "",
                  "| page cache | batch | relationships/s | wall s | server s |",
                  "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
        lines += [f"| {r['page_cache']} | {r['batch_size']:,} | {r['rel_s']:,} | {r['wall_s']} | "
                  f"{r['server_s']} |" for r in result["settings"]]  # fmt: skip
        lines.append("")
    if "statement" in result:
        merge, create = result["statement"]["merge"], result["statement"]["create"]
        lines += [f"The ingest statement alone, batches of {meta['batch']:,}, per chunk of "
                  f"{meta['chunk']:,} relationships (relationships/s; server s in brackets):", "",
                  "| chunk | MERGE (the library's) | CREATE | CREATE/MERGE |",
                  "| ---: | ---: | ---: | ---: |"]  # fmt: skip
        for k, (m, c) in enumerate(zip(merge, create, strict=True)):
            lines.append(f"| {k + 1} | {m['rel_s']:,} ({m['server_s']}) | {c['rel_s']:,} "
                         f"({c['server_s']}) | {c['rel_s'] / m['rel_s']:.2f}x |")  # fmt: skip
        lines.append("")
    if "writers" in result:
        one, two = result["writers"]
        lines += [f"`MERGE` from one writer: {one['rel_s']:,} relationships/s; from two (split by "
                  f"user): {two['rel_s']:,} ({two['rel_s'] / one['rel_s']:.2f}x).", ""]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--relationships", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--page-caches", default="128m,1g", help="comma-separated (measure 1)")
    parser.add_argument("--batch-sizes", default="10000,50000", help="comma-separated (measure 1)")
    parser.add_argument("--batch", type=int, default=10_000, help="batch of measures 2 and 3")
    parser.add_argument("--chunk", type=int, default=100_000, help="relationships per chunk")
    parser.add_argument("--measures", default="settings,statement,writers")
    parser.add_argument("--heap", default="3g")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conditions", default="", help="what else ran, for the heading")
    parser.add_argument(
        "--neo4j-build-dir",
        default=os.environ.get("GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR"),
        help="Neo4j launcher build cache (default: GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR)",
    )
    args = parser.parse_args()
    measures = {"settings": settings, "statement": statement, "writers": writers}
    chosen = [m.strip() for m in args.measures.split(",") if m.strip()]
    for name in chosen:
        if name not in measures:
            parser.error(f"--measures: {name!r} is not one of {', '.join(measures)}")
    rows = make_rows(args.relationships, args.users, args.items, args.seed)
    begin = time.perf_counter()
    result = {name: measures[name](rows, args) for name in chosen}
    meta = {
        "date": today(), "machine": machine(), "conditions": args.conditions,
        "command": "python bench/neo4j_ingest.py " + " ".join(sys.argv[1:]),
        "relationships": args.relationships, "users": args.users, "items": args.items,
        "heap": args.heap, "batch": args.batch, "chunk": args.chunk,
        "seconds": round(time.perf_counter() - begin),
    }  # fmt: skip
    save("neo4j_ingest", {"meta": meta, "result": result}, to_markdown(meta, result))


if __name__ == "__main__":
    main()
