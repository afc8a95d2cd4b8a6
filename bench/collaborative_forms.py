"""Benchmark: forms of the collaborative explanation query, on each engine.

``explain/collaborative`` collects the recommended item's users, then expands the
user's items to their users and keeps those in the list (written for ArcadeDB,
which enumerates the whole two-hop neighbourhood for the single pattern).
``explain/collaborative_one_pattern`` is the single pattern, Neo4j's natural
form. ``anchors_first`` (``bench/cypher/collaborative_anchors_first.cypher``, a
candidate not shipped) collects the user's items first and expands the
recommended item's users to theirs. On a fresh embedded server per engine:
ingest ml-latest-small, draw ``--pairs`` (user, item) pairs, the item unseen by
the user and drawn by popularity (as recommendations lean popular), and time
the ``--forms`` on each pair, rotating which runs first. All must return the
same (anchor, people) rows; the script stops if they do not.

    python bench/collaborative_forms.py                       # both engines, 300 pairs
    python bench/collaborative_forms.py --engines neo4j --pairs 100
    python bench/collaborative_forms.py --engines arcadedb --forms collect,anchors_first
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _cypher import bench_cypher
from _report import machine, save, today  # bench/_report.py (scripts run from bench/)
from _server import bench_server, fresh_target
from serve import MOVIELENS

from graphrec import loaders
from graphrec.graph.client import GraphClient
from graphrec.graph.interactions import read_interactions
from graphrec.ingest import ingest

#: Short name -> the statement: a shipped one by name, or a bench/cypher/ candidate's text.
FORMS = {
    "collect": "explain/collaborative",
    "one_pattern": "explain/collaborative_one_pattern",
    "anchors_first": "bench:collaborative_anchors_first",
}


def run_form(graph: GraphClient, form: str, **params: object) -> list[dict]:
    statement = FORMS[form]
    if statement.startswith("bench:"):
        return graph.run(bench_cypher(statement.removeprefix("bench:")), params)
    return graph.read(statement, **params)


def draw_pairs(graph: GraphClient, count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` (user, unseen item) pairs, items drawn in proportion to their popularity."""
    table = read_interactions(graph)
    users, items = np.asarray(table.user_ids), np.asarray(table.item_ids)
    seen: dict[str, set[str]] = {}
    for user, item in zip(users, items, strict=True):
        seen.setdefault(user, set()).add(item)
    catalog, counts = np.unique(items, return_counts=True)
    rng = np.random.default_rng(seed)
    people = sorted(seen)
    pairs = []
    while len(pairs) < count:
        user = people[rng.integers(len(people))]
        item = catalog[rng.choice(len(catalog), p=counts / counts.sum())]
        if item not in seen[user]:
            pairs.append((str(user), str(item)))
    return pairs


def time_forms(
    graph: GraphClient, pairs: list[tuple[str, str]], forms: list[str]
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {form: [] for form in forms}
    for n, (user, item) in enumerate(pairs):
        shift = n % len(forms)
        answers = {}
        for form in forms[shift:] + forms[:shift]:
            started = time.perf_counter()
            rows = run_form(graph, form, user=user, item=item, limit=3, max_ids=5)
            times[form].append(time.perf_counter() - started)
            answers[form] = [(row["anchor_id"], row["people"]) for row in rows]
        if len({tuple(rows) for rows in answers.values()}) > 1:
            raise SystemExit(f"the forms disagree on {user}, {item}: {answers}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="arcadedb,neo4j", help="comma-separated")
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--dataset", type=Path, default=MOVIELENS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--forms",
        default="collect,one_pattern",
        help=f"comma-separated, the first is the ratio's base; of {', '.join(FORMS)}",
    )
    args = parser.parse_args()
    forms = args.forms.split(",")
    if unknown := sorted(set(forms) - set(FORMS)):
        parser.error(f"unknown form(s) {', '.join(unknown)}; known: {', '.join(FORMS)}")
    results = {}
    for engine in args.engines.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            server = bench_server(Path(tmp), engine)
            server.start()
            try:
                with GraphClient.open(fresh_target(server)) as graph:
                    ingest(graph, loaders.parse("movielens", args.dataset), progress=False)
                    pairs = draw_pairs(graph, args.pairs, args.seed)
                    time_forms(graph, pairs[:20], forms)  # warm the caches and the plans
                    results[engine] = time_forms(graph, pairs, forms)
            finally:
                server.stop()
    lines = [
        f"### collaborative explanation query, {len(forms)} forms ({today()}, {machine()})",
        "",
        f"`python bench/collaborative_forms.py --engines {args.engines} --pairs {args.pairs} "
        f"--forms {args.forms}`: {args.dataset.name}, {args.pairs} (user, unseen item) pairs, "
        "items drawn by popularity, every form on each pair (rotating first), same rows "
        "checked.",
        "",
        f"| engine | form | p50 ms | p99 ms | mean ms | mean / {forms[0]} |",
        "|---|---|---:|---:|---:|---:|",
    ]
    summary = {}
    for engine, times in results.items():
        base = float(np.mean(times[forms[0]]))
        for form in forms:
            ms = np.asarray(times[form]) * 1e3
            row = {
                "p50_ms": round(float(np.quantile(ms, 0.5)), 2),
                "p99_ms": round(float(np.quantile(ms, 0.99)), 2),
                "mean_ms": round(float(ms.mean()), 2),
                "ratio": round(float(ms.mean()) / (base * 1e3), 2),
            }
            summary[f"{engine}:{form}"] = row
            lines.append(
                f"| {engine} | `{FORMS[form]}` | {row['p50_ms']} | {row['p99_ms']} | {row['mean_ms']} "
                f"| {row['ratio']}x |"
            )
    save("collaborative_forms", {"args": vars(args), "results": summary}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
