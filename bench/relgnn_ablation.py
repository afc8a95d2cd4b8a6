"""relgnn's components, chosen by ablation on validation data (the test split is never read).

For each dataset (one seeded 70/10/20 split), trains LightGCN and relgnn variants with
the registry's default settings (validation every 5 epochs, patience 10, at most
``--epochs``), each adding one component to the previous arm:

1. ``lightgcn``: the collaborative part alone;
2. ``mean``: + the semantic channel, a plain mean per relation, relations counted alike,
   no transforms, no edge weights;
3. ``+weights``: + learned relation weights;
4. ``+transform``: + per-relation diagonal transforms;
5. ``+edge weights``: + the graph's edge weights (relgnn's defaults);
6. ``+kg loss``: + a DistMult KG loss (weight 0.1);
7. ``no concept layers``: the defaults with ``kg_layers=0``.

Reported on the validation split, for the kept (best) epoch: Recall@20, NDCG@20, tail
Recall@20 and coverage, and seconds per epoch relative to LightGCN.

    cd bench && python relgnn_ablation.py --datasets lastfm-kg,synthetic-entity-kg
"""

from __future__ import annotations

import argparse
from typing import Any

import torch
from _datasets import dataset_export
from _report import machine, save, today

from graphrec.data import RecData
from graphrec.evaluation import evaluate
from graphrec.training import train

BASE = {"embedding_dim": 64, "num_layers": 3}
ARMS: list[tuple[str, str, dict[str, Any]]] = [
    ("lightgcn", "lightgcn", {}),
    (
        "mean",
        "relgnn",
        {"relation_weights": False, "relation_transform": False, "edge_weights": False},
    ),
    ("+weights", "relgnn", {"relation_transform": False, "edge_weights": False}),
    ("+transform", "relgnn", {"edge_weights": False}),
    ("+edge weights (defaults)", "relgnn", {}),
    ("+kg loss", "relgnn", {"kg_loss_weight": 0.1}),
    ("no concept layers", "relgnn", {"kg_layers": 0}),
]
METRICS = ("recall@20", "ndcg@20", "recall@20[tail]", "coverage@20")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="lastfm-kg,synthetic-entity-kg")
    parser.add_argument("--arms", default=",".join(str(i) for i in range(len(ARMS))))
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for dataset in args.datasets.split(","):
        hetero, _ = dataset_export(dataset)
        data = RecData.from_hetero(hetero, seed=args.seed)
        for index in [int(i) for i in args.arms.split(",")]:
            arm, model, extra = ARMS[index]
            print(f"{dataset}: {arm} ...", flush=True)
            result = train(
                model=model, data=data, model_kwargs={**BASE, **extra}, epochs=args.epochs,
                seed=args.seed, progress=False,
            )  # fmt: skip
            val = evaluate(result.model, data, split="val", k=20)
            rows.append(
                {
                    "dataset": dataset,
                    "arm": arm,
                    "val": {m: val.get(m) for m in METRICS},
                    "best_epoch": result.best_epoch,
                    "epochs_run": len(result.history),
                    "seconds_per_epoch": result.seconds / max(1, len(result.history)),
                }
            )
            print(f"  val recall@20 {val['recall@20']:.4f}, tail {val.get('recall@20[tail]', 0):.4f}, "
                  f"{rows[-1]['seconds_per_epoch']:.2f} s/epoch", flush=True)  # fmt: skip
    command = (
        f"python bench/relgnn_ablation.py --datasets {args.datasets} --arms {args.arms} "
        f"--epochs {args.epochs} --seed {args.seed} --threads {args.threads}"
    )
    lines = [f"### relgnn ablation ({today()}, {machine()}; validation split, seed {args.seed})", "",
             f"`{command}`", "",
             "| dataset | arm | " + " | ".join(f"val {m}" for m in METRICS)
             + " | best epoch | epochs | s/epoch (x LightGCN) |",
             "| --- | --- |" + " ---: |" * (len(METRICS) + 3)]  # fmt: skip
    for row in rows:
        base = (
            next(
                r["seconds_per_epoch"]
                for r in rows
                if r["dataset"] == row["dataset"] and r["arm"] == "lightgcn"
            )
            if any(r["arm"] == "lightgcn" and r["dataset"] == row["dataset"] for r in rows)
            else None
        )
        ratio = f" ({row['seconds_per_epoch'] / base:.1f}x)" if base else ""
        cells = [f"{row['val'][m]:.4f}" if row["val"][m] is not None else "-" for m in METRICS]
        lines.append(
            f"| {row['dataset']} | {row['arm']} | "
            + " | ".join(cells)
            + f" | {row['best_epoch']} | {row['epochs_run']} | {row['seconds_per_epoch']:.2f}{ratio} |"
        )
    save("relgnn_ablation", {"command": command, "rows": rows}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
