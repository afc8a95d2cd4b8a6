"""Benchmark: PyKEEN knowledge-graph embeddings through :func:`graphrec.kge.train_kge` on CPU.

TransE and RotatE (same dimension budget: RotatE has DIM/2 complex
coordinates, so both store DIM reals per entity) on

- the **ml-latest-small concept graph**: item-genre, item-decade and item-tag
  triples (no interactions), exported from a temporary embedded graph
  (``--cache`` keeps the export; the CSVs are read in place);
- a **synthetic KG with 1M triples**: 100k entities in 200 clusters, 20
  relations; relation ``r`` links an entity of cluster ``c`` to a random entity
  of cluster ``(7c + r) mod 200``, so the structure is learnable.

Each run happens in its own process so peak memory is per run. It
reports seconds per epoch, total training time, evaluation time, peak memory,
and filtered realistic MRR and Hits@10 on the test split (on a random subset
of test triples for the 1M graph: ``--max-eval-triples``). Torch runs
single-threaded by default (``--threads``): on a shared 2-core machine that was
several times faster than two threads.

    python bench/kge.py   # ml-latest-small: early stopping; 1M synthetic: 2 epochs

Results: ``bench/out/kge.{json,md}``; the markdown is printed. The reference
for sane ranges is PyKEEN's reproducibility study (TransE Hits@10 about 0.44 on
FB15k-237); the MovieLens concept graph is not FB15k: head prediction
("which of 9,700 movies has genre Drama?") has thousands of right answers, so
its MRR is far lower than tail prediction's, which the table shows separately.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from _report import save  # bench/_report.py (scripts run from bench/)

MOVIELENS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-latest-small"
CACHE = Path(tempfile.gettempdir()) / "graphrec-bench" / "ml-latest-small-export"


def synthetic_triples(
    num_triples: int, num_entities: int = 100_000, clusters: int = 200, relations: int = 20
) -> np.ndarray:
    """Labelled triples of a clustered random KG (see the module docstring)."""
    rng = np.random.default_rng(0)
    cluster = rng.integers(0, clusters, num_entities)
    members = [np.flatnonzero(cluster == c) for c in range(clusters)]
    head = rng.integers(0, num_entities, num_triples)
    relation = rng.integers(0, relations, num_triples)
    target = (7 * cluster[head] + relation) % clusters
    tail = np.empty(num_triples, dtype=np.int64)
    for c in range(clusters):
        rows = np.flatnonzero(target == c)
        tail[rows] = rng.choice(members[c], rows.size)
    triples = np.stack(
        [
            np.char.add("e", head.astype(str)),
            np.char.add("r", relation.astype(str)),
            np.char.add("e", tail.astype(str)),
        ],
        axis=1,
    )
    return np.unique(triples, axis=0)


def movielens_triples(path: Path, cache: Path) -> np.ndarray:
    sys.path.insert(0, str(Path(__file__).parent))
    from cold_start import movielens_export  # the same cached export

    from graphrec.kge import kg_triples

    data, ids, _ = movielens_export(path, cache)
    return kg_triples(data, ids).triples


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    """One training run, in a fresh process. Peak memory is sampled (RSS every 0.1 s), since
    ``ru_maxrss`` of a spawned worker can carry its parent's high-water mark."""
    import threading

    import psutil
    import torch

    peak = [0]

    def sample() -> None:
        process = psutil.Process()
        while True:
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.1)

    threading.Thread(target=sample, daemon=True).start()

    torch.set_num_threads(spec["threads"])
    from graphrec.kge import LabelledTriples, train_kge

    if spec["graph"] == "ml-latest-small":
        triples = movielens_triples(Path(spec["movielens"]), Path(spec["cache"]))
    else:
        triples = synthetic_triples(spec["triples"])
    start = time.perf_counter()
    result = train_kge(
        triples=LabelledTriples(triples),
        model=spec["model"],
        dim=spec["dim"],
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
        lr=spec["lr"],
        negatives=spec["negatives"],
        max_eval_triples=spec["max_eval_triples"],
        patience=spec["patience"],
        check_every=spec["check_every"],
        progress=False,
    )
    total = time.perf_counter() - start
    metrics = result.metrics
    return {
        **spec,
        "num_triples": len(triples),
        "entities": metrics["entities"],
        "stored_dim": result.embeddings.dim,
        "epochs_run": metrics["epochs_run"],
        "best_epoch": metrics["best_epoch"],
        "seconds_per_epoch": metrics["seconds_per_epoch"],
        "train_seconds": metrics["train_seconds"],
        "evaluate_seconds": metrics["evaluate_seconds"],
        "total_seconds": total,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_mib": peak[0] / 2**20,
        "evaluated": metrics["triples"]["evaluated"],
        "test": metrics["test"],
        "final_loss": metrics["final_loss"],
        "baseline_test": metrics["baseline_test"],
    }


