"""Benchmark: full-batch vs mini-batch training on a synthetic graph: seconds per epoch, peak RSS, accuracy.

Each mode runs in a fresh subprocess, so each peak RSS is that mode's own. A
timing run builds the data and the model, times `--batches` optimiser steps
(after one warm-up step) and extrapolates to a whole epoch (an epoch is
ceil(train interactions / batch size) steps; with `--batches 0` the whole epoch
is run), then times one validation pass (full forward, or layer-wise
inference for mini-batch). With `--epochs N`, a second subprocess per mode
trains N epochs with `train` (full-batch / `MiniBatch` strategy, no early stopping) and reports
test Recall@20. With `--memory-cap-gb`, the parent kills a child whose peak
RSS (VmHWM) passes the cap, to show where full-batch fails and mini-batch
completes. The memory estimates of graphrec.training.minibatch are printed next to the
measured peaks.

    cd bench && python minibatch.py --size 100k --epochs 20
    python minibatch.py --size 1m --model relgnn --memory-cap-gb 4
    python minibatch.py --size 10m --batches 20 --memory-cap-gb 8
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _report import machine, save, today  # bench/_report.py (scripts run from bench/)

from graphrec.data import Interactions, KnowledgeGraph, RecData
from graphrec.data import split as splits
from graphrec.evaluation import evaluate
from graphrec.evaluation.metrics import Recall
from graphrec.loaders.synthetic import synthetic_arrays
from graphrec.models.registry import resolve_model
from graphrec.training import MiniBatch, Trainer, sample_negatives, train
from graphrec.training.memory import estimate_fullbatch_memory, estimate_minibatch_memory
from graphrec.training.minibatch import MiniBatchTrainer

#: (users, items, interactions) per size.
SIZES = {
    "100k": (10_000, 5_000, 100_000),
    "1m": (100_000, 40_000, 1_000_000),
    "10m": (500_000, 200_000, 10_000_000),
}
MODES = ("full", "mini")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=SIZES, default="100k")
    parser.add_argument("--model", choices=("lightgcn", "relgnn"), default="lightgcn")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--fan-out", default="10,5")
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batches", type=int, default=30, help="timed steps; 0 = a whole epoch")
    parser.add_argument("--epochs", type=int, default=0, help="epochs of the accuracy runs")
    parser.add_argument("--modes", default="full,mini")
    parser.add_argument(
        "--adam",
        choices=("auto", "sparse", "dense"),
        default="auto",
        help="mini-batch optimiser for the tables (auto: as the MiniBatch strategy chooses)",
    )
    parser.add_argument("--memory-cap-gb", type=float, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker", choices=("timing", "accuracy"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.worker:
        result = timing(args) if args.worker == "timing" else accuracy(args)
        result["peak_rss_mib"] = _rss_mib()
        print("RESULT " + json.dumps(result), flush=True)
        return

    rows = {}
    for mode in args.modes.split(","):
        rows[mode] = run_child(args, "timing", mode)
        if args.epochs and rows[mode].get("status") == "ok":
            rows[mode]["accuracy"] = run_child(args, "accuracy", mode)
    report(args, rows)


def build_data(size: str) -> RecData:
    """The synthetic catalog of loaders/synthetic.py as a RecData, with its item-concept KG."""
    users, items, interactions = SIZES[size]
    arrays = synthetic_arrays(users=users, items=items, interactions=interactions, seed=0)
    user, item = torch.from_numpy(arrays.user), torch.from_numpy(arrays.item)
    log = Interactions(
        users, items, user, item, torch.from_numpy(arrays.timestamp), torch.zeros_like(user)
    )
    parts = splits.random_split(user, test_ratio=0.2, val_ratio=0.1, seed=0)
    # Concepts: one leaf category per (cluster, leaf), then the tags.
    num_leaves = int(arrays.item_cluster.max() + 1) * int(arrays.item_leaf.max() + 1)
    leaf = arrays.item_cluster * (arrays.item_leaf.max() + 1) + arrays.item_leaf
    tags = arrays.item_tags
    item_ids = np.arange(items)
    head = np.concatenate([item_ids, np.repeat(item_ids, tags.shape[1])])
    tail = items + np.concatenate([leaf, num_leaves + tags.reshape(-1)])
    relation = np.concatenate([np.zeros(items), np.ones(tags.size)])
    kg = KnowledgeGraph(
        num_items=items,
        num_concepts=num_leaves + int(tags.max() + 1),
        edge_index=torch.from_numpy(np.stack([head, tail])).long(),
        edge_type=torch.from_numpy(relation).long(),
        relation_names=["has_category", "has_tag"],
    )
    return RecData.from_split(log, parts, kg, {"split": "random", "seed": 0, "size": size})


def timing(args: argparse.Namespace) -> dict:
    fan_outs = [int(v) for v in args.fan_out.split(",")]
    kwargs = {"embedding_dim": args.dim, "num_layers": args.layers}
    start = time.perf_counter()
    data = build_data(args.size)
    out: dict = {"build_s": round(time.perf_counter() - start, 1), "rss_data_mib": _rss_mib()}
    if args.mode == "full":
        estimate = estimate_fullbatch_memory(data, model=args.model, model_kwargs=kwargs)
    else:
        estimate = estimate_minibatch_memory(
            data,
            model=args.model,
            model_kwargs=kwargs,
            fan_outs=fan_outs,
            batch_size=args.batch_size,
        )
    out["estimate_mib"] = round(estimate.total / 2**20)
    out["estimate"] = estimate.describe()
    torch.manual_seed(0)
    model = resolve_model(args.model).from_data(data, **kwargs)
    per_epoch = math.ceil(data.train.size(1) / args.batch_size)
    if args.mode == "full":
        trainer = Trainer(model, data, batch_size=args.batch_size, lr=args.lr)
        order = torch.randperm(data.train.size(1), generator=trainer.generator)
        batches = iter(order.split(args.batch_size))

        def step() -> None:  # the inner loop of Trainer.run_epoch
            users, pos_items = data.train[:, next(batches)]
            neg_items = sample_negatives(users, data.train_items, trainer.generator)
            loss, _ = model.bpr_loss(users, pos_items, neg_items, reg=trainer.reg)
            trainer.optimizer.zero_grad()
            loss.backward()
            trainer.optimizer.step()
    else:
        trainer = MiniBatchTrainer(
            model,
            data,
            fan_outs=fan_outs,
            batch_size=args.batch_size,
            lr=args.lr,
            sparse=None if args.adam == "auto" else args.adam == "sparse",
        )
        out["adam"] = "SparseAdam" if trainer.sparse else "dense Adam"
        loader = iter(trainer.loader)

        def step() -> None:
            trainer.step(next(loader))

    timed = per_epoch - 1 if args.batches == 0 else min(args.batches, per_epoch - 1)
    step()  # warm-up
    start = time.perf_counter()
    for _ in range(timed):
        step()
    per_step = (time.perf_counter() - start) / max(1, timed)
    out.update(
        steps_timed=timed,
        steps_per_epoch=per_epoch,
        step_ms=round(1000 * per_step, 1),
        epoch_s=round(per_step * per_epoch, 1),
    )
    start = time.perf_counter()
    evaluate(model, data, split="val", metrics=[Recall(20)])
    out["eval_s"] = round(time.perf_counter() - start, 1)
    out["status"] = "ok"
    return out


def accuracy(args: argparse.Namespace) -> dict:
    data = build_data(args.size)
    settings = {
        "model": args.model,
        "data": data,
        "model_kwargs": {"embedding_dim": args.dim, "num_layers": args.layers},
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "patience": 0,
        "progress": False,
    }
    if args.mode == "full":
        result = train(**settings)
    else:
        result = train(strategy=MiniBatch(fan_outs=args.fan_out), **settings)
    return {
        "epochs": args.epochs,
        "test_recall@20": round(result.metrics["recall@20"], 4),
        "test_ndcg@20": round(result.metrics["ndcg@20"], 4),
        "train_s": round(result.seconds, 1),
        "status": "ok",
    }


def run_child(args: argparse.Namespace, worker: str, mode: str) -> dict:
    """Run a worker in a fresh interpreter; kill it when its peak RSS passes the cap."""
    command = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
    command += ["--worker", worker, "--mode", mode]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    cap_kib = args.memory_cap_gb * 1e9 / 1024 if args.memory_cap_gb else None
    killed_at = None
    while child.poll() is None:
        if cap_kib is not None:
            peak = _peak_kib(child.pid)
            if peak is not None and peak > cap_kib:
                killed_at = peak
                child.kill()
                break
        time.sleep(0.05)
    stdout, _ = child.communicate()
    if killed_at is not None:
        return {"status": f"killed: peak RSS passed the {args.memory_cap_gb:g} GB cap"}
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {"status": f"failed with exit code {child.returncode}"}


def _rss_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _peak_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def report(args: argparse.Namespace, rows: dict[str, dict]) -> None:
    users, items, interactions = SIZES[args.size]
    adam = rows.get("mini", {}).get("adam", args.adam)
    header = (
        f"{args.model} dim {args.dim}, {args.layers} layers, batch {args.batch_size}, "
        f"mini-batch fan-outs {args.fan_out} ({adam} for the tables); {users:,} users, {items:,} items, "
        f"{interactions:,} interactions (70% train)"
    )
    cap = f", memory cap {args.memory_cap_gb:g} GB" if args.memory_cap_gb else ""
    lines = [
        f"### minibatch {args.size} ({today()}, {machine()}, torch threads {args.threads}{cap})",
        "",
        f"`python bench/minibatch.py {' '.join(sys.argv[1:])}`: {header}.",
        "",
        "| mode | s / epoch | timed steps / epoch | ms / step | validation s | peak RSS MiB "
        "| RSS after data MiB | estimate MiB | test recall@20 | test ndcg@20 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, row in rows.items():
        if row.get("status") != "ok":
            lines.append(f"| {mode} | {row.get('status')} ||||||||")
            continue
        acc = row.get("accuracy", {})
        recall = acc.get("test_recall@20", "–")
        ndcg = acc.get("test_ndcg@20", "–")
        lines.append(
            f"| {mode} | {row['epoch_s']} | {row['steps_timed']} / {row['steps_per_epoch']} "
            f"| {row['step_ms']} | {row['eval_s']} | {row['peak_rss_mib']:,} "
            f"| {row['rss_data_mib']:,} | {row['estimate_mib']:,} | {recall} | {ndcg} |"
        )
    lines.append(
        "\nSeconds per epoch are extrapolated from the timed steps (after one warm-up step) "
        "and exclude validation."
    )
    if args.epochs:
        lines.append(f"Accuracy: {args.epochs} epochs each, no early stopping, lr {args.lr}.")
    for mode, row in rows.items():
        if "estimate" in row:
            lines.append(f"\n{mode} estimate: {row['estimate']}.")
    payload = {
        "date": today(),
        "machine": f"{machine()}, torch threads {args.threads}",
        "args": vars(args),
        "rows": rows,
        "pid": os.getpid(),
    }
    name = f"minibatch_{args.size}_{args.model}"
    if args.dim != 64:
        name += f"_dim{args.dim}"
    if args.memory_cap_gb:
        name += f"_cap{args.memory_cap_gb:g}gb"
    save(name, payload, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
