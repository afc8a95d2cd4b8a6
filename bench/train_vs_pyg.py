"""Benchmark: graphrec's LightGCN against PyG's LightGCN on CPU, with baselines.

On the same split of ml-latest-small and of a synthetic graph with planted
communities, trains

- PyG's own ``torch_geometric.nn.models.LightGCN`` on its fastest CPU path: a
  pre-normalised ``torch.sparse`` CSR adjacency (``normalize=False``), one
  propagation per batch and ``recommendation_loss``, as in PyG's
  ``examples/lightgcn.py``;
- graphrec's ``LightGCN``, stepped by :class:`graphrec.training.Trainer` (the
  loop behind :func:`graphrec.training.train`);

from the same initial embeddings, with the same batches, negatives,
dimension, layers, learning rate and epochs, in one process with alternating
epochs (so both see the same machine load), and reports seconds per epoch,
peak memory (a separate process per implementation), Recall@20 / NDCG@20 and
the time ratio.

On ml-latest-small it then trains, each in a fresh process through
:func:`graphrec.training.train` and with one shared setting, LightGCN, MF-BPR,
most-popular and the relation-aware GNN (genres as concepts), and reports all
metrics, including recall on head and long-tail items.

ml-latest-small is read in place (``--movielens``, default
``../shared/data/ml-latest-small`` next to the repository); it is never copied.
Results go to ``bench/out/train_vs_pyg.{json,md}``; the markdown is printed.

    python bench/train_vs_pyg.py --epochs 100 --synthetic-epochs 40 --model-epochs 40
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import torch
from torch_geometric.data import HeteroData

from graphrec.data import RecData, synthetic_hetero
from graphrec.evaluation import evaluate
from graphrec.models import Embeddings, LightGCN, Recommender
from graphrec.training import Trainer, sample_negatives, train

OUT = Path(__file__).parent / "out"
MOVIELENS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-latest-small"
SYNTHETIC = {
    "num_users": 3000,
    "num_items": 2000,
    "num_communities": 20,
    "interactions_per_user": 30,
}
SHARED = {"dim": 64, "layers": 3, "batch_size": 2048, "lr": 1e-3, "reg": 1e-4, "seed": 0}


def movielens_hetero(directory: Path) -> HeteroData:
    """ml-latest-small as the export would give it: ratings as interactions, genres as concepts."""
    ratings = pd.read_csv(directory / "ratings.csv")
    movies = pd.read_csv(directory / "movies.csv").set_index("movieId")
    user_codes, _ = pd.factorize(ratings["userId"])
    item_codes, item_ids = pd.factorize(ratings["movieId"])
    genres = movies.loc[item_ids, "genres"].str.split("|")
    pairs = [(item, genre) for item, names in enumerate(genres) for genre in names]
    pairs = [(item, genre) for item, genre in pairs if genre != "(no genres listed)"]
    genre_names = sorted({genre for _, genre in pairs})
    genre_index = {genre: index for index, genre in enumerate(genre_names)}

    data = HeteroData()
    data["user"].num_nodes = int(user_codes.max()) + 1
    data["item"].num_nodes = len(item_ids)
    data["concept"].num_nodes = len(genre_names)
    data["concept"].kind = torch.zeros(len(genre_names), dtype=torch.long)
    data.concept_kinds = ["genre"]
    data.relation_names = ["has_genre"]
    interacted = data["user", "interacted", "item"]
    interacted.edge_index = torch.from_numpy(np.stack([user_codes, item_codes])).long()
    interacted.weight = torch.ones(len(ratings))
    interacted.ts = torch.tensor(ratings["timestamp"].to_numpy(), dtype=torch.long)
    has_concept = data["item", "has_concept", "concept"]
    has_concept.edge_index = torch.tensor(
        [[item for item, _ in pairs], [genre_index[genre] for _, genre in pairs]], dtype=torch.long
    )
    has_concept.relation = torch.zeros(len(pairs), dtype=torch.long)
    return data


def load_split(dataset: str, movielens: Path) -> RecData:
    """The same 80/20 per-user random split for every run (no validation: fixed epochs)."""
    if dataset == "ml-latest-small":
        hetero = movielens_hetero(movielens)
    else:
        hetero = synthetic_hetero(**SYNTHETIC, noise=0.2, seed=0)
    return RecData.from_hetero(hetero, split="random", test_ratio=0.2, val_ratio=0.0, seed=0)


class FixedEmbeddings(Recommender):
    """Wraps final embeddings computed elsewhere (PyG) so graphrec's evaluator can rank them."""

    def __init__(self, user: torch.Tensor, item: torch.Tensor) -> None:
        super().__init__(user.size(0), item.size(0))
        self.register_buffer("user", user)
        self.register_buffer("item", item)

    def forward(self) -> Embeddings:
        return Embeddings(self.user, self.item)


