"""Benchmark: how long a write posted to one API process takes to reach a second one.

Two ``graphrec serve`` processes (uvicorn, as in bench/serve.py) on one embedded graph, with a
synthetic catalog and random dim-64 vectors written back (the delay does not depend on how good
the vectors are). Replicas agree through the change feed in the graph (graphrec/api/replicas.py):
each process reads the feed every ``GRAPHREC_API_SYNC_INTERVAL`` seconds.

For each sync interval and each kind of write, ``--trials`` times:

- **interaction**: B's top-1 item for a random user is posted to A as that user's interaction;
  the delay ends when B's top-1 for the user changes (seen items are left out);
- **item created**: a new item (the concepts of a random existing one) is posted to A; the delay
  ends when ``GET /items/{id}`` on B answers 200;
- **item erased**: B's top-1 item for a random user is deleted on A; the delay ends when B's top-1
  for the user changes.

The delay runs from A's answer to the first poll of B that shows the change; B is polled every
``--poll`` seconds, so each delay is late by up to that much. Each write waits a random fraction
of the sync interval first: back-to-back trials would otherwise each start just after a sync and
all wait a whole interval. p50, p99 and max per kind.

    cd bench && python replicas.py                           # ArcadeDB, intervals 1.0 and 0.25
    cd bench && python replicas.py --engines arcadedb,neo4j --trials 100
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
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

KINDS = ("interaction", "item created", "item erased")


def top1(http: httpx.Client, base: str, user: str) -> str:
    answer = http.get(f"{base}/users/{user}/recommendations", params={"k": 1})
    answer.raise_for_status()
    return answer.json()["items"][0]["item_id"]


def wait_for(check: Callable[[], bool], poll: float, within: float) -> float:
    """Seconds from now until ``check()`` holds (``inf`` after ``within`` seconds)."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > within:
            return float("inf")
        time.sleep(poll)
    return time.perf_counter() - start


def trials(
    http: httpx.Client,
    a: str,
    b: str,
    users: list[str],
    items: list[str],
    args: argparse.Namespace,
    interval: float,
) -> dict[str, list[float]]:
    rng = np.random.default_rng(args.seed)
    delays: dict[str, list[float]] = {kind: [] for kind in KINDS}
    within = args.within

    def pause() -> None:  # writes arrive at random moments of B's sync cycle
        time.sleep(rng.uniform(0, interval))

    for t in range(args.trials):
        user = users[rng.integers(len(users))]
        seen = top1(http, b, user)
        pause()
        answer = http.post(
            f"{a}/interactions", json={"user_id": user, "item_id": seen, "kind": "bench"}
        )
        answer.raise_for_status()
        delays["interaction"].append(
            wait_for(lambda u=user, s=seen: top1(http, b, u) != s, args.poll, within)
        )

        model = http.get(f"{a}/items/{items[rng.integers(len(items))]}")
        model.raise_for_status()
        new_id = f"bench-new-{interval:g}-{t}"
        pause()
        answer = http.post(
            f"{a}/items",
            json={"id": new_id, "concepts": [{"id": c["id"]} for c in model.json()["concepts"]]},
        )
        answer.raise_for_status()
        delays["item created"].append(
            wait_for(
                lambda i=new_id: http.get(f"{b}/items/{i}").status_code == 200, args.poll, within
            )
        )

        user = users[rng.integers(len(users))]
        doomed = top1(http, b, user)
        pause()
        http.delete(f"{a}/items/{doomed}").raise_for_status()
        if doomed in items:  # later trials pick among the items still there
            items.remove(doomed)
        delays["item erased"].append(
            wait_for(lambda u=user, d=doomed: top1(http, b, u) != d, args.poll, within)
        )
    return delays


def summary(values: list[float]) -> dict[str, Any]:
    finite = np.asarray([v for v in values if np.isfinite(v)]) * 1e3
    q = np.quantile(finite, [0.5, 0.99]) if len(finite) else [np.nan, np.nan]
    return {
        "trials": len(values),
        "missed": len(values) - len(finite),
        "p50_ms": round(float(q[0])),
        "p99_ms": round(float(q[1])),
        "max_ms": round(float(finite.max())) if len(finite) else None,
    }


def run_engine(engine: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    with served_catalog(engine, args, "replicas") as (tmp, target, users, items):
        for interval in args.intervals:
            os.environ["GRAPHREC_API_SYNC_INTERVAL"] = str(interval)
            a, base_a, _ = start_api(target, tmp / f"a-{interval}")
            b, base_b, _ = start_api(target, tmp / f"b-{interval}")
            try:
                with httpx.Client(headers={"X-API-Key": API_KEY}, timeout=60) as http:
                    delays = trials(http, base_a, base_b, users, items, args, interval)
            finally:
                stop_api(a)
                stop_api(b)
            for kind, values in delays.items():
                rows.append(
                    {"engine": engine, "interval_s": interval, "write": kind, **summary(values)}
                )
                print(rows[-1], flush=True)
    return rows


def to_markdown(meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = [
        f"### replicas ({meta['date']}, {meta['machine']})",
        "",
        f"`{meta['command']}`",
        "",
        f"Synthetic catalog: {meta['catalog']}. Two API processes, the load generator and the "
        f"graph server share the machine's cores. B polled every {meta['poll_s'] * 1e3:g} ms "
        "(each delay is late by up to that much).",
        "",
        "| engine | sync interval (s) | write | trials | missed | p50 ms | p99 ms | max ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['interval_s']:g} | {r['write']} | {r['trials']} | "
            f"{r['missed']} | {r['p50_ms']:,} | {r['p99_ms']:,} | {r['max_ms']:,} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_catalog_arguments(parser)
    parser.add_argument(
        "--intervals",
        default="1.0,0.25",
        help="GRAPHREC_API_SYNC_INTERVAL values to measure, seconds (default 1.0,0.25)",
    )
    parser.add_argument("--trials", type=int, default=50, help="trials per kind of write")
    parser.add_argument("--poll", type=float, default=0.01, help="seconds between polls of B")
    parser.add_argument(
        "--within", type=float, default=30.0, help="a change not seen by then is 'missed'"
    )
    args = parser.parse_args()
    args.intervals = [float(v) for v in args.intervals.split(",")]
    rows = []
    for engine in args.engines.split(","):
        rows += run_engine(engine, args)
    meta = {
        "date": today(),
        "machine": machine(),
        "command": "cd bench && python replicas.py "
        f"--engines {args.engines} --intervals {','.join(f'{v:g}' for v in args.intervals)} "
        f"--trials {args.trials}",
        "catalog": catalog_label(args),
        "poll_s": args.poll,
    }
    save("replicas", {"meta": meta, "rows": rows}, to_markdown(meta, rows))


if __name__ == "__main__":
    main()
