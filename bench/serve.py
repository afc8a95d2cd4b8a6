"""Benchmark: the recommendation API under load, and embedding write-back throughput.

On a fresh embedded ArcadeDB server (temporary directory, free ports):

1. **Write-back**: :func:`graphrec.writeback.write_embeddings` of random dim-64
   embeddings for ``--wb-users`` users and ``--items`` items (embeddings/s),
   at the default batch size and a larger one.
2. **Serving**, per catalog:

   - ``synthetic-<n>``: the synthetic generator's catalog (items with category
     and tag concepts, Zipf popularity) with *random* dim-64 embeddings written
     back (latency does not depend on how good the vectors are);
   - ``ml-latest-small`` (when ``/work/shared/data/ml-latest-small`` or
     ``--movielens`` exists): MovieLens ingested, LightGCN trained for a few
     epochs here (dim 64), written back.

   The API runs in its own process (``uvicorn graphrec.api.main:app_from_environment``)
   on 127.0.0.1; this process is the load generator (httpx, asyncio). Open loop:
   requests start at a fixed rate whatever the answers do, and each latency is
   measured from its send to its answer. Phases: recommendations (k=10, random
   known users), similar items (k=10), single interaction writes (new pairs),
   then closed-loop throughput (fixed concurrency, as fast as answers come).

JSON and markdown go to ``bench/out/serve.json`` and ``bench/out/serve.md``.

    python bench/serve.py                      # synthetic 10k + ml-latest-small if present
    python bench/serve.py --large              # also a 100k-item synthetic catalog
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from _report import save  # bench/_report.py (scripts run from bench/)
from _server import bench_server, fresh_target

from graphrec import loaders
from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.embedded import EmbeddedServer, free_port
from graphrec.ingest import ingest
from graphrec.loaders.rows import InteractionRow, ItemRow, UserRow
from graphrec.writeback import Embeddings, write_embeddings

MOVIELENS = Path("/work/shared/data/ml-latest-small")
API_KEY = "bench-key-0123456789"  # GRAPHREC_API_MIN_KEY_LENGTH is 16
DIM = 64


# -- load generation ----------------------------------------------------------------------------
def summarise(latencies: list[float], errors: int, seconds: float) -> dict[str, float]:
    values = np.asarray(latencies) * 1e3
    q = np.quantile(values, [0.5, 0.95, 0.99]) if len(values) else [np.nan] * 3
    return {
        "requests": len(latencies) + errors,
        "errors": errors,
        "throughput_rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(float(q[0]), 2),
        "p95_ms": round(float(q[1]), 2),
        "p99_ms": round(float(q[2]), 2),
    }


Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def _timed(client: httpx.AsyncClient, request: Request, i: int) -> float | None:
    start = time.perf_counter()
    try:
        response = await request(client, i)
    except httpx.HTTPError:
        return None
    if response.status_code >= 400:
        return None
    return time.perf_counter() - start


async def open_loop(
    client: httpx.AsyncClient, request: Request, rate: float, seconds: float, offset: int = 0
) -> dict[str, float]:
    """Start ``rate`` requests per second for ``seconds``; latency from send to answer."""
    count = int(rate * seconds)
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    for i in range(count):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_timed(client, request, offset + i)))
    results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 120)
    elapsed = loop.time() - start
    ok = [r for r in results if r is not None]
    return {"mode": f"open loop {rate:g} req/s", **summarise(ok, len(results) - len(ok), elapsed)}


async def closed_loop(
    client: httpx.AsyncClient, request: Request, concurrency: int, seconds: float, offset: int = 0
) -> dict[str, float]:
    """``concurrency`` clients sending back to back for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(offset, offset + 10**9))
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            result = await _timed(client, request, next(counter))
            if result is None:
                errors += 1
            else:
                latencies.append(result)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "mode": f"closed loop, {concurrency} clients",
        **summarise(latencies, errors, time.perf_counter() - start),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(pid: int, phase: Awaitable[dict[str, float]]) -> dict[str, float]:
    """Run ``phase`` and add the API process's CPU milliseconds per answered request."""
    before = cpu_seconds(pid)
    result = await phase
    answered = result["requests"] - result["errors"]
    result["server_cpu_ms"] = round((cpu_seconds(pid) - before) * 1e3 / max(answered, 1), 2)
    return result


