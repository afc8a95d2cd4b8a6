"""The default-settings table: every model trained with its registry defaults, over seeds.

For each dataset and seed, one random per-user split (70% train, 10% validation,
20% test, as ``graphrec train`` makes it); each model is trained by
:func:`graphrec.training.train` with nothing but ``model_kwargs`` (dimension 64;
3 layers for LightGCN and NGCF, relgnn's own default) given, so lr, epochs,
validation interval and patience are the defaults in
``graphrec.models.registry.TRAINING_DEFAULTS``. PyG's own LightGCN
(``torch_geometric.nn.models.LightGCN``, its own initialisation, PyG's
``recommendation_loss``) trains on the same training split for as many epochs as
graphrec's LightGCN ran, with the same learning rate, batch and dimension
(PyG's example has no validation, so none) and PyG's own :math:`L_2` weight
(``PYG_REG``, ``recommendation_loss``'s default; its term is over each batch's
unique nodes, graphrec's over its triples). Test metrics are reported as
mean ± std over the seeds; a difference counts only when it exceeds one std of
either side.

    cd bench && python defaults.py --datasets ml-latest-small,lastfm-kg --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import torch
from _datasets import dataset_export
from _report import OUT, machine, save, today

from graphrec.data import RecData
from graphrec.evaluation import evaluate
from graphrec.models import Embeddings, Recommender
from graphrec.models.registry import training_defaults
from graphrec.training import sample_negatives, train

#: ``LightGCN.recommendation_loss``'s default ``lambda_reg`` (PyG 2.x).
PYG_REG = 1e-4
METRICS = ("recall@20", "ndcg@20", "coverage@20", "recall@20[tail]")
KWARGS = {
    "mf": {"embedding_dim": 64},
    "lightgcn": {"embedding_dim": 64, "num_layers": 3},
    "ngcf": {"embedding_dim": 64, "num_layers": 3},
    "relgnn": {"embedding_dim": 64},
}


class FixedEmbeddings(Recommender):
    """Final embeddings computed elsewhere (PyG), ranked by graphrec's evaluator."""

    def __init__(self, user: torch.Tensor, item: torch.Tensor) -> None:
        super().__init__(user.size(0), item.size(0))
        self.register_buffer("user", user)
        self.register_buffer("item", item)

    def forward(self) -> Embeddings:
        return Embeddings(self.user, self.item)


def pyg_lightgcn(data: RecData, *, epochs: int, seed: int) -> tuple[Recommender, float]:
    """PyG's LightGCN as in its examples/lightgcn.py: own init, BPR + its L2, no validation."""
    from torch_geometric.nn.conv.gcn_conv import gcn_norm
    from torch_geometric.nn.models import LightGCN
    from torch_geometric.utils import to_torch_csr_tensor

    defaults = training_defaults("lightgcn")
    torch.manual_seed(seed)
    num_nodes = data.num_users + data.num_items
    user, item = data.train
    item = item + data.num_users
    edge_index = torch.stack([torch.cat([user, item]), torch.cat([item, user])])
    edge_index, weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=False)
    adj_t = to_torch_csr_tensor(edge_index, weight, size=(num_nodes, num_nodes))
    model = LightGCN(num_nodes, KWARGS["lightgcn"]["embedding_dim"], 3, normalize=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=defaults.lr)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(data.train.size(1), generator=generator)
        for batch in order.split(defaults.batch_size):
            users, positives = data.train[:, batch]
            negatives = sample_negatives(users, data.train_items, generator)
            label = torch.stack(
                [torch.cat([users, users]), torch.cat([positives, negatives]) + data.num_users]
            )
            pos_rank, neg_rank = model(adj_t, label).chunk(2)
            loss = model.recommendation_loss(
                pos_rank, neg_rank, node_id=label.unique(), lambda_reg=PYG_REG
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = (time.perf_counter() - start) / max(1, epochs)
    with torch.no_grad():
        out = model.get_embedding(adj_t)
    return FixedEmbeddings(out[: data.num_users], out[data.num_users :]), seconds


def one(dataset: str, data: RecData, model: str, seed: int) -> dict[str, Any]:
    result = train(model=model, data=data, model_kwargs=KWARGS[model], seed=seed, progress=False)
    return {
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "metrics": result.metrics,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "seconds_per_epoch": result.seconds / max(1, len(result.history)),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, tuple[float, float]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["model"]), []).append(row)
    out = {}
    for key, group in groups.items():
        stats = {}
        for metric in (*METRICS, "best_epoch", "epochs_run", "seconds_per_epoch"):
            values = [
                r["metrics"].get(metric, float("nan")) if metric in METRICS else r[metric]
                for r in group
            ]
            std = statistics.stdev(values) if len(values) > 1 else 0.0
            stats[metric] = (statistics.fmean(values), std)
        out[key] = stats
    return out


