"""Benchmark: candidate retrieval, exact numpy against Neo4j's native vector index.

On a fresh embedded Neo4j 5.26 (temporary directory, free port), for each catalog size in
``--items``: random 64-d item vectors (standard normal, so no cluster structure helps the
index) are written back with graphrec's write-back path, the vector index is created
(:func:`graphrec.serving.ensure_item_vector_index`, cosine, quantisation off) and awaited. Then
``--queries`` items' vectors are used as queries for their ``--k`` nearest other items:

- **exact**: the item matrix read back once (:func:`graphrec.writeback.read_embeddings`),
  normalised, one matrix-vector product and ``argpartition`` per query (what
  ``GET /items/{id}/similar`` does by default);
- **index**: ``db.index.vector.queryNodes`` through the same Cypher statement the API uses
  with ``?approximate=true`` (one Bolt round trip per query).

Reported per size: write-back and index build seconds, the exact side's load seconds and
memory, p50/p99 per query of both, and the index's recall@k against the exact answer.

    cd bench && python vector_index.py --items 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _report import machine, save, today
from _server import bench_server

from graphrec.graph.client import GraphClient
from graphrec.graph.reset import reset_graph
from graphrec.ingest import ingest
from graphrec.loaders.rows import ItemRow
from graphrec.serving import ensure_item_vector_index
from graphrec.serving.index import similar_items_vector_index
from graphrec.writeback import Embeddings, read_embeddings, write_embeddings


def quantiles(seconds: list[float]) -> tuple[float, float]:
    p50, p99 = np.quantile(np.array(seconds) * 1000, [0.5, 0.99])
    return round(float(p50), 2), round(float(p99), 2)


def one_size(
    graph: GraphClient, items: int, dim: int, queries: int, k: int, seed: int
) -> dict[str, Any]:
    reset_graph(graph)
    rng = np.random.default_rng(seed)
    ids = [f"i{n:07d}" for n in range(items)]
    ingest(graph, (ItemRow(i) for i in ids), progress=True, description=f"items {items:,}")
    vectors = rng.normal(size=(items, dim)).astype(np.float32)
    start = time.perf_counter()
    record = write_embeddings(
        graph, model="mf", embeddings={"Item": Embeddings(ids, vectors)}, progress=True
    )
    write_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ensure_item_vector_index(graph, record)
    graph.read("graph/await_indexes", seconds=3600)
    index_seconds = time.perf_counter() - start

    start = time.perf_counter()
    stored = read_embeddings(graph, record, "Item")
    matrix = np.asarray(stored.vectors, dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    load_seconds = time.perf_counter() - start
    position = {item: n for n, item in enumerate(stored.ids)}

    picks = rng.choice(items, size=queries, replace=False)
    exact_times, index_times, hits = [], [], 0
    for q in picks:
        item = ids[q]
        start = time.perf_counter()
        cosine = matrix @ matrix[position[item]]
        cosine[position[item]] = -np.inf
        top = np.argpartition(-cosine, k)[:k]
        exact = {stored.ids[j] for j in top[np.argsort(-cosine[top])]}
        exact_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        rows = similar_items_vector_index(graph, record, vectors[q].tolist(), item, k)
        index_times.append(time.perf_counter() - start)
        hits += len(exact & {row["id"] for row in rows})
    exact_p50, exact_p99 = quantiles(exact_times)
    index_p50, index_p99 = quantiles(index_times)
    return {
        "items": items,
        "write_back_s": round(write_seconds, 1),
        "vectors_per_s": round(items / write_seconds),
        "index_build_s": round(index_seconds, 1),
        "exact_load_s": round(load_seconds, 1),
        "exact_matrix_mb": round(matrix.nbytes / 2**20, 1),
        "exact_p50_ms": exact_p50,
        "exact_p99_ms": exact_p99,
        "index_p50_ms": index_p50,
        "index_p99_ms": index_p99,
        "index_recall": round(hits / (k * queries), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", default="10000,100000,1000000", help="catalog sizes")
    parser.add_argument("--dim", type=int, default=64, help="vector dimension (default: 64)")
    parser.add_argument("--queries", type=int, default=200, help="queries per size (default: 200)")
    parser.add_argument("--k", type=int, default=20, help="neighbours per query (default: 20)")
    parser.add_argument("--heap", default="3g", help="Neo4j heap (default: 3g)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        server = bench_server(Path(tmp), "neo4j", heap=args.heap)
        server.start(progress=print)
        try:
            with GraphClient.open(server.target()) as graph:
                for items in (int(n) for n in args.items.split(",")):
                    rows.append(one_size(graph, items, args.dim, args.queries, args.k, args.seed))
                    print(rows[-1], flush=True)
        finally:
            server.stop()
    command = (
        f"python bench/vector_index.py --items {args.items} --dim {args.dim} "
        f"--queries {args.queries} --k {args.k} --heap {args.heap}"
    )
    lines = [
        f"### vector_index ({today()}, {machine()}, Neo4j 5.26 embedded)",
        "",
        f"`{command}`",
        "",
        "| items | write-back vectors/s | index build s | exact: load s / MB | exact p50 / p99 ms "
        "| index p50 / p99 ms | index recall@k |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['items']:,} | {r['vectors_per_s']:,} | {r['index_build_s']} | "
            f"{r['exact_load_s']} / {r['exact_matrix_mb']} | {r['exact_p50_ms']} / "
            f"{r['exact_p99_ms']} | {r['index_p50_ms']} / {r['index_p99_ms']} | "
            f"{r['index_recall']} |"
        )
    save("vector_index", {"command": command, "rows": rows}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
