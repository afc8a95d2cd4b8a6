"""Benchmark: seconds per training epoch of KGAT, KGIN (and relgnn) against LightGCN.

On one split of a synthetic graph with a knowledge graph, builds each model with dimension 64 and 3 layers and steps it with
:class:`graphrec.training.Trainer` at one batch size, in one process, one epoch
of each model in turn (so that all see the same machine load), with one torch
thread. Reports the median seconds per epoch (the trainer's own timing, which
leaves out validation), its ratio to LightGCN's, and the loss of the last epoch.

Graphs (``--graph``): ``entity`` (default), the synthetic catalog with its
typed entity KG (categories, tags, artists, labels, producers, hub countries;
:mod:`_entity_graph`), 3,000 users, 2,000 items, 90,000 interactions; or
``hetero``, :func:`graphrec.data.synthetic_hetero` (genres, tags, their
hierarchy and training co-engagement) at 3,000 users, 2,000 items and 30
interactions per user.

Results go to ``bench/out/kg_speed_<graph>.{json,md}``; the markdown is printed.

    python bench/kg_speed.py --epochs 5
"""

from __future__ import annotations

import argparse
import statistics

import torch
from _entity_graph import entity_hetero  # bench/_entity_graph.py
from _report import machine, save, today  # bench/_report.py (scripts run from bench/)

from graphrec.data import RecData, synthetic_hetero
from graphrec.models import MODELS
from graphrec.training import Trainer

SYNTHETIC = {
    "num_users": 3000,
    "num_items": 2000,
    "num_communities": 20,
    "interactions_per_user": 30,
    "num_tags": 100,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--models", default="lightgcn,kgat,kgin")
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--graph", choices=("entity", "hetero"), default="entity")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.models.split(",")
    if names[0] != "lightgcn":
        raise SystemExit("--models must start with lightgcn, the reference of the ratios")

    if args.graph == "entity":
        hetero = entity_hetero(users=3000, items=2000, interactions=90_000, communities=20)
    else:
        hetero = synthetic_hetero(**SYNTHETIC, seed=0)
    data = RecData.from_hetero(hetero, seed=0)
    trainers = {}
    for name in names:
        torch.manual_seed(0)
        model = MODELS[name].from_data(data, embedding_dim=64, num_layers=3)
        trainers[name] = Trainer(model, data, batch_size=args.batch_size, lr=1e-3, seed=0)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    losses: dict[str, float] = {}
    for epoch in range(1, args.epochs + 1):
        for name, trainer in trainers.items():
            row = trainer.run_epoch()
            seconds[name].append(row["seconds"])
            losses[name] = row["loss"]
            print(
                f"epoch {epoch} {name}: {row['seconds']:.2f} s, loss {row['loss']:.4f}", flush=True
            )

    reference = statistics.median(seconds["lightgcn"])
    rows = [
        {
            "model": name,
            "seconds_per_epoch": statistics.median(seconds[name]),
            "ratio_to_lightgcn": statistics.median(seconds[name]) / reference,
            "last_loss": losses[name],
        }
        for name in names
    ]
    kg = data.kg
    graph = (
        f"{data.num_users:,} users, {data.num_items:,} items, {kg.num_concepts} concepts, "
        f"{data.train.size(1):,} training interactions, {kg.num_edges:,} KG edges over "
        f"{kg.num_relations} relations"
    )
    lines = [
        f"Synthetic graph ({args.graph}): {graph}. Dimension 64, 3 layers, batch {args.batch_size}, "
        f"{args.threads} torch thread(s), {args.epochs} interleaved epochs, median; "
        f"{machine()}, {today()}.",
        "",
        "| model | s/epoch | × LightGCN | last loss |",
        "|---|---|---|---|",
        *(
            f"| {row['model']} | {row['seconds_per_epoch']:.2f} | "
            f"{row['ratio_to_lightgcn']:.2f} | {row['last_loss']:.4f} |"
            for row in rows
        ),
        "",
    ]
    payload = {"graph": graph, "args": vars(args), "rows": rows, "seconds": seconds}
    save(f"kg_speed_{args.graph}", payload, "\n".join(lines))


if __name__ == "__main__":
    main()