def verdict(a: tuple[float, float], b: tuple[float, float]) -> str:
    difference = a[0] - b[0]
    noise = max(a[1], b[1])
    if abs(difference) <= noise:
        return f"{difference:+.4f} (within one std, {noise:.4f})"
    return (
        f"{difference:+.4f} ({'better' if difference > 0 else 'worse'}, beyond one std {noise:.4f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="ml-latest-small,lastfm-kg")
    parser.add_argument("--models", default="mf,lightgcn,ngcf,relgnn")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-pyg", action="store_true", help="skip PyG's LightGCN")
    parser.add_argument(
        "--name", default="defaults", help="output name: bench/out/<name>.json and .md"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # Every finished row is kept in <name>.partial.json, so an interrupted run resumes
    # where it stopped instead of training everything again.
    partial = OUT / f"{args.name}.partial.json"
    rows: list[dict[str, Any]] = json.loads(partial.read_text()) if partial.exists() else []
    done = {(r["dataset"], r["model"], r["seed"]) for r in rows}

    def keep(row: dict[str, Any]) -> None:
        rows.append(row)
        OUT.mkdir(exist_ok=True)
        partial.write_text(json.dumps(rows, indent=2, default=str) + "\n")

    for dataset in args.datasets.split(","):
        hetero, _ = dataset_export(dataset)
        for seed in [int(s) for s in args.seeds.split(",")]:
            data = RecData.from_hetero(hetero, seed=seed)
            for model in args.models.split(","):
                if (dataset, model, seed) in done:
                    continue
                print(f"{dataset} seed {seed}: {model} ...", flush=True)
                keep(one(dataset, data, model, seed))
                print(f"  {rows[-1]['metrics']['recall@20']:.4f} ({rows[-1]['epochs_run']} epochs)")
                if model == "lightgcn" and not args.no_pyg:
                    epochs = rows[-1]["epochs_run"]
                    pyg, seconds = pyg_lightgcn(data, epochs=epochs, seed=seed)
                    keep(
                        {
                            "dataset": dataset,
                            "model": "pyg_lightgcn",
                            "seed": seed,
                            "metrics": evaluate(pyg, data, k=20),
                            "best_epoch": epochs,
                            "epochs_run": epochs,
                            "seconds_per_epoch": seconds,
                        }
                    )
                    print(f"  PyG LightGCN {rows[-1]['metrics']['recall@20']:.4f}", flush=True)
    stats = summarise(rows)
    command = "python bench/defaults.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v not in (False, None)
    )
    lines = [f"### defaults ({today()}, {machine()})", "", f"`{command}`", ""]
    header = "| dataset | model | " + " | ".join(METRICS) + " | epochs run | best epoch | s/epoch |"
    lines += [header, "| --- | --- |" + " ---: |" * (len(METRICS) + 3)]
    for (dataset, model), s in stats.items():
        cells = [f"{s[m][0]:.4f} ± {s[m][1]:.4f}" for m in METRICS]
        cells += [
            f"{s['epochs_run'][0]:.0f}",
            f"{s['best_epoch'][0]:.0f}",
            f"{s['seconds_per_epoch'][0]:.2f}",
        ]
        lines.append(f"| {dataset} | {model} | " + " | ".join(cells) + " |")
    lines += ["", "Recall@20 differences (mean over seeds):", ""]
    for dataset in args.datasets.split(","):
        for a, b in (
            ("lightgcn", "mf"),
            ("ngcf", "mf"),
            ("lightgcn", "pyg_lightgcn"),
            ("relgnn", "lightgcn"),
        ):
            if (dataset, a) in stats and (dataset, b) in stats:
                lines.append(
                    f"- {dataset}: {a} vs {b}: "
                    + verdict(stats[(dataset, a)]["recall@20"], stats[(dataset, b)]["recall@20"])
                )
    save(args.name, {"command": command, "rows": rows}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
