"""Benchmark: knowledge-graph explanations on a real KG, per engine: latency, coverage, KG share.

On a fresh embedded server of the engine asked for (temporary data dir, free
port): ingest the dataset, train LightGCN briefly and write it back, then for
``--users`` randomly drawn users and their top-10 recommendations time

- the knowledge-graph path search alone (``kinds=("knowledge_graph",)``, the
  bounded search of :mod:`graphrec.explain.kg_search`), and
- a whole explanation as the API builds it (:func:`graphrec.explain.explain`,
  every path kind, ``max_paths=1``, ``max_hops=3``, ``--timeout`` seconds, the
  anchors' degrees from memory),

one call at a time, in process (no HTTP). Reported: p50/p99 of both, coverage
(the share of recommendations with at least one path), the share whose best path
goes through the KG, how many searches hit the deadline, and the largest RELATED
degree of any concept and the largest degree counting items' HAS_CONCEPT links too
(the hubs). Where a whole explanation's time goes: each path kind's search alone
on the same pairs, one call at a time; and, for reference, the anchors' degree
query that ``explain()`` makes when it is not given the degrees (the API, and the
whole explanation here, take them from memory). On engines with the degree-first
breadth-first step (Neo4j), both forms of that step (``explain/kg_neighbours`` and
``explain/kg_neighbours_degree_first``, which the search uses there) on each
recommended item's concepts, concepts and neighbour counts checked equal. The
peer, in the same run: the single-pattern
query the search replaced (``bench/cypher/kg_var_length.cypher``,
``RELATED*1..4`` from every user concept) on the first ``--peer-pairs`` pairs,
each given ``--peer-timeout`` seconds (a late one counts as that long and is
abandoned; ArcadeDB keeps running it, so the peer runs last).

Datasets: ``lastfm-kg`` (../shared/data/lastfm-kg with
loaders/examples/lastfm-kg/mapping.toml) and ``synthetic-hubs`` (``graphrec
ingest synthetic --entity-kg`` at the size given by ``--synthetic-items``).

    cd bench && python explain_kg.py --engine arcadedb --dataset lastfm-kg
    cd bench && python explain_kg.py --engine neo4j --dataset synthetic-hubs
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import numpy as np
from _cypher import bench_cypher
from _report import machine, save, today
from _server import bench_server

from graphrec.explain import PATH_KINDS, explain, find_paths, graph_degrees
from graphrec.explain.kg_search import DEFAULT_KG_LIMITS
from graphrec.graph.capabilities import probe
from graphrec.graph.client import GraphClient
from graphrec.graph.engines import ENGINE_NAMES
from graphrec.serving import degree_lookup, load_index, recommend, vector_lookup

ROOT = Path(__file__).resolve().parents[1]
LASTFM = ROOT.parent / "shared" / "data" / "lastfm-kg"


def quantiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"calls": 0}
    ms = np.asarray(seconds) * 1e3
    p50, p99 = np.quantile(ms, [0.5, 0.99])
    return {"calls": len(seconds), "p50_ms": round(float(p50), 1), "p99_ms": round(float(p99), 1)}


def cli(env: dict[str, str], *args: str) -> None:
    print("$ graphrec", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "graphrec", *args], env=env, check=True)


def load(env: dict[str, str], dataset: str, items: int) -> None:
    if dataset == "lastfm-kg":
        mapping = ROOT / "loaders" / "examples" / "lastfm-kg" / "mapping.toml"
        cli(env, "ingest", "csv", str(LASTFM), "--mapping", str(mapping))
    else:
        cli(env, "ingest", "synthetic", "--entity-kg", "--items", str(items),
            "--users", str(max(1000, items // 10)), "--interactions", str(items * 10))  # fmt: skip
    cli(env, "train", "--model", "lightgcn", "--epochs", "10", "--dim", "32", "--no-refit")


def measure(graph: GraphClient, args: argparse.Namespace) -> dict[str, Any]:
    index = load_index(graph)
    snapshot, state = index.snapshot, index.state
    lookup = vector_lookup(snapshot.model(), snapshot.catalog, state)
    degree = degree_lookup(snapshot.catalog, state)  # as the API: from memory
    rng = np.random.default_rng(args.seed)
    users = list(rng.choice(sorted(state.users()), size=args.users, replace=False))
    pairs = [(u, i.item_id) for u in users for i in recommend(snapshot, state, u, k=10).items]
    kg_s, explain_s = [], []
    kg_found = covered = best_kg = kg_timeouts = 0
    for user, item in pairs:
        start = time.perf_counter()
        search = find_paths(graph, user, item, kinds=("knowledge_graph",), timeout=args.timeout)
        kg_s.append(time.perf_counter() - start)
        kg_found += bool(search.paths)
        kg_timeouts += search.partial
        start = time.perf_counter()
        best = explain(
            graph, user, item, lookup, max_paths=1, timeout=args.timeout, degree=degree
        ).paths
        explain_s.append(time.perf_counter() - start)
        covered += bool(best)
        best_kg += bool(best) and best[0].kind == "knowledge_graph"
    kind_s, degree_s = per_kind(graph, pairs, args.timeout)
    total = len(pairs)
    return {
        "users": len(users),
        "recommendations": total,
        "kg_search": quantiles(kg_s),
        "kg_search_timeouts": kg_timeouts,
        "share_with_a_kg_path": round(kg_found / total, 4),
        "explanation": quantiles(explain_s),
        "coverage_any_path": round(covered / total, 4),
        "share_best_path_through_kg": round(best_kg / total, 4),
        "each_kind_alone": {kind: quantiles(seconds) for kind, seconds in kind_s.items()},
        "anchor_degrees": quantiles(degree_s),
        "pairs": pairs,
    }


def per_kind(
    graph: GraphClient, pairs: list[tuple[str, str]], timeout: float
) -> tuple[dict[str, list[float]], list[float]]:
    """Where a whole explanation's time goes: each path kind's search alone, one call at a
    time; and the anchors' degree query that ``explain()`` makes without ``degree=``."""
    kind_s: dict[str, list[float]] = {kind: [] for kind in PATH_KINDS}
    degree_s = []
    for user, item in pairs:
        anchors = set()
        for kind in PATH_KINDS:
            start = time.perf_counter()
            search = find_paths(graph, user, item, kinds=(kind,), timeout=timeout)
            kind_s[kind].append(time.perf_counter() - start)
            anchors.update(p.anchor_id for p in search.paths if p.anchor_id)
        if anchors:
            start = time.perf_counter()
            graph_degrees(graph, sorted(anchors))
            degree_s.append(time.perf_counter() - start)
    return kind_s, degree_s


