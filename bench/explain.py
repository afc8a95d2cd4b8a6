"""Benchmark: explanation coverage, faithfulness and endpoint latency on ml-latest-small.

On a fresh embedded ArcadeDB server (temporary directory, free ports): ingest
MovieLens, train LightGCN (dim 64, 2 layers) and write it back, derive
CO_ENGAGED, then for ``--users`` randomly drawn users and their top-10
recommendations (seen items excluded, as the API ranks them):

- **Coverage**: the share of recommendations with at least one path of length
  <= 3 relationships (collaborative, content, co-engagement, attribute; a
  knowledge-graph path is at least 4), and with any path at all (KG hops <= 3).
- **Faithfulness**: for the best-ranked path of each recommendation, fold the
  user in (:func:`graphrec.serving.fold_in`) from all their items and again
  without the path's anchor item; count how often the item's score drops. The
  same is done removing a random *other* item of the user, as the peer: an
  explanation is faithful when its anchor matters more than an arbitrary item.
- **Latency**: ``GET /users/{u}/recommendations/{i}/explanation`` (default
  ``max_paths=3, max_hops=3``) over real HTTP, one request at a time, against
  the API in its own process; and ``GET /users/{u}/recommendations?k=10&explain=true``.

    python bench/explain.py                     # 150 users, /work/shared/data/ml-latest-small
    python bench/explain.py --users 610 --requests 1000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from _report import machine, save, today  # bench/_report.py (scripts run from bench/)
from _server import bench_server
from serve import API_KEY, MOVIELENS, movielens_catalog, start_api, stop_api

from graphrec.explain import find_paths, rank_paths
from graphrec.graph.client import GraphClient
from graphrec.ingest import derive_co_engagement
from graphrec.serving import load_index, recommend, vector_lookup


def quantiles(values: list[float]) -> dict[str, float]:
    ms = np.asarray(values) * 1e3
    q = np.quantile(ms, [0.5, 0.95, 0.99])
    return {
        "requests": len(values),
        "p50_ms": round(float(q[0]), 1),
        "p95_ms": round(float(q[1]), 1),
        "p99_ms": round(float(q[2]), 1),
        "max_ms": round(float(ms.max()), 1),
    }


def removal_drops(model: Any, state: Any, items: np.ndarray, position: int) -> np.ndarray:
    """For each of the user's ``items``, how much the item's fold-in score drops without it.

    Fold-in is :math:`\\sum_j w_j e_j / \\sqrt{n}`, so leaving out item :math:`j` gives
    :math:`(T - c_j) / \\sqrt{n - 1}` with :math:`c_j = w_j\\, e_j \\cdot t` and
    :math:`T = \\sum_j c_j`: every removal at once, without a fold-in per item.
    """
    target = model.item_vectors[position].astype(np.float64)
    weights = 1.0 / np.sqrt(np.maximum(state.popularity[items].astype(np.float64), 1.0))
    contribution = weights * (model.item_vectors[items].astype(np.float64) @ target)
    total, n = contribution.sum(), len(items)
    return total / np.sqrt(n) - (total - contribution) / np.sqrt(n - 1)


def quality(graph: GraphClient, users: list[str], seed: int) -> tuple[dict, list[tuple[str, str]]]:
    """Coverage and faithfulness over the users' top-10; also returns the (user, item) pairs."""
    index = load_index(graph)
    snapshot, state = index.snapshot, index.state
    model = snapshot.model()
    lookup = vector_lookup(model, snapshot.catalog, state)
    rng = np.random.default_rng(seed)

    def degree_of(item_id: str) -> float:  # as the API ranks paths: popularity from memory
        return float(state.popularity[snapshot.catalog.position(item_id)])

    pairs: list[tuple[str, str]] = []
    short = any_path = 0
    kinds: dict[str, int] = {}
    anchor_drops = random_drops = tested = 0
    anchor_change: list[float] = []
    random_change: list[float] = []
    search_s: list[float] = []
    percentile_shown: list[float] = []
    percentile_best_path: list[float] = []
    percentile_random_path: list[float] = []
    for user in users:
        seen = state.seen(user)
        for item in recommend(snapshot, state, user, k=10).items:
            pairs.append((user, item.item_id))
            start = time.perf_counter()
            found = find_paths(graph, user, item.item_id, max_hops=3).paths
            search_s.append(time.perf_counter() - start)
            any_path += bool(found)
            short += any(len(p.relationships) <= 3 for p in found)
            for kind in {p.kind for p in found}:
                kinds[kind] = kinds.get(kind, 0) + 1

            # The path the API would show first (explain() with max_paths=1).
            best = rank_paths(found, lookup, user_id=user, item_id=item.item_id, degree=degree_of)
            if not best or best[0].anchor_id is None or len(seen) < 2:
                continue
            position = snapshot.catalog.position(item.item_id)
            anchor = snapshot.catalog.position(best[0].anchor_id)
            others = seen[seen != anchor]
            if len(others) == len(seen):  # the anchor is not among the indexed items
                continue
            drops = removal_drops(model, state, seen, position)
            rank_of = {int(j): float((drops < drops[k]).mean()) for k, j in enumerate(seen)}
            path_anchors = [
                int(snapshot.catalog.position(p.anchor_id)) for p in found if p.anchor_id
            ]
            path_anchors = [a for a in path_anchors if a in rank_of]
            percentile_shown.append(rank_of[int(anchor)])
            percentile_best_path.append(max(rank_of[a] for a in path_anchors))
            percentile_random_path.append(rank_of[path_anchors[rng.integers(len(path_anchors))]])
            drop_of = dict(zip(seen.tolist(), drops.tolist(), strict=True))
            anchor_drop = drop_of[int(anchor)]
            random_drop = drop_of[int(rng.choice(others))]
            tested += 1
            anchor_drops += anchor_drop > 0
            random_drops += random_drop > 0
            anchor_change.append(-anchor_drop)
            random_change.append(-random_drop)
    total = len(pairs)
    report = {
        "users": len(users),
        "recommendations": total,
        "coverage_len_le_3": round(short / total, 4),
        "coverage_any_path": round(any_path / total, 4),
        "share_with_kind": {k: round(v / total, 4) for k, v in sorted(kinds.items())},
        "faithfulness_tested": tested,
        "faithfulness_anchor_removed": round(anchor_drops / max(1, tested), 4),
        "faithfulness_random_item_removed": round(random_drops / max(1, tested), 4),
        "mean_score_change_anchor": round(float(np.mean(anchor_change)), 5),
        "mean_score_change_random": round(float(np.mean(random_change)), 5),
        "anchor_drop_percentile_shown": round(float(np.mean(percentile_shown)), 4),
        "anchor_drop_percentile_random_path": round(float(np.mean(percentile_random_path)), 4),
        "anchor_drop_percentile_best_path": round(float(np.mean(percentile_best_path)), 4),
        "path_search_in_process": quantiles(search_s),
    }
    return report, pairs