def to_markdown(meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = [
        f"### kge ({meta['date']}, {meta['machine']}, torch threads {meta['threads']})",
        "",
        f"`{meta['command']}`",
        "",
        "| graph | model | triples | entities | dim (stored) | epochs (best) | s/epoch | train s "
        "| eval s "
        "| peak RSS MiB (sampled / ru_maxrss) | evaluated | MRR | Hits@10 | tail MRR "
        "| tail Hits@10 |",
        "| --- | --- |" + " ---: |" * 13,
    ]
    for r in rows:
        both, tail = r["test"]["both"], r["test"]["tail"]
        lines.append(
            f"| {r['graph']} | {r['model']} | {r['num_triples']:,} | {r['entities']:,} | "
            f"{r['stored_dim']} | {r['epochs_run']} ({r['best_epoch'] or '-'}) | "
            f"{r['seconds_per_epoch']:.2f} | "
            f"{r['train_seconds']:.1f} | {r['evaluate_seconds']:.1f} | "
            f"{r.get('peak_rss_mib', float('nan')):,.0f} / {r['max_rss_mib']:,.0f} | "
            f"{r['evaluated']:,} | {both['mrr']:.4f} | {both['hits@10']:.4f} | "
            f"{tail['mrr']:.4f} | {tail['hits@10']:.4f} |"
        )
    lines += [
        "",
        "PyKEEN's MarginalDistributionBaseline on the same test triples and filters "
        "(P(t | h, r) ~ P(t | h) P(t | r), counted in training; filtered, realistic):",
        "",
    ]
    for r in rows:
        both, tail = r["baseline_test"]["both"], r["baseline_test"]["tail"]
        lines.append(
            f"- {r['graph']} (split of the {r['model']} run): MRR {both['mrr']:.4f}, "
            f"Hits@10 {both['hits@10']:.4f}; tail MRR {tail['mrr']:.4f}, "
            f"tail Hits@10 {tail['hits@10']:.4f}"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--movielens", type=Path, default=MOVIELENS)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--dim", type=int, default=64, help="stored reals per entity")
    parser.add_argument("--ml-epochs", type=int, default=50, help="at most; early stopping")
    parser.add_argument("--ml-patience", type=int, default=2)
    parser.add_argument("--check-every", type=int, default=5)
    parser.add_argument("--synthetic-epochs", type=int, default=2)
    parser.add_argument("--synthetic-triples", type=int, default=1_000_000)
    parser.add_argument("--max-eval-triples", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", default="TransE,RotatE")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-ml", action="store_true")
    parser.add_argument("--tag", default="", help="suffix of the output files")
    args = parser.parse_args()

    base = {
        "threads": args.threads,
        "lr": 0.01,
        "negatives": 4,
        "max_eval_triples": args.max_eval_triples,
    }
    specs = []
    graphs = [] if args.skip_ml else [("ml-latest-small", args.ml_epochs, 256, args.ml_patience)]
    if not args.skip_synthetic:
        name = f"synthetic-{args.synthetic_triples // 1000}k"
        graphs.append((name, args.synthetic_epochs, 1024, 0))
    for graph, epochs, batch_size, patience in graphs:
        for model in args.models.split(","):
            dim = args.dim // 2 if model.lower() in ("rotate", "complex") else args.dim
            specs.append(
                {
                    **base,
                    "graph": graph,
                    "model": model,
                    "dim": dim,
                    "epochs": epochs,
                    "batch_size": batch_size,
                    "triples": args.synthetic_triples,
                    "patience": patience,
                    "check_every": args.check_every,
                    "movielens": str(args.movielens),
                    "cache": str(args.cache),
                }
            )
    if not args.skip_ml:  # export once before the workers read the cache
        movielens_triples(args.movielens, args.cache)
    rows = []
    context = multiprocessing.get_context("spawn")
    for spec in specs:
        print(f"{spec['graph']} {spec['model']} ...", flush=True)
        with context.Pool(1) as pool:
            rows.append(pool.apply(run_one, (spec,)))
        print(
            json.dumps({k: rows[-1][k] for k in ("seconds_per_epoch", "max_rss_mib")}), flush=True
        )

    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "threads": args.threads,
        "command": " ".join(["python bench/kge.py", *sys.argv[1:]]),
    }
    save(
        f"kge{'_' + args.tag if args.tag else ''}",
        {"meta": meta, "runs": rows},
        to_markdown(meta, rows),
    )


if __name__ == "__main__":
    main()