def neighbour_forms(graph: GraphClient, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The breadth-first step's two forms on the same frontiers (each recommended item's own
    concepts, where the search starts), alternating which runs first; both must return the
    same concepts with the same neighbour counts.
    Only where the engine has the degree-first form (Neo4j)."""
    forms = ["explain/kg_neighbours", "explain/kg_neighbours_degree_first"]
    if not probe(graph).degree_count:
        return {"skipped": "the engine has no degree-first form"}
    limits = DEFAULT_KG_LIMITS
    params = {"max_degree": limits.max_degree, "fanout": limits.fanout}
    seconds: dict[str, list[float]] = {form: [] for form in forms}
    items = sorted({item for _, item in pairs})
    for n, item in enumerate(items):
        starts = graph.read("explain/kg_item_concepts", item=item, limit=limits.max_frontier)
        frontier = sorted(row["id"] for row in starts)
        answers = {}
        for form in forms if n % 2 == 0 else forms[::-1]:
            start = time.perf_counter()
            rows = graph.read(form, ids=frontier, **params)
            seconds[form].append(time.perf_counter() - start)
            answers[form] = sorted((r["id"], len(r["neighbours"])) for r in rows)
        if answers[forms[0]] != answers[forms[1]]:
            raise SystemExit(f"the neighbour forms disagree on {item}: {answers}")
    return {form: quantiles(times) for form, times in seconds.items()}


def peer(graph: GraphClient, pairs: list[tuple[str, str]], timeout: float) -> dict[str, Any]:
    """The replaced RELATED*1..4 query, one pair at a time, each abandoned after ``timeout``."""
    pool = ThreadPoolExecutor(max_workers=len(pairs) or 1)
    seconds, late = [], 0
    for user, item in pairs:
        start = time.perf_counter()
        future = pool.submit(_read, graph, user, item, timeout)
        try:
            future.result(timeout=timeout)
            seconds.append(time.perf_counter() - start)
        except FutureTimeout:
            late += 1
            seconds.append(timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    return {**quantiles(seconds), "late": late, "timeout_s": timeout}


def _read(graph: GraphClient, user: str, item: str, timeout: float) -> list:
    import neo4j

    records, _, _ = graph.driver.execute_query(
        neo4j.Query(bench_cypher("kg_var_length"), timeout=timeout),
        {"user": user, "item": item, "max_hops": 3, "limit": 25},
        database_=graph.target.database,
        routing_=neo4j.RoutingControl.READ,
    )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=ENGINE_NAMES, default="arcadedb")
    parser.add_argument("--dataset", choices=["lastfm-kg", "synthetic-hubs"], default="lastfm-kg")
    parser.add_argument("--synthetic-items", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=2.0, help="explanation deadline, s")
    parser.add_argument("--peer-pairs", type=int, default=20)
    parser.add_argument("--peer-timeout", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="graphrec-explain-kg-") as tmp:
        server = bench_server(Path(tmp), engine=args.engine, heap="2g")
        server.start()
        try:
            target = server.target()
            env = {
                **os.environ,
                "GRAPHREC_NEO4J_URI": target.uri,
                "GRAPHREC_NEO4J_USER": target.auth[0],
                "GRAPHREC_NEO4J_PASSWORD": target.auth[1],
                "GRAPHREC_NEO4J_DATABASE": target.database,
                "GRAPHREC_DATA_DIR": tmp,
            }
            load(env, args.dataset, args.synthetic_items)
            graph = GraphClient.open(target)
            hub = graph.run(bench_cypher("max_related_degree"))
            hub_all = graph.run(bench_cypher("max_concept_degree"))
            report = measure(graph, args)
            pairs = report.pop("pairs")
            report["max_related_degree"] = hub[0]["degree"] if hub else 0
            report["max_concept_degree"] = hub_all[0]["degree"] if hub_all else 0
            report["neighbour_step_forms"] = neighbour_forms(graph, pairs)
            report["peer_var_length"] = peer(graph, pairs[: args.peer_pairs], args.peer_timeout)
        finally:
            server.stop()
    command = "python bench/explain_kg.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
    )
    lines = [f"### explain_kg {args.engine} {args.dataset} ({today()}, {machine()})", "",
             f"`{command}`", "", "```", *(f"{k}: {v}" for k, v in report.items()), "```"]  # fmt: skip
    save(f"explain_kg-{args.engine}-{args.dataset}", {"command": command, **report},
         "\n".join(lines) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