def latency(base: str, pairs: list[tuple[str, str]], users: list[str], requests: int) -> dict:
    """Sequential requests over HTTP (keep-alive), after a short warm-up."""
    rng = np.random.default_rng(1)
    chosen = [
        pairs[i] for i in rng.choice(len(pairs), size=min(requests, len(pairs)), replace=False)
    ]
    results: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=30, headers={"X-API-Key": API_KEY}) as client:
        for user, item in chosen[:20]:
            client.get(f"/users/{user}/recommendations/{item}/explanation")
        times, partial = [], 0
        for user, item in chosen:
            start = time.perf_counter()
            response = client.get(f"/users/{user}/recommendations/{item}/explanation")
            times.append(time.perf_counter() - start)
            response.raise_for_status()
            partial += response.json()["partial"]
        results["explanation"] = {**quantiles(times), "partial_answers": partial}
        times = []
        for user in users[: max(20, requests // 10)]:
            start = time.perf_counter()
            response = client.get(
                f"/users/{user}/recommendations", params={"k": 10, "explain": "true"}
            )
            times.append(time.perf_counter() - start)
            response.raise_for_status()
        results["recommendations_k10_explain"] = quantiles(times)
    return results


def to_markdown(meta: dict[str, Any], report: dict[str, Any]) -> str:
    q, lat = report["quality"], report["latency"]
    lines = [
        f"## Explanations on ml-latest-small ({meta['date']}, {meta['machine']})",
        "",
        f"`{meta['command']}`; {meta['model']}.",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        f"| coverage: top-10 recs with a path of length <= 3 | {q['coverage_len_le_3']:.1%} "
        f"({q['recommendations']} recs, {q['users']} users) | >= 95% |",
        f"| coverage: with any path (KG hops <= 3) | {q['coverage_any_path']:.1%} | |",
        f"| faithfulness: score drops when the top path's anchor is removed | "
        f"{q['faithfulness_anchor_removed']:.1%} of {q['faithfulness_tested']} | |",
        f"| peer: score drops when a random other item is removed | "
        f"{q['faithfulness_random_item_removed']:.1%} | |",
        "| how much the anchor matters: percentile of its removal's drop among all the "
        "user's items (50% = an arbitrary item) | "
        f"shown path {q['anchor_drop_percentile_shown']:.1%}; random path "
        f"{q['anchor_drop_percentile_random_path']:.1%}; best available path "
        f"{q['anchor_drop_percentile_best_path']:.1%} | |",
        f"| mean score change, anchor vs random removed | {q['mean_score_change_anchor']:+.4f} vs "
        f"{q['mean_score_change_random']:+.4f} | |",
    ]
    for name, row in lat.items():
        lines.append(
            f"| latency `{name}` p50 / p95 / p99 (n={row['requests']}) | {row['p50_ms']} / "
            f"{row['p95_ms']} / {row['p99_ms']} ms | "
            f"{'p99 <= 100 ms' if name == 'explanation' else ''} |"
        )
    lines += ["", f"Paths by kind (share of recommendations): {q['share_with_kind']}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--movielens", type=Path, default=MOVIELENS)
    parser.add_argument("--users", type=int, default=150, help="users drawn for quality")
    parser.add_argument("--requests", type=int, default=600, help="explanation requests timed")
    parser.add_argument("--epochs", type=int, default=20, help="LightGCN epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.movielens.is_dir():
        sys.exit(f"no MovieLens folder at {args.movielens} (see --movielens)")

    with tempfile.TemporaryDirectory() as tmp:
        server = bench_server(Path(tmp), heap="3g")
        server.start()
        try:
            print("ingest + train + write-back ...", flush=True)
            target, user_ids, _, info = movielens_catalog(server, args.movielens, args.epochs)
            with GraphClient.open(target) as graph:
                links = derive_co_engagement(graph)
                rng = np.random.default_rng(args.seed)
                users = [user_ids[i] for i in rng.permutation(len(user_ids))[: args.users]]
                print("coverage + faithfulness ...", flush=True)
                quality_report, pairs = quality(graph, users, args.seed)
            print("latency ...", flush=True)
            process, base, _ = start_api(target, Path(tmp))
            try:
                latency_report = latency(base, pairs, users, args.requests)
            finally:
                stop_api(process)
        finally:
            server.stop()
    meta = {
        "date": today(),
        "machine": machine(),
        "command": "python bench/explain.py " + " ".join(sys.argv[1:]),
        "model": info["model"],
        "co_engaged_links": links.rows,
    }
    report = {"meta": meta, "catalog": info, "quality": quality_report, "latency": latency_report}
    save("explain", report, to_markdown(meta, report))


if __name__ == "__main__":
    main()