class PyGRunner:
    """PyG's LightGCN, trained as in PyG's examples/lightgcn.py on a CSR adjacency.

    It starts from the same initial embeddings as graphrec's LightGCN and draws
    the same batches and negatives (same sampler, same seed), so the two runs
    differ only in their implementation (and PyG's slightly different L2 term).
    """

    def __init__(self, data: RecData) -> None:
        from torch_geometric.nn.conv.gcn_conv import gcn_norm
        from torch_geometric.nn.models import LightGCN as PyGLightGCN
        from torch_geometric.utils import to_torch_csr_tensor

        self.data = data
        num_nodes = data.num_users + data.num_items
        user, item = data.train
        item = item + data.num_users
        edge_index = torch.stack([torch.cat([user, item]), torch.cat([item, user])])
        edge_index, edge_weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=False)
        self.adj_t = to_torch_csr_tensor(edge_index, edge_weight, size=(num_nodes, num_nodes))

        initial = graphrec_lightgcn(data)
        self.model = PyGLightGCN(num_nodes, SHARED["dim"], SHARED["layers"], normalize=False)
        with torch.no_grad():
            self.model.embedding.weight.copy_(
                torch.cat([initial.user_embedding.weight, initial.item_embedding.weight])
            )
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=SHARED["lr"])
        self.generator = torch.Generator().manual_seed(SHARED["seed"])

    def run_epoch(self) -> float:
        """One pass over the training interactions; returns its seconds."""
        start = time.perf_counter()
        num_users, train_edges = self.data.num_users, self.data.train
        order = torch.randperm(train_edges.size(1), generator=self.generator)
        for batch in order.split(SHARED["batch_size"]):
            users, pos_items = train_edges[:, batch]
            neg_items = sample_negatives(users, self.data.train_items, self.generator)
            edge_label_index = torch.stack(
                [torch.cat([users, users]), torch.cat([pos_items, neg_items]) + num_users]
            )
            pos_rank, neg_rank = self.model(self.adj_t, edge_label_index).chunk(2)
            loss = self.model.recommendation_loss(
                pos_rank, neg_rank, node_id=edge_label_index.unique(), lambda_reg=SHARED["reg"]
            )
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return time.perf_counter() - start

    def trained_model(self) -> Recommender:
        with torch.no_grad():
            out = self.model.get_embedding(self.adj_t)
        return FixedEmbeddings(out[: self.data.num_users], out[self.data.num_users :])


def graphrec_lightgcn(data: RecData) -> LightGCN:
    torch.manual_seed(SHARED["seed"])
    return LightGCN.from_data(data, embedding_dim=SHARED["dim"], num_layers=SHARED["layers"])


def run_pair(job: dict[str, Any]) -> list[dict[str, Any]]:
    """PyG's and graphrec's LightGCN in one process, alternating epochs.

    The machine's load changes over minutes; alternating epochs (and which one
    goes first) exposes both implementations to the same conditions, so the
    time ratio is fair even when absolute times drift.
    """
    torch.set_num_threads(job["threads"])
    data = load_split(job["dataset"], Path(job["movielens"]))
    data.train_items  # noqa: B018 - build the shared CSR before timing anything
    pyg = PyGRunner(data)
    ours = Trainer(
        graphrec_lightgcn(data),
        data,
        batch_size=SHARED["batch_size"],
        lr=SHARED["lr"],
        reg=SHARED["reg"],
        seed=SHARED["seed"],
    )
    pyg_seconds: list[float] = []
    for epoch in range(job["epochs"]):
        if epoch % 2 == 0:
            pyg_seconds.append(pyg.run_epoch())
            ours.run_epoch()
        else:
            ours.run_epoch()
            pyg_seconds.append(pyg.run_epoch())
    ours_seconds = [row["seconds"] for row in ours.history]
    results = []
    for impl, model, seconds in (
        ("pyg", pyg.trained_model(), pyg_seconds),
        ("graphrec", ours.model, ours_seconds),
    ):
        results.append(
            {
                **job,
                "impl": impl,
                "model": "lightgcn",
                "metrics": evaluate(model, data, k=20),
                "epoch_seconds": seconds,
                "median_epoch_s": statistics.median(seconds),
                "wall_s": sum(seconds),
            }
        )
    return results


