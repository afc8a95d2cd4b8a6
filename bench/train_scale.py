"""Benchmark: LightGCN on a 1M-interaction synthetic graph on CPU: seconds per epoch and peak memory.

Full-batch propagation over the whole graph for every batch, as `graphrec train`
does; the graph is built in-process (`graphrec.data.synthetic_hetero`), so this
measures training only.

    python bench/train_scale.py --users 20000 --items 10000 --per-user 50 --epochs 2
"""

from __future__ import annotations

import argparse
import resource
import time

import torch
from _report import machine, save, today  # bench/_report.py (scripts run from bench/)

from graphrec.data import RecData, synthetic_hetero
from graphrec.models.lightgcn import LightGCN
from graphrec.training import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--per-user", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    hetero = synthetic_hetero(
        num_users=args.users,
        num_items=args.items,
        interactions_per_user=args.per_user,
        num_communities=20,
    )
    data = RecData.from_hetero(hetero, split="random", test_ratio=0.2, seed=0)
    build_s = time.perf_counter() - start
    model = LightGCN.from_data(data, embedding_dim=64, num_layers=3)
    trainer = Trainer(
        model, data, batch_size=2048, lr=1e-3, reg=1e-4, seed=0, k=20, device=torch.device("cpu")
    )
    epochs = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        row = trainer.run_epoch()
        wall = time.perf_counter() - start  # training steps plus the validation ranking
        epochs.append({**{k: round(v, 4) for k, v in row.items()}, "wall_seconds": round(wall, 1)})
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "date": today(),
        "machine": f"{machine()}, torch threads {args.threads}",
        "interactions": int(hetero["user", "interacted", "item"].num_edges),
        "train_edges": int(data.train.size(1)),
        "build_s": round(build_s, 1),
        "epochs": epochs,
        "peak_rss_mib": round(peak_mib),
    }
    lines = [
        f"### train_scale ({result['date']}, {result['machine']})",
        "",
        f"`python bench/train_scale.py --users {args.users} --items {args.items} --per-user {args.per_user} "
        f"--epochs {args.epochs} --threads {args.threads}`: LightGCN dim 64, 3 layers, batch 2048, "
        f"{result['interactions']:,} interactions ({result['train_edges']:,} in train); graph built in {result['build_s']} s.",
        "",
        "| epoch | training steps s | with validation s | loss | val recall@20 |",
        "|---:|---:|---:|---:|---:|",
    ]
    for e in epochs:
        recall = e.get("val_recall@20", e.get("recall@20"))
        lines.append(
            f"| {e['epoch']} | {e['seconds']:.1f} | {e['wall_seconds']} | {e['loss']} | {recall} |"
        )
    lines.append(f"\nPeak RSS: {result['peak_rss_mib']:,} MiB.")
    save("train_scale", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
