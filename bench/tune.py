"""Validation curves for choosing each model's default training settings (validation only).

For every dataset, model and learning rate, trains with early stopping off for
``--epochs`` epochs, validating after every epoch, and records the validation
Recall@20 curve. The test split is never evaluated here. The report gives, per
setting, the best validation Recall@20 and its epoch, and where early stopping
with a patience of 10 epochs would have stopped (what the old defaults did).

    cd bench && python tune.py --datasets ml-latest-small --models mf,lightgcn,ngcf \
        --lrs 1e-3,5e-3 --epochs 200
"""

from __future__ import annotations

import argparse
import itertools
import time
from typing import Any

import torch
from _datasets import dataset_export
from _report import machine, save, today

from graphrec.data import RecData
from graphrec.training import train

K = 20


def stop_epoch(curve: list[float], patience: int) -> int:
    """The epoch at which early stopping with ``patience`` epochs would have ended."""
    best, best_epoch = -1.0, 0
    for epoch, value in enumerate(curve, start=1):
        if value > best:
            best, best_epoch = value, epoch
        elif epoch - best_epoch >= patience:
            return epoch
    return len(curve)


def run(
    data: RecData,
    model: str,
    lr: float,
    epochs: int,
    seed: int,
    dim: int,
    init_std: float,
    reg: float | None,
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"embedding_dim": dim, "init_std": init_std}
    if model != "mf":
        kwargs["num_layers"] = 3 if model != "relgnn" else 2
    start = time.perf_counter()
    result = train(
        model=model,
        data=data,
        model_kwargs=kwargs,
        epochs=epochs,
        lr=lr,
        reg=reg,
        patience=0,
        eval_every=1,
        seed=seed,
        progress=False,
    )
    curve = [row[f"val_recall@{K}"] for row in result.history]
    best = max(range(len(curve)), key=curve.__getitem__)
    stop = stop_epoch(curve, 10)
    return {
        "model": model,
        "lr": lr,
        "init_std": init_std,
        "reg": result.config["reg"],
        "seed": seed,
        "curve": curve,
        "best_val": curve[best],
        "best_epoch": best + 1,
        "patience10_stop": stop,
        "patience10_best": max(curve[:stop]),
        "seconds_per_epoch": (time.perf_counter() - start) / epochs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="ml-latest-small")
    parser.add_argument("--models", default="mf,lightgcn,ngcf")
    parser.add_argument("--lrs", default="1e-3,5e-3")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument(
        "--init-stds",
        default="0.1",
        help="std of the normal initialisation of the ego embeddings, comma-separated "
        "(the models' default is 0.1; PyG's LightGCN uses Xavier-uniform, std about 0.01 on "
        "lastfm-kg)",
    )
    parser.add_argument(
        "--regs",
        default="",
        help="L2 weights on the batch's ego embeddings, comma-separated (default: each "
        "model's registry value). graphrec's term is reg/(2B) times the sum over the batch's "
        "triples; PyG's BPRLoss, as its LightGCN example calls it, is reg/B times the sum over "
        "the batch's unique nodes: twice graphrec's at the same reg when no node repeats in a "
        "batch, less when some do",
    )
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--name", default="tune", help="output name under bench/out/")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    regs = [float(r) for r in args.regs.split(",")] if args.regs else [None]
    settings = list(
        itertools.product(
            [float(lr) for lr in args.lrs.split(",")],
            [float(std) for std in args.init_stds.split(",")],
            regs,
        )
    )
    rows = []
    for name in args.datasets.split(","):
        hetero, _ = dataset_export(name)
        for seed in [int(s) for s in args.seeds.split(",")]:
            data = RecData.from_hetero(hetero, seed=seed)
            for model in args.models.split(","):
                for lr, std, reg in settings:
                    print(
                        f"{name} {model} lr={lr:g} init_std={std:g} reg={reg} seed={seed} ...",
                        flush=True,
                    )
                    rows.append(
                        {
                            "dataset": name,
                            **run(data, model, lr, args.epochs, seed, args.dim, std, reg),
                        }
                    )
                    r = rows[-1]
                    print(
                        f"  best val {r['best_val']:.4f} at {r['best_epoch']}; patience-10 stop "
                        f"{r['patience10_stop']} ({r['patience10_best']:.4f}); "
                        f"{r['seconds_per_epoch']:.2f} s/epoch",
                        flush=True,
                    )
    meta = {
        "date": today(),
        "machine": machine(),
        "command": "python bench/tune.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()),
    }
    lines = [
        f"### tune ({meta['date']}, {meta['machine']})",
        "",
        f"`{meta['command']}`",
        "",
        "| dataset | model | lr | init std | reg | seed | best val Recall@20 | at epoch "
        "| patience-10 stop | val there | s/epoch |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['lr']:g} | {r['init_std']:g} | {r['reg']:g} | {r['seed']} "
            f"| {r['best_val']:.4f} | "
            f"{r['best_epoch']} | {r['patience10_stop']} | {r['patience10_best']:.4f} | "
            f"{r['seconds_per_epoch']:.2f} |"
        )
    save(args.name, {"meta": meta, "rows": rows}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