async def load_phases(
    base: str,
    pid: int,
    users: list[str],
    items: list[str],
    rate: float,
    seconds: float,
    seed: int,
) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(seed)
    user_order = rng.integers(0, len(users), size=1_000_000)
    item_order = rng.integers(0, len(items), size=1_000_000)

    async def recommendations(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.get(
            f"/users/{users[user_order[i % len(user_order)]]}/recommendations",
            params={"k": 10},
        )

    async def similar(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.get(
            f"/items/{items[item_order[i % len(item_order)]]}/similar", params={"k": 10}
        )

    async def write(client: httpx.AsyncClient, i: int) -> httpx.Response:
        # A new (user, item) pair each time: 1,000 bench users over the catalog.
        user, item = f"bench-writer-{i % 1000}", items[(i // 1000 * 7919 + i) % len(items)]
        return await client.post(
            "/interactions",
            json={"user_id": user, "item_id": item, "kind": "bench"},
            headers={"X-API-Key": API_KEY},
        )

    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    headers = {"X-API-Key": API_KEY}  # reads need a key too (user reads are locked by default)
    async with httpx.AsyncClient(
        base_url=base, timeout=60, limits=limits, headers=headers
    ) as client:
        for _ in range(200):  # warm up connections and caches
            await recommendations(client, _)
            await similar(client, _)
        phases = {
            "recommendations": await measured(
                pid, open_loop(client, recommendations, rate, seconds)
            ),
            "similar items": await measured(pid, open_loop(client, similar, rate, seconds)),
            "interaction writes": await measured(pid, open_loop(client, write, rate / 2, seconds)),
            "recommendations, max": await measured(
                pid, closed_loop(client, recommendations, 16, seconds / 2)
            ),
            "similar items, max": await measured(
                pid, closed_loop(client, similar, 16, seconds / 2)
            ),
            "interaction writes, max": await measured(
                pid, closed_loop(client, write, 32, seconds / 2, offset=10**6)
            ),
        }
    return phases


# -- the service in its own process ----------------------------------------------------------------
def start_api(target: ConnectionTarget, data_dir: Path) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    env = {
        **os.environ,
        "GRAPHREC_NEO4J_URI": target.uri,
        "GRAPHREC_NEO4J_USER": target.user or "",
        "GRAPHREC_NEO4J_PASSWORD": target.password or "",
        "GRAPHREC_NEO4J_DATABASE": target.database,
        "GRAPHREC_DATA_DIR": str(data_dir),
        "GRAPHREC_API_KEY": API_KEY,
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "graphrec.api.main:app_from_environment",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited with status {process.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return process, base, time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError("the API did not start in time")


def stop_api(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- catalogs ----------------------------------------------------------------------------------------
def new_database(server: EmbeddedServer, name: str) -> ConnectionTarget:
    """The server's one database, emptied (``name`` only labels the phase in logs)."""
    return fresh_target(server)


def random_embeddings(users: list[str], items: list[str], seed: int) -> dict[str, Embeddings]:
    rng = np.random.default_rng(seed)
    return {
        "User": Embeddings(users, rng.normal(size=(len(users), DIM)).astype(np.float32)),
        "Item": Embeddings(items, rng.normal(size=(len(items), DIM)).astype(np.float32)),
    }


def synthetic_catalog(
    server: EmbeddedServer, name: str, *, users: int, items: int, interactions: int, seed: int
) -> tuple[ConnectionTarget, list[str], list[str], dict[str, float]]:
    target = new_database(server, name)
    rows = list(
        loaders.parse(
            "synthetic", None, users=users, items=items, interactions=interactions, seed=seed
        )
    )
    user_ids = [r.id for r in rows if isinstance(r, UserRow)]
    item_ids = [r.id for r in rows if isinstance(r, ItemRow)]
    with GraphClient.open(target) as graph:
        graph.apply_schema()
        start = time.perf_counter()
        ingest(graph, rows, progress=False)
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        write_embeddings(
            graph,
            model="lightgcn",
            embeddings=random_embeddings(user_ids, item_ids, seed),
            batch_size=10_000,
            progress=False,
        )
        writeback_s = time.perf_counter() - start
    info = {
        "users": users,
        "items": items,
        "interactions": sum(isinstance(r, InteractionRow) for r in rows),
        "ingest_s": round(ingest_s, 1),
        "writeback_s": round(writeback_s, 1),
        "model": "random dim-64 vectors",
    }
    return target, user_ids, item_ids, info


def add_catalog_arguments(parser: argparse.ArgumentParser) -> None:
    """``--engines`` and the synthetic catalog's size, for the benchmarks that serve one
    (:func:`served_catalog`)."""
    parser.add_argument("--engines", default="arcadedb", help="comma-separated: arcadedb,neo4j")
    parser.add_argument("--users", type=int, default=3_000)
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--interactions", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=0)


def catalog_label(args: argparse.Namespace) -> str:
    return (
        f"{args.users:,} users, {args.items:,} items, "
        f"{args.interactions:,} interactions, random dim-64 vectors"
    )


@contextmanager
def served_catalog(
    engine: str, args: argparse.Namespace, name: str
) -> Iterator[tuple[Path, ConnectionTarget, list[str], list[str]]]:
    """A fresh ``engine`` server in a temporary directory holding the synthetic catalog of
    ``args`` (:func:`add_catalog_arguments`): ``(directory, target, user ids, item ids)``;
    the server stops on exit."""
    with tempfile.TemporaryDirectory(prefix=f"graphrec-bench-{name}-") as tmp:
        server = bench_server(Path(tmp) / "db", engine)
        server.start()
        try:
            target, users, items, _ = synthetic_catalog(
                server,
                name,
                users=args.users,
                items=args.items,
                interactions=args.interactions,
                seed=args.seed,
            )
            yield Path(tmp), target, users, items
        finally:
            server.stop()


def movielens_catalog(
    server: EmbeddedServer, path: Path, epochs: int
) -> tuple[ConnectionTarget, list[str], list[str], dict[str, float]]:
    from graphrec.data import RecData
    from graphrec.export import export_graph
    from graphrec.training import train

    target = new_database(server, "movielens")
    with GraphClient.open(target) as graph:
        graph.apply_schema()
        start = time.perf_counter()
        ingest(graph, loaders.parse("movielens", path), progress=False)
        ingest_s = time.perf_counter() - start
        hetero, ids = export_graph(graph, progress=False)
        data = RecData.from_hetero(hetero, seed=0)
        start = time.perf_counter()
        result = train(
            model="lightgcn",
            data=data,
            model_kwargs={"embedding_dim": DIM, "num_layers": 2},
            epochs=epochs,
            batch_size=8192,
            lr=0.005,
            patience=0,
            progress=False,
        )
        train_s = time.perf_counter() - start
        final = result.model.get_embedding()
        start = time.perf_counter()
        write_embeddings(
            graph,
            model="lightgcn",
            embeddings={
                "User": Embeddings(list(ids.users), final.user.numpy()),
                "Item": Embeddings(list(ids.items), final.item.numpy()),
            },
            metrics=result.metrics,
            batch_size=10_000,
            progress=False,
        )
        writeback_s = time.perf_counter() - start
    info = {
        "users": len(ids.users),
        "items": len(ids.items),
        "interactions": int(hetero["user", "interacted", "item"].edge_index.shape[1]),
        "ingest_s": round(ingest_s, 1),
        "train_s": round(train_s, 1),
        "writeback_s": round(writeback_s, 1),
        "model": f"LightGCN dim {DIM}, {epochs} epochs, test recall@20 "
        f"{result.metrics.get('recall@20', float('nan')):.3f}",
    }
    return target, list(ids.users), list(ids.items), info


# -- write-back throughput ---------------------------------------------------------------------------
def bench_writeback(server: EmbeddedServer, users: int, items: int) -> list[dict[str, Any]]:
    target = new_database(server, "writeback")
    user_ids = [f"u{i}" for i in range(users)]
    item_ids = [f"i{i}" for i in range(items)]
    with GraphClient.open(target) as graph:
        graph.apply_schema()
        ingest(
            graph,
            [UserRow(u) for u in user_ids] + [ItemRow(i) for i in item_ids],
            progress=False,
        )
        results = []
        for batch_size in (2_000, 10_000):
            embeddings = random_embeddings(user_ids, item_ids, batch_size)
            start = time.perf_counter()
            write_embeddings(
                graph, model="bench", embeddings=embeddings, batch_size=batch_size, progress=False
            )
            seconds = time.perf_counter() - start
            results.append(
                {
                    "embeddings": users + items,
                    "dim": DIM,
                    "batch_size": batch_size,
                    "seconds": round(seconds, 2),
                    "embeddings_per_s": round((users + items) / seconds),
                }
            )
    return results


# -- report -------------------------------------------------------------------------------------------
def to_markdown(meta: dict[str, Any], writeback: list[dict], catalogs: dict[str, dict]) -> str:
    lines = [
        f"### serve ({meta['date']}, {meta['machine']}, {meta['server']})",
        "",
        f"`{meta['command']}`",
        "",
        "Load from a second process on 127.0.0.1 (httpx, asyncio); the API, the load generator "
        "and the graph server share the machine's cores.",
        "",
    ]
    for name, result in catalogs.items():
        info = result["catalog"]
        lines += [
            f"#### {name}: {info['items']:,} items, {info['users']:,} users, "
            f"{info['interactions']:,} interactions ({info['model']}); "
            f"API start-up incl. index load {result['startup_s']:.1f} s",
            "",
            "| phase | mode | requests | errors | throughput (req/s) | p50 ms | p95 ms | p99 ms "
            "| API CPU ms/req |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for phase, r in result["phases"].items():
            lines.append(
                f"| {phase} | {r['mode']} | {r['requests']:,} | {r['errors']} | "
                f"{r['throughput_rps']:,} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
                f"{r['server_cpu_ms']} |"
            )
        if "writes_check" in result:
            lines += ["", result["writes_check"]]
        lines.append("")
    lines += [
        "#### write-back into the embedded server (random embeddings, dim 64)",
        "",
        "| embeddings | batch size | seconds | embeddings/s |",
        "|---:|---:|---:|---:|",
    ]
    for r in writeback:
        lines.append(
            f"| {r['embeddings']:,} | {r['batch_size']:,} | {r['seconds']} | "
            f"{r['embeddings_per_s']:,} |"
        )
    return "\n".join(lines) + "\n"


def serve_catalog(
    target: ConnectionTarget,
    users: list[str],
    items: list[str],
    info: dict[str, Any],
    data_dir: Path,
    args: argparse.Namespace,
    rate: float,
) -> dict[str, Any]:
    process, base, startup = start_api(target, data_dir)
    try:
        phases = asyncio.run(
            load_phases(base, process.pid, users, items, rate, args.seconds, args.seed)
        )
    finally:
        stop_api(process)
    acknowledged = (
        phases["interaction writes"]["requests"]
        - phases["interaction writes"]["errors"]
        + phases["interaction writes, max"]["requests"]
        - phases["interaction writes, max"]["errors"]
    )
    with GraphClient.open(target) as graph:
        stored = graph.run("MATCH ()-[r:INTERACTED {kind: 'bench'}]->() RETURN count(r) AS n")[0][
            "n"
        ]
    return {
        "catalog": info,
        "startup_s": round(startup, 1),
        "phases": phases,
        "writes_check": f"Interaction writes acknowledged: {acknowledged:,}; `bench` edges in "
        f"the graph afterwards: {stored:,}.",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--large", action="store_true", help="also a 100k-item catalog")
    parser.add_argument("--movielens", type=Path, default=MOVIELENS)
    parser.add_argument("--epochs", type=int, default=10, help="LightGCN epochs on MovieLens")
    parser.add_argument("--wb-users", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop requests/s")
    parser.add_argument(
        "--large-rate", type=float, default=100.0, help="open-loop requests/s, 100k catalog"
    )
    parser.add_argument(
        "--only", choices=["synthetic", "movielens"], help="run one kind of catalog only"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="per open-loop phase")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    catalogs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = bench_server(Path(tmp), heap="3g")
        server.start()
        try:
            with GraphClient.open(server.target()) as graph:
                agent = graph.driver.get_server_info().agent
            print("write-back ...", flush=True)
            writeback = bench_writeback(server, args.wb_users, args.items)
            sizes = [(args.items, args.users, args.interactions)]
            if args.large:
                sizes.append((100_000, 20_000, 400_000))
            if args.only == "movielens":
                sizes = []
            for items, users, interactions in sizes:
                name = f"synthetic-{items // 1000}k"
                print(f"{name} ...", flush=True)
                target, user_ids, item_ids, info = synthetic_catalog(
                    server,
                    name.replace("-", ""),
                    users=users,
                    items=items,
                    interactions=interactions,
                    seed=args.seed,
                )
                rate = args.rate if items <= args.items else args.large_rate
                catalogs[name] = serve_catalog(
                    target, user_ids, item_ids, info, Path(tmp), args, rate
                )
            if args.movielens.is_dir() and args.only != "synthetic":
                print("ml-latest-small ...", flush=True)
                target, user_ids, item_ids, info = movielens_catalog(
                    server, args.movielens, args.epochs
                )
                catalogs["ml-latest-small"] = serve_catalog(
                    target, user_ids, item_ids, info, Path(tmp), args, args.rate
                )
        finally:
            server.stop()
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "server": agent,
        "command": "python bench/serve.py " + " ".join(sys.argv[1:]),
    }
    report = {"meta": meta, "writeback": writeback, "catalogs": catalogs}
    save("serve", report, to_markdown(meta, writeback, catalogs))


if __name__ == "__main__":
    main()