def run_memory(job: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS of a few epochs of one LightGCN implementation, alone in its process."""
    torch.set_num_threads(job["threads"])
    data = load_split(job["dataset"], Path(job["movielens"]))
    base = psutil.Process().memory_info().rss
    if job["impl"] == "pyg":
        runner = PyGRunner(data)
        for _ in range(job["epochs"]):
            runner.run_epoch()
    else:
        trainer = Trainer(graphrec_lightgcn(data), data, batch_size=SHARED["batch_size"])
        for _ in range(job["epochs"]):
            trainer.run_epoch()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {**job, "base_rss_mb": base / 2**20, "peak_rss_mb": peak / 2**20}


def run_model(job: dict[str, Any]) -> dict[str, Any]:
    """One graphrec model trained with :func:`graphrec.training.train`, in a fresh process."""
    torch.set_num_threads(job["threads"])
    data = load_split(job["dataset"], Path(job["movielens"]))
    base = psutil.Process().memory_info().rss
    kwargs = {"embedding_dim": SHARED["dim"]} if job["model"] != "most_popular" else None
    if job["model"] in ("lightgcn", "ngcf"):
        kwargs["num_layers"] = SHARED["layers"]
    result = train(
        model=job["model"],
        data=data,
        model_kwargs=kwargs,
        epochs=job["epochs"],
        batch_size=SHARED["batch_size"],
        lr=job.get("lr", SHARED["lr"]),
        reg=SHARED["reg"],
        seed=SHARED["seed"],
        device="cpu",
        patience=0,
        progress=False,
    )
    seconds = [row["seconds"] for row in result.history]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        **job,
        "impl": "graphrec",
        "metrics": result.metrics,
        "epoch_seconds": seconds,
        "median_epoch_s": statistics.median(seconds) if seconds else 0.0,
        "wall_s": result.seconds,
        "base_rss_mb": base / 2**20,
        "peak_rss_mb": peak / 2**20,
    }


def in_fresh_process(function: Any, job: dict[str, Any]) -> Any:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, job).result()


def markdown(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    def find(dataset: str, impl: str, model: str) -> dict[str, Any] | None:
        for result in results:
            if (result["dataset"], result["impl"], result["model"]) == (dataset, impl, model):
                return result
        return None

    lines = [
        f"Run {meta['date']} on {meta['machine']}; torch {meta['torch']}, "
        f"torch-geometric {meta['pyg']}. Command: `{meta['command']}` "
        f"({meta['total_s'] / 60:.1f} min in all; 1-minute load average "
        f"{meta['load_average']['start'][0]:.1f} at the start, "
        f"{meta['load_average']['end'][0]:.1f} at the end).",
        "",
        "LightGCN, PyG vs graphrec: same split (per-user random 80/20, seed 0), same initial "
        f"embeddings, batches and negatives; dim {SHARED['dim']}, {SHARED['layers']} layers, "
        f"batch {SHARED['batch_size']}, lr {SHARED['lr']:g}, reg {SHARED['reg']:g}; one "
        "process, alternating epochs. s/epoch: median over epochs, training steps only. "
        "Peak RSS: a separate process per implementation, "
        f"{meta['memory_epochs']} epoch{'s' if meta['memory_epochs'] != 1 else ''}.",
        "",
        "| dataset | implementation | epochs | s/epoch | time ratio | peak RSS (MB) "
        "| Recall@20 | NDCG@20 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    checks = []
    for dataset in meta["datasets"]:
        pyg = find(dataset, "pyg", "lightgcn")
        ours = find(dataset, "graphrec", "lightgcn")
        if pyg is None or ours is None:
            continue
        ratio = ours["median_epoch_s"] / pyg["median_epoch_s"]
        for label, result, shown in (
            ("PyG LightGCN (CSR)", pyg, "1.00"),
            ("graphrec LightGCN", ours, f"{ratio:.2f}"),
        ):
            metrics = result["metrics"]
            lines.append(
                f"| {dataset} | {label} | {result['epochs']} | {result['median_epoch_s']:.3f} "
                f"| {shown} | {result.get('peak_rss_mb', float('nan')):.0f} "
                f"| {metrics['recall@20']:.4f} | {metrics['ndcg@20']:.4f} |"
            )
        checks.append(
            f"- {dataset}: time ratio {ratio:.2f} (goal: at most 0.5): "
            f"{'met' if ratio <= 0.5 else 'NOT met'}; Recall@20 graphrec "
            f"{ours['metrics']['recall@20']:.4f} vs PyG {pyg['metrics']['recall@20']:.4f} "
            f"({'equal or better' if ours['metrics']['recall@20'] >= pyg['metrics']['recall@20'] else 'worse'})"
        )

    ml_models = [r for r in results if r["dataset"] == "ml-latest-small" and "label" in r]
    if ml_models:
        columns = [
            "recall@20", "ndcg@20", "precision@20", "hit_rate@20", "mrr@20", "coverage@20",
            "avg_popularity@20", "recall@20[head]", "recall@20[tail]", "share@20[tail]",
        ]  # fmt: skip
        lines += [
            "",
            "ml-latest-small, graphrec models, same split, each trained alike with "
            "`graphrec.training.train` (head = the 20% most-interacted items in train, tail = "
            "the rest; share = fraction of recommended slots; relgnn uses the genres as "
            "concepts):",
            "",
            "| model | epochs | lr | s/epoch | " + " | ".join(columns) + " |",
            "| --- | ---: | ---: | ---: |" + " ---: |" * len(columns),
        ]
        for result in ml_models:
            cells = [f"{result['metrics'].get(column, float('nan')):.4f}" for column in columns]
            lr = result.get("lr", SHARED["lr"])
            lines.append(
                f"| {result['label']} | {result['epochs']} | {lr:g} | "
                f"{result['median_epoch_s']:.3f} | " + " | ".join(cells) + " |"
            )
        recall = {r.get("label", r["model"]): r["metrics"]["recall@20"] for r in ml_models}
        if {"lightgcn", "mf", "most_popular"} <= recall.keys():
            beats = recall["lightgcn"] > max(recall["mf"], recall["most_popular"])
            checks.append(
                f"- ml-latest-small: LightGCN Recall@20 {recall['lightgcn']:.4f} vs MF-BPR "
                f"{recall['mf']:.4f} and most-popular {recall['most_popular']:.4f}: "
                f"{'beats both' if beats else 'does NOT beat both'}"
            )
    return "\n".join([*lines, "", "Checks:", *checks]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--epochs", type=int, default=100, help="epochs of PyG vs graphrec on ml-latest-small"
    )
    parser.add_argument(
        "--synthetic-epochs", type=int, default=40, help="epochs on the synthetic graph"
    )
    parser.add_argument(
        "--model-epochs", type=int, default=40, help="epochs of the ml-latest-small model table"
    )
    parser.add_argument("--model-lr", type=float, default=5e-3, help="lr of the model table")
    parser.add_argument("--memory-epochs", type=int, default=2, help="epochs of the RSS runs")
    parser.add_argument("--movielens", type=Path, default=MOVIELENS, help="ml-latest-small folder")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    started = time.perf_counter()
    load_before = os.getloadavg()
    common = {"movielens": str(args.movielens), "threads": args.threads}
    datasets = {"synthetic": args.synthetic_epochs}
    if (args.movielens / "ratings.csv").exists():
        datasets = {"ml-latest-small": args.epochs, **datasets}
    else:
        print(f"{args.movielens} not found: skipping ml-latest-small")

    results: list[dict[str, Any]] = []
    for dataset, epochs in datasets.items():
        job = {**common, "dataset": dataset, "epochs": epochs}
        print(f"{dataset}: PyG and graphrec LightGCN, {epochs} alternating epochs ...", flush=True)
        pair = in_fresh_process(run_pair, job)
        for result in pair:
            memory_job = {**job, "impl": result["impl"], "epochs": args.memory_epochs}
            result["peak_rss_mb"] = in_fresh_process(run_memory, memory_job)["peak_rss_mb"]
            print(
                f"  {result['impl']}: {result['median_epoch_s']:.3f} s/epoch, "
                f"recall@20 {result['metrics']['recall@20']:.4f}, "
                f"peak RSS {result['peak_rss_mb']:.0f} MB",
                flush=True,
            )
        results += pair
        if dataset != "ml-latest-small":
            continue
        # The model table shares its own epochs and lr, so that the slower relation-aware
        # model fits the time budget and every row is trained alike.
        for model in ("lightgcn", "mf", "most_popular", "relgnn"):
            model_epochs = 0 if model == "most_popular" else args.model_epochs
            print(f"{dataset}: {model}, {model_epochs} epochs ...", flush=True)
            model_job = {
                **job,
                "model": model,
                "epochs": model_epochs,
                "lr": args.model_lr,
                "label": model,
            }
            result = in_fresh_process(run_model, model_job)
            print(
                f"  {result['median_epoch_s']:.3f} s/epoch, "
                f"recall@20 {result['metrics']['recall@20']:.4f}",
                flush=True,
            )
            results.append(result)

    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{psutil.cpu_count()} CPU cores ({platform.machine()}), "
        f"{args.threads} torch threads, no GPU",
        "torch": torch.__version__,
        "pyg": __import__("torch_geometric").__version__,
        "command": "python bench/train_vs_pyg.py "
        f"--epochs {args.epochs} --synthetic-epochs {args.synthetic_epochs}"
        + f" --model-epochs {args.model_epochs} --model-lr {args.model_lr:g}",
        "datasets": list(datasets),
        "synthetic": SYNTHETIC,
        "settings": SHARED,
        "memory_epochs": args.memory_epochs,
        "total_s": time.perf_counter() - started,
        # Other work on the machine slows every run; the load average says how much there was.
        "load_average": {"start": load_before, "end": os.getloadavg()},
    }
    table = markdown(results, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_vs_pyg.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2) + "\n"
    )
    (args.out / "train_vs_pyg.md").write_text(table)
    print(table)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
