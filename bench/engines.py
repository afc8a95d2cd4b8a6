"""Benchmark: both embedded engines (ArcadeDB and Neo4j 5.26), the same measures, one table.

For each engine of ``--engines``, on fresh embedded servers in a temporary directory
(free ports), measured in this order:

1. **ingest** relationships/s: :func:`graphrec.ingest.ingest` of ``--relationships``
   random user-item ratings (``bench/graph_io.py``'s :func:`make_rows`), first load;
2. **export** rows/s: :func:`graphrec.graph.interactions.read_interactions` of them;
3. **write-back** 64-d vectors/s on the same graph's users and items: graphrec's own path
   (:func:`graphrec.writeback.write_embeddings`, batch size 2,000 as ``graphrec train``
   uses), then, on the items only, a plain ``SET n.prop = row.vector``
   (``bench/cypher/vector_set.cypher``) against ``db.create.setNodeVectorProperty``
   (``bench/cypher/vector_set_procedure.cypher``) and against write-back's map form
   ``SET n += row.props`` (``bench/cypher/vector_set_map.cypher``), alternated, same vectors
   and batch size;
4. on a second server, the synthetic catalog (``--items``/``--users``/``--interactions``)
   with random 64-d vectors written back and CO_ENGAGED derived, the API in its own process
   (``bench/serve.py``'s :func:`start_api`):

   - **recommendations** p99 (k=10) at ``--rate`` req/s, open loop (``bench/_load.py``: the
     httpx client of ``serve.open_loop`` is the bottleneck when this process gets little CPU);
   - **explanations** p50/p99 over HTTP, one request at a time, for users' top-10 items
     (``bench/explain.py``'s :func:`latency`), and the same pairs' path search in this
     process (:func:`graphrec.explain.find_paths`), to split server from client time;

5. **demo** wall time: ``graphrec demo --engine E --no-serve`` with small arguments in its
   own ``GRAPHREC_DATA_DIR`` (its embedded server is stopped afterwards).

Where the time goes is measured, not estimated: around the driver calls of each measure
(``GraphClient.run_write`` and ``driver.execute_query`` are wrapped with ``perf_counter``),
and the server's own ``result_available_after + result_consumed_after`` from each summary.
"python" is the rest of the wall time (row preparation in graphrec, result decoding
after the driver returned).

Neo4j's launcher is built with Maven on first use; point ``--neo4j-build-dir`` (default:
``GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR``) at a shared cache to build it once.

Writes ``bench/out/engines.json`` and ``bench/out/engines.md``.

    cd bench && python engines.py --quick                 # smoke run, small sizes
    cd bench && python engines.py --relationships 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from _cypher import bench_cypher
from _load import raw_open_loop
from _report import machine, save, today  # bench/_report.py (scripts run from bench/)
from _server import bench_server
from explain import latency, quantiles
from graph_io import make_rows
from serve import cpu_seconds, random_embeddings, start_api, stop_api

from graphrec import loaders
from graphrec.explain import find_paths
from graphrec.graph.client import GraphClient, QuietList, batched
from graphrec.graph.engines import ENGINE_NAMES, EmbeddedServer, Neo4jServer, free_port
from graphrec.graph.interactions import read_interactions
from graphrec.ingest import derive_co_engagement, ingest
from graphrec.loaders.rows import InteractionRow, ItemRow, UserRow
from graphrec.writeback import write_embeddings

WRITEBACK_BATCH = 2_000  # write_embeddings' default, which `graphrec train` uses
TARGETS = {  # issue 12: Neo4j on 2 cores
    "ingest_rel_s": (60_000, ">="),
    "export_rows_s": (300_000, ">="),
    "writeback_vectors_s": (30_000, ">="),
    "explanation_p99_ms": (50.0, "<="),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- measuring where the time goes ---------------------------------------------------------------
class Split:
    """Seconds spent inside wrapped calls, and the server's own milliseconds for them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.server_ms = 0

    @contextmanager
    def wrapped(self, graph: GraphClient) -> Iterator[Split]:
        """Time ``graph.run_write`` (writes) and ``graph.driver.execute_query`` (reads)."""
        run_write, execute_query = graph.run_write, graph.driver.execute_query

        def timed_write(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return run_write(*args, **kwargs)
            finally:
                self.seconds["write"] += time.perf_counter() - start
                self.calls["write"] += 1

        def timed_read(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                result = execute_query(*args, **kwargs)
            finally:
                self.seconds["read"] += time.perf_counter() - start
                self.calls["read"] += 1
            summary = result.summary
            self.server_ms += (summary.result_available_after or 0) + (
                summary.result_consumed_after or 0
            )
            return result

        graph.server_write_ms = 0
        graph.run_write = timed_write  # type: ignore[method-assign]
        graph.driver.execute_query = timed_read  # type: ignore[method-assign]
        try:
            yield self
        finally:
            del graph.run_write
            del graph.driver.execute_query
            self.server_ms += graph.server_write_ms

    def report(self, wall_s: float) -> dict[str, float]:
        driver_s = self.seconds["write"] + self.seconds["read"]
        server_s = self.server_ms / 1000
        return {
            "wall_s": round(wall_s, 2),
            "in_driver_calls_s": round(driver_s, 2),
            "server_reported_s": round(server_s, 2),
            "driver_client_and_commit_s": round(driver_s - server_s, 2),
            "python_outside_driver_s": round(wall_s - driver_s, 2),
            "write_calls": self.calls["write"],
            "read_calls": self.calls["read"],
        }


# -- 1-3: ingest, export, write-back ------------------------------------------------------------
def measure_io(graph: GraphClient, rows: list, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    n_rels = sum(isinstance(r, InteractionRow) for r in rows)
    graph.apply_schema()

    log(f"ingest {n_rels:,} relationships ...")
    with Split().wrapped(graph) as split:
        summary = ingest(graph, rows, batch_size=args.batch_size, progress=True)
    assert summary.relationships_created == n_rels, summary
    out["ingest_rel_s"] = round(n_rels / summary.seconds)
    out["ingest_split"] = split.report(summary.seconds)

    log("export ...")
    with Split().wrapped(graph) as split:
        start = time.perf_counter()
        table = read_interactions(graph)
        seconds = time.perf_counter() - start
    assert len(table) == n_rels, (len(table), n_rels)
    out["export_rows_s"] = round(n_rels / seconds)
    out["export_split"] = split.report(seconds)

    users = [r.id for r in rows if isinstance(r, UserRow)]
    items = [r.id for r in rows if isinstance(r, ItemRow)]
    embeddings = random_embeddings(users, items, args.seed)
    log(f"write-back {len(users) + len(items):,} vectors (graphrec's write_embeddings) ...")
    with Split().wrapped(graph) as split:
        start = time.perf_counter()
        write_embeddings(
            graph, model="bench", embeddings=embeddings, batch_size=WRITEBACK_BATCH, progress=True
        )
        seconds = time.perf_counter() - start
    out["writeback_vectors"] = len(users) + len(items)
    out["writeback_vectors_s"] = round((len(users) + len(items)) / seconds)
    out["writeback_split"] = split.report(seconds)
    out["vector_statements"] = compare_vector_statements(graph, items, embeddings["Item"].vectors)
    return out


def compare_vector_statements(graph: GraphClient, items: list[str], vectors: np.ndarray) -> dict:
    """Plain ``SET`` against ``db.create.setNodeVectorProperty`` and against the map form
    that graphrec's write-back uses (``SET n += row.props``, the property name inside each
    row), on the same vectors and batch size, alternated."""
    listed = [QuietList(v) for v in vectors.astype(np.float64).tolist()]
    rows = [{"id": item, "vector": vector} for item, vector in zip(items, listed, strict=True)]
    map_rows = [
        {"id": item, "props": {"bench_vector_map": vector}}
        for item, vector in zip(items, listed, strict=True)
    ]
    statements = {"set": "vector_set", "map": "vector_set_map", "procedure": "vector_set_procedure"}
    runs: dict[str, list[dict]] = {name: [] for name in statements}
    errors: dict[str, str] = {}
    for name in ("set", "map", "procedure", "procedure", "map", "set"):
        if name in errors:
            continue
        log(f"write {len(rows):,} item vectors with {statements[name]}.cypher ...")
        query = bench_cypher(statements[name])
        with Split().wrapped(graph) as split:
            start = time.perf_counter()
            try:
                for chunk in batched(map_rows if name == "map" else rows, WRITEBACK_BATCH):
                    graph.run_write(query, {"rows": chunk})
            except Exception as exc:  # the engine lacks the procedure: say so in the table
                errors[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                log(f"  {name}: {errors[name]}")
                continue
            seconds = time.perf_counter() - start
        runs[name].append({"vectors_s": round(len(rows) / seconds), **split.report(seconds)})
    result: dict[str, Any] = {"vectors": len(rows), "batch_size": WRITEBACK_BATCH, "runs": runs}
    for name, timings in runs.items():
        if timings:
            result[f"{name}_vectors_s"] = round(float(np.mean([r["vectors_s"] for r in timings])))
    if errors:
        result["errors"] = errors
    for other in ("procedure", "map"):
        if "set_vectors_s" in result and f"{other}_vectors_s" in result:
            result[f"{other}_over_set"] = round(
                result[f"{other}_vectors_s"] / result["set_vectors_s"], 3
            )
    return result


# -- 4: recommendations and explanations through the API ----------------------------------------
def serving_catalog(graph: GraphClient, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    rows = list(
        loaders.parse(
            "synthetic",
            None,
            users=args.users,
            items=args.items,
            interactions=args.interactions,
            seed=args.seed,
        )
    )
    users = [r.id for r in rows if isinstance(r, UserRow)]
    items = [r.id for r in rows if isinstance(r, ItemRow)]
    graph.apply_schema()
    ingest(graph, rows, progress=False)
    write_embeddings(
        graph,
        model="lightgcn",
        embeddings=random_embeddings(users, items, args.seed),
        progress=False,
    )
    derive_co_engagement(graph)
    return users, items


async def recommendations_load(
    base: str, pid: int, users: list[str], rate: float, seconds: float
) -> dict:
    """``GET /users/{u}/recommendations?k=10`` for random known users, open loop."""
    order = np.random.default_rng(0).integers(0, len(users), size=max(1, int(rate * seconds) + 200))

    def path(i: int) -> str:
        return f"/users/{quote(users[order[i % len(order)]], safe='')}/recommendations?k=10"

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for i in range(100):  # warm up caches
            (await client.get(path(i))).raise_for_status()
    url = httpx.URL(base)
    before, start = cpu_seconds(pid), time.perf_counter()
    result = await raw_open_loop(url.host, url.port or 80, path, rate, seconds)
    cpu_s = cpu_seconds(pid) - before
    answered = result["requests"] - result["errors"]
    result["api_cpu_s"] = round(cpu_s, 1)
    result["api_cpu_share_of_wall"] = round(cpu_s / (time.perf_counter() - start), 2)
    result["server_cpu_ms"] = round(cpu_s * 1e3 / answered, 2) if answered else None
    return result


def top_pairs(base: str, users: list[str], count: int) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for user in users[:count]:
            response = client.get(f"/users/{user}/recommendations", params={"k": 10})
            response.raise_for_status()
            pairs += [(user, row["item_id"]) for row in response.json()["items"]]
    return pairs


def path_search_in_process(graph: GraphClient, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """:func:`find_paths` (the search behind the explanation endpoint) timed in this process."""
    times = []
    with Split().wrapped(graph) as split:
        start = time.perf_counter()
        for user, item in pairs:
            begin = time.perf_counter()
            find_paths(graph, user, item, max_hops=3)
            times.append(time.perf_counter() - begin)
        wall = time.perf_counter() - start
    return {**quantiles(times), "split": split.report(wall)}


def measure_serving(
    server: EmbeddedServer, data_dir: Path, args: argparse.Namespace, partial: dict[str, Any]
) -> dict:
    """The serving measures; what finished is also copied into ``partial`` as it goes."""
    out: dict[str, Any] = {}
    target = server.target()
    with GraphClient.open(target) as graph:
        log(f"serving catalog: {args.items:,} items, {args.users:,} users ...")
        users, _ = serving_catalog(graph, args)
        rng = np.random.default_rng(args.seed)
        sample = [users[i] for i in rng.permutation(len(users))]
        # Reads need a key by default; _load and explain.latency send none.
        os.environ["GRAPHREC_API_LOCK_READS"] = "false"
        process, base, startup = start_api(target, data_dir)
        try:
            out["api_startup_s"] = round(startup, 1)
            log(f"recommendations, open loop {args.rate:g} req/s for {args.seconds:g} s ...")
            out["recommendations"] = asyncio.run(
                recommendations_load(base, process.pid, users, args.rate, args.seconds)
            )
            partial.update(out)
            pairs = top_pairs(base, sample, max(10, args.requests // 10))
            log(f"explanations over HTTP, {min(args.requests, len(pairs))} requests ...")
            out["explanation_http"] = latency(base, pairs, sample, args.requests)
            partial.update(out)
        finally:
            stop_api(process)
        log("path search in process, same pairs ...")
        out["path_search_in_process"] = path_search_in_process(graph, pairs[: args.requests])
    return out


# -- 5: the demo ----------------------------------------------------------------------------------
DEMO_ARGS = ["--users", "300", "--items", "200", "--interactions", "6000", "--epochs", "3"]
DEMO_ARGS += ["--dim", "16", "--no-serve"]


def measure_demo(engine: str, data_dir: Path, build_dir: str | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHREC_NEO4J_")}
    env.update(GRAPHREC_DATA_DIR=str(data_dir), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    # Free ports: another server may hold the defaults (7687, 2480).
    env["GRAPHREC_EMBEDDED_BOLT_PORT"] = str(free_port())
    env["GRAPHREC_EMBEDDED_HTTP_PORT"] = str(free_port())
    if build_dir:
        env["GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR"] = build_dir
    cli = [sys.executable, "-c", "from graphrec.cli import main; main()"]
    command = [*cli, "demo", "--engine", engine, "--out-dir", str(data_dir / "out"), *DEMO_ARGS]
    log(f"demo: graphrec demo --engine {engine} {' '.join(DEMO_ARGS)} ...")
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, env=env, cwd=data_dir, capture_output=True, text=True, timeout=1800
        )
    finally:
        seconds = time.perf_counter() - start
        subprocess.run([*cli, "db", "stop"], env=env, capture_output=True, timeout=120)
    result = {"wall_s": round(seconds, 1), "exit_status": done.returncode}
    if done.returncode != 0:
        result["stderr_tail"] = (done.stderr or done.stdout)[-2000:]
        log(f"  demo failed ({done.returncode}): {result['stderr_tail'][-400:]}")
    return result


# -- one engine ------------------------------------------------------------------------------------
def started(data_dir: Path, engine: str, args: argparse.Namespace) -> EmbeddedServer:
    server = bench_server(data_dir, engine, heap=args.heap)
    if isinstance(server, Neo4jServer) and args.neo4j_build_dir:
        server.build_dir = Path(args.neo4j_build_dir)
    start = time.perf_counter()
    server.start()
    log(f"{engine} started in {time.perf_counter() - start:.1f} s")
    return server


def attempt(out: dict[str, Any], name: str, measure: Callable[[], dict[str, Any]]) -> None:
    """Run one group of measures; a failure is recorded in ``out["failed"]``, not raised."""
    try:
        out.update(measure())
    except Exception as exc:
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        log(f"  {name} failed: {message}")
        out.setdefault("failed", {})[name] = message


def run_engine(engine: str, rows: list, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix=f"bench-engines-{engine}-") as tmp:
        root = Path(tmp)
        measures = args.measures.split(",")
        if "io" in measures:
            server = started(root / "io", engine, args)
            try:
                with GraphClient.open(server.target()) as graph:
                    out["server"] = graph.driver.get_server_info().agent
                    attempt(out, "ingest/export/write-back", lambda: measure_io(graph, rows, args))
            finally:
                server.stop()
        if "serving" in measures:
            server = started(root / "serve", engine, args)
            try:
                with GraphClient.open(server.target()) as graph:
                    out["server"] = graph.driver.get_server_info().agent
                attempt(out, "serving", lambda: measure_serving(server, root / "serve", args, out))
            finally:
                server.stop()
        if "demo" in measures and not args.no_demo:
            (root / "demo").mkdir()
            attempt(
                out,
                "demo",
                lambda: {"demo": measure_demo(engine, root / "demo", args.neo4j_build_dir)},
            )
        shutil.rmtree(root, ignore_errors=True)
    return out


# -- report ----------------------------------------------------------------------------------------
def flat(r: dict[str, Any]) -> dict[str, float | None]:
    vs = r.get("vector_statements", {})
    http = r.get("explanation_http", {}).get("explanation", {})
    return {
        "ingest_rel_s": r.get("ingest_rel_s"),
        "export_rows_s": r.get("export_rows_s"),
        "writeback_vectors_s": r.get("writeback_vectors_s"),
        "set_vectors_s": vs.get("set_vectors_s"),
        "map_vectors_s": vs.get("map_vectors_s"),
        "procedure_vectors_s": vs.get("procedure_vectors_s"),
        "explanation_p50_ms": http.get("p50_ms"),
        "explanation_p99_ms": http.get("p99_ms"),
        "path_search_p99_ms": r.get("path_search_in_process", {}).get("p99_ms"),
        "recommendations_p99_ms": r.get("recommendations", {}).get("p99_ms"),
        "demo_wall_s": r.get("demo", {}).get("wall_s"),
    }


LABELS = {
    "ingest_rel_s": "ingest, relationships/s (first load)",
    "export_rows_s": "export, rows/s (read_interactions)",
    "writeback_vectors_s": "write-back, 64-d vectors/s (write_embeddings)",
    "set_vectors_s": "item vectors/s, plain `SET n.p = row.vector`",
    "map_vectors_s": "item vectors/s, `SET n += row.props` (write-back's map form)",
    "procedure_vectors_s": "item vectors/s, `db.create.setNodeVectorProperty`",
    "explanation_p50_ms": "explanation p50, ms (HTTP, sequential)",
    "explanation_p99_ms": "explanation p99, ms (HTTP, sequential)",
    "path_search_p99_ms": "path search p99, ms (find_paths in process)",
    "recommendations_p99_ms": "recommendations p99, ms (open loop)",
    "demo_wall_s": "demo wall time, s",
}


def cell(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def to_markdown(meta: dict[str, Any], results: dict[str, dict]) -> str:
    a, n = flat(results.get("arcadedb", {})), flat(results.get("neo4j", {}))
    lines = [
        f"### engines ({meta['date']}, {meta['machine']}, {meta.get('conditions') or 'conditions not stated'})",
        "",
        f"`{meta['command']}` ({meta['wall_s']:.0f} s in all). Servers: "
        + "; ".join(f"{e}: {r.get('server', '?')}" for e, r in results.items())
        + f". {meta['relationships']:,} relationships over {meta['io_users']:,} users and "
        f"{meta['io_items']:,} items, ingest batch {meta['batch_size']:,}, write-back batch "
        f"{WRITEBACK_BATCH:,}; serving catalog {meta['items']:,} items, {meta['users']:,} users, "
        f"{meta['interactions']:,} interactions, random 64-d vectors; recommendations at "
        f"{meta['rate']:g} req/s for {meta['seconds']:g} s; demo `{' '.join(DEMO_ARGS)}`.",
        "",
        "| measure | ArcadeDB | Neo4j | Neo4j/ArcadeDB | Neo4j target | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    for key, label in LABELS.items():
        ratio = f"{n[key] / a[key]:.2f}x" if a[key] and n[key] else "n/a"
        target, met = "", ""
        if key in TARGETS:
            bound, op = TARGETS[key]
            target = f"{op} {bound:,g}"
            if n[key] is not None:
                met = "yes" if (n[key] >= bound if op == ">=" else n[key] <= bound) else "**no**"
        lines.append(f"| {label} | {cell(a[key])} | {cell(n[key])} | {ratio} | {target} | {met} |")
    vs = results.get("neo4j", {}).get("vector_statements", {})
    ratios = [
        f"{label} / SET: **{vs[key]:.2f}x**"
        for key, label in (
            ("procedure_over_set", "setNodeVectorProperty"),
            ("map_over_set", "map form"),
        )
        if key in vs
    ]
    if ratios:
        lines += [
            "",
            f"Neo4j, {'; '.join(ratios)} "
            f"({vs['vectors']:,} item vectors, mean of two alternated runs each: "
            + ", ".join(f"{k} {[r['vectors_s'] for r in v]}" for k, v in vs["runs"].items())
            + " vectors/s).",
        ]
    lines += ["", "Where the time goes (seconds; server = what it reports per statement):", ""]
    lines += [
        "| engine | measure | wall | in driver calls | server | driver+commit | python |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for engine, r in results.items():
        splits = {
            "ingest": r.get("ingest_split"),
            "export": r.get("export_split"),
            "write-back": r.get("writeback_split"),
            "path search": r.get("path_search_in_process", {}).get("split"),
        }
        for name, s in splits.items():
            if s:
                lines.append(
                    f"| {engine} | {name} | {s['wall_s']} | {s['in_driver_calls_s']} | "
                    f"{s['server_reported_s']} | {s['driver_client_and_commit_s']} | "
                    f"{s['python_outside_driver_s']} |"
                )
    lines += [
        "",
        "Path search: find_paths runs its path kinds' reads concurrently on reader threads, so "
        "its 'in driver calls' and 'server' are sums over overlapping calls (they can exceed "
        "the wall time, and 'python' is then negative).",
    ]
    for engine, r in results.items():
        rec = r.get("recommendations", {})
        if rec.get("requests"):
            lines.append(
                f"\n{engine}, recommendations at {meta['rate']:g} req/s offered: "
                f"{rec['throughput_rps']} answered/s, p50 {rec['p50_ms']} ms, errors "
                f"{rec['errors']}, API process CPU {rec.get('server_cpu_ms')} ms per request "
                f"({rec.get('api_cpu_share_of_wall')} of one core)."
            )
    for engine, r in results.items():
        errors = r.get("vector_statements", {}).get("errors")
        if errors:
            lines.append(f"\n{engine}: not measured: {errors}")
        for name, message in r.get("failed", {}).items():
            lines.append(f"\n{engine}: {name} failed: {message}")
        if r.get("recommendations", {}).get("error"):
            lines.append(f"\n{engine}: recommendations: {r['recommendations']['error']}")
        if r.get("demo", {}).get("exit_status"):
            lines.append(f"\n{engine}: the demo failed (exit {r['demo']['exit_status']}).")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="arcadedb,neo4j", help="comma-separated engines")
    parser.add_argument("--relationships", type=int, default=1_000_000, help="ingest size")
    parser.add_argument("--io-users", type=int, default=20_000, help="users of the ingest graph")
    parser.add_argument("--io-items", type=int, default=10_000, help="items of the ingest graph")
    parser.add_argument("--batch-size", type=int, default=10_000, help="ingest batch size")
    parser.add_argument("--items", type=int, default=10_000, help="serving catalog: items")
    parser.add_argument("--users", type=int, default=5_000, help="serving catalog: users")
    parser.add_argument("--interactions", type=int, default=100_000, help="serving catalog")
    parser.add_argument("--rate", type=float, default=200.0, help="recommendations, req/s")
    parser.add_argument("--seconds", type=float, default=15.0, help="open-loop duration")
    parser.add_argument("--requests", type=int, default=500, help="explanation requests")
    parser.add_argument("--heap", default="3g", help="JVM heap of each server")
    parser.add_argument(
        "--neo4j-build-dir",
        default=os.environ.get("GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR"),
        help="Neo4j launcher build cache (default: GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR)",
    )
    parser.add_argument("--no-demo", action="store_true", help="skip the demo's wall time")
    parser.add_argument(
        "--measures",
        default="io,serving,demo",
        help="groups to run: io (ingest, export, write-back), serving (recommendations, "
        "explanations), demo (default: all)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--conditions",
        default="",
        help="what else ran on the machine, for the table's heading (e.g. 'idle', or "
        "'shared with a test run: absolute numbers are lower bounds')",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: small sizes (overrides the sizes)"
    )
    args = parser.parse_args()
    if args.quick:
        args.relationships, args.io_users, args.io_items = 20_000, 2_000, 1_000
        args.items, args.users, args.interactions = 1_000, 500, 10_000
        args.seconds, args.requests = 3.0, 50
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for engine in engines:
        if engine not in ENGINE_NAMES:
            parser.error(f"--engines: {engine!r} is not one of {', '.join(ENGINE_NAMES)}")

    begin = time.perf_counter()
    log(f"{args.relationships:,} random relationships ...")
    rows = make_rows(args.relationships, args.io_users, args.io_items, args.seed)
    if "io" not in args.measures.split(","):
        rows = []
    results: dict[str, dict] = {}
    for engine in engines:
        log(f"== {engine}")
        results[engine] = run_engine(engine, rows, args)
        report(args, begin, results)


def report(args: argparse.Namespace, begin: float, results: dict[str, dict]) -> None:
    """Save what has been measured so far (called after each engine)."""
    meta = {
        "date": today(),
        "machine": machine(),
        "command": "python bench/engines.py " + " ".join(sys.argv[1:]),
        "wall_s": round(time.perf_counter() - begin),
        "conditions": args.conditions,
        **{
            k: getattr(args, k)
            for k in ("relationships", "io_users", "io_items", "batch_size", "items", "users")
        },
        **{k: getattr(args, k) for k in ("interactions", "rate", "seconds", "requests")},
        "targets": TARGETS,
    }
    save("engines", {"meta": meta, "results": results}, to_markdown(meta, results))


if __name__ == "__main__":
    main()
