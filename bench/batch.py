"""Benchmark: ``POST /recommendations/batch`` against one ``GET`` per user.

One API process (uvicorn, as in bench/serve.py) on an embedded graph with a synthetic catalog and
random dim-64 vectors written back. Closed loop from this process (httpx, asyncio): for each
batch size (1 means ``GET /users/{id}/recommendations``, more means one ``POST`` of that many
users) and each concurrency, clients send back to back for ``--seconds``. Reported: users ranked
per second, and p50/p99 per request. Every answer is checked to hold k items for every user.

    cd bench && python batch.py
    cd bench && python batch.py --engines arcadedb,neo4j --sizes 1,10,100
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx
import numpy as np
from _report import machine, save, today
from serve import (
    API_KEY,
    add_catalog_arguments,
    catalog_label,
    served_catalog,
    start_api,
    stop_api,
)


async def closed_loop(
    base: str, users: list[str], size: int, concurrency: int, k: int, seconds: float, seed: int
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    latencies: list[float] = []
    ranked = errors = 0
    deadline = time.perf_counter() + seconds

    async def one(client: httpx.AsyncClient) -> int:
        chosen = [users[i] for i in rng.choice(len(users), size=size, replace=False)]
        if size == 1:
            answer = await client.get(f"/users/{chosen[0]}/recommendations", params={"k": k})
            answer.raise_for_status()
            results = [answer.json()]
        else:
            answer = await client.post("/recommendations/batch", json={"user_ids": chosen, "k": k})
            answer.raise_for_status()
            body = answer.json()
            if body["errors"]:
                raise RuntimeError(f"batch errors: {body['errors'][:3]}")
            results = body["results"]
        if len(results) != size or any(len(r["items"]) != k for r in results):
            raise RuntimeError("an answer without k items for every user")
        return size

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal ranked, errors
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                done = await one(client)  # not `ranked += await ...`: that reads `ranked` first
            except (httpx.HTTPError, RuntimeError):
                errors += 1
                continue
            ranked += done
            latencies.append(time.perf_counter() - start)

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=base, timeout=120, limits=limits, headers={"X-API-Key": API_KEY}
    ) as client:
        for _ in range(20):  # warm up connections and caches
            await one(client)
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    q = np.quantile(np.asarray(latencies) * 1e3, [0.5, 0.99]) if latencies else [np.nan] * 2
    return {
        "batch": size,
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "users_per_s": round(ranked / elapsed, 1),
        "p50_ms": round(float(q[0]), 1),
        "p99_ms": round(float(q[1]), 1),
        "max_ms": round(max(latencies) * 1e3, 1) if latencies else None,
        "seconds": round(elapsed, 1),
    }


def run_engine(engine: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    with served_catalog(engine, args, "batch") as (tmp, target, users, _items):
        process, base, _ = start_api(target, tmp / "api")
        try:
            for size in args.sizes:
                for concurrency in args.concurrency:
                    row = asyncio.run(
                        closed_loop(base, users, size, concurrency, args.k, args.seconds, args.seed)
                    )
                    rows.append({"engine": engine, **row})
                    print(rows[-1], flush=True)
        finally:
            stop_api(process)
    return rows


def to_markdown(meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = [
        f"### batch recommendations ({meta['date']}, {meta['machine']})",
        "",
        f"`{meta['command']}`",
        "",
        f"Synthetic catalog: {meta['catalog']}; k={meta['k']}. Batch 1 is one "
        "`GET /users/{id}/recommendations` per user; more is one `POST /recommendations/batch`. "
        "The API, the load generator and the graph server share the machine's cores.",
        "",
        "| engine | users per request | concurrent clients | requests | errors | users/s "
        "| p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['batch']} | {r['concurrency']} | {r['requests']:,} | "
            f"{r['errors']} | {r['users_per_s']:,} | {r['p50_ms']} | {r['p99_ms']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_catalog_arguments(parser)
    parser.add_argument("--sizes", default="1,10,100", help="users per request (1 = GET)")
    parser.add_argument("--concurrency", default="1,8", help="concurrent clients")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0, help="per (size, concurrency)")
    args = parser.parse_args()
    args.sizes = [int(v) for v in args.sizes.split(",")]
    args.concurrency = [int(v) for v in args.concurrency.split(",")]
    rows = []
    for engine in args.engines.split(","):
        rows += run_engine(engine, args)
    meta = {
        "date": today(),
        "machine": machine(),
        "command": f"cd bench && python batch.py --engines {args.engines} "
        f"--sizes {','.join(map(str, args.sizes))} "
        f"--concurrency {','.join(map(str, args.concurrency))} --seconds {args.seconds:g}",
        "catalog": catalog_label(args),
        "k": args.k,
    }
    save("batch", {"meta": meta, "rows": rows}, to_markdown(meta, rows))


if __name__ == "__main__":
    main()
