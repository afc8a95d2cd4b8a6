"""Fold-in measured: how good the service's answer is for users who interacted after the model
was trained, per model, against retraining and against not updating at all.

Temporal protocol on one dataset: each user's two latest interactions are the
target; the three before them are "posted" after training (what users do while
a model version is served); everything older trains the model. For each model,
on the target items (older and posted items masked):

- **no update**: the stale model's own user vector (the posted items only masked);
- **fold-in**: the service's ``"items"`` rule, :func:`graphrec.serving.fold_in.fold_in`
  (LightGCN's user rule over the fixed item vectors of everything the user has, posted
  items included);
- **trained + fold-in change**: the service's ``"change"`` rule: the stale model's user
  vector plus ``fold_in(older + posted) - fold_in(older)``;
- **retrained**: the same model trained again with the posted items;
- **popularity**: most popular among older + posted interactions.

Which of the two rules the service uses for a model's known users is
:data:`graphrec.models.registry.FOLD_IN`, chosen with ``--split validation``: the
same protocol one step earlier (the test protocol's target and posted interactions
dropped, and taken again from each user's latest older ones), so the test target
chooses nothing.

Every model trains ``--epochs`` epochs (no validation split here: the posted
items must not choose epochs). Recall@20 and NDCG@20, mean ± std over seeds.

    cd bench && python fold_in.py --dataset ml-latest-small --seeds 0,1,2 --split validation
    cd bench && python fold_in.py --dataset ml-latest-small --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

import numpy as np
import torch
from _datasets import dataset_export
from _report import machine, save, today

from graphrec.data import Interactions, KnowledgeGraph, RecData
from graphrec.data import split as splits
from graphrec.data.types import CO_ENGAGED
from graphrec.evaluation import evaluate
from graphrec.models import Embeddings, MostPopular, Recommender
from graphrec.serving.fold_in import fold_in
from graphrec.training import train

KWARGS = {
    "mf": {"embedding_dim": 64},
    "lightgcn": {"embedding_dim": 64, "num_layers": 3},
    "ngcf": {"embedding_dim": 64, "num_layers": 3},
    "relgnn": {"embedding_dim": 64},
}
METRICS = ("recall@20", "ndcg@20")


class FixedEmbeddings(Recommender):
    def __init__(self, user: torch.Tensor, item: torch.Tensor) -> None:
        super().__init__(user.size(0), item.size(0))
        self.register_buffer("user", user)
        self.register_buffer("item", item)

    def forward(self) -> Embeddings:
        return Embeddings(self.user, self.item)


def protocol_parts(interactions: Interactions, split: str) -> splits.Split:
    """The protocol's parts: test (target), val (posted) and train (older).

    ``split="validation"`` is the same protocol one step earlier: the test protocol's target
    and posted interactions are dropped, and the target and posted parts are taken again
    from what is left (each user's latest 5 older interactions), so a rule can be chosen
    without the test target.
    """
    recipe = {"last_n": 2, "val_last_n": 3, "min_interactions": 6}
    parts = splits.temporal_split(interactions.user, interactions.ts, **recipe)
    if split == "test":
        return parts
    older = parts.train
    again = splits.temporal_split(interactions.user[older], interactions.ts[older], **recipe)
    return splits.Split(train=older[again.train], val=older[again.val], test=older[again.test])


def protocol_data(hetero: Any, split: str = "test") -> tuple[RecData, RecData]:
    """(stale, fresh): the same target; stale trains on older interactions with the posted
    ones as its validation part (masked, never trained on), fresh trains on both."""
    interactions = Interactions.from_hetero(hetero)
    parts = protocol_parts(interactions, split)
    kg = KnowledgeGraph.from_hetero(hetero, skip=[CO_ENGAGED])
    stale = RecData.from_split(interactions, parts, kg, {"protocol": f"fold-in ({split})"})
    fresh = RecData(
        num_users=stale.num_users,
        num_items=stale.num_items,
        train=torch.cat([stale.train, stale.val], dim=1),
        val=stale.val[:, :0],
        test=stale.test,
        kg=kg,
    )
    return stale, fresh


def folded(model: Recommender, stale: RecData) -> Recommender:
    """Every user folded in from all their items (older + posted), as the service does."""
    emb = model.get_embedding()
    items = emb.item.detach().cpu().numpy()
    seen = stale.train_items.union(stale.val_items)
    popularity = np.bincount(
        torch.cat([stale.train[1], stale.val[1]]).numpy(), minlength=stale.num_items
    )
    users = np.zeros((stale.num_users, items.shape[1]), dtype=np.float32)
    for user in range(stale.num_users):
        mine = seen.items_of(user).numpy()
        if mine.size:
            users[user] = fold_in(items[mine], popularity[mine])
    return FixedEmbeddings(torch.from_numpy(users), emb.item.detach().cpu())


def corrected(model: Recommender, stale: RecData) -> Recommender:
    """Every user's trained vector plus the change the posted items make to their fold-in:
    ``trained + fold_in(older + posted) - fold_in(older)`` (the first-order update of the
    trained vector; no factor tuned)."""
    emb = model.get_embedding()
    items = emb.item.detach().cpu().numpy()
    users = emb.user.detach().cpu().numpy().astype(np.float32).copy()
    seen = stale.train_items.union(stale.val_items)
    popularity = np.bincount(
        torch.cat([stale.train[1], stale.val[1]]).numpy(), minlength=stale.num_items
    )
    for user in range(stale.num_users):
        mine, older = seen.items_of(user).numpy(), stale.train_items.items_of(user).numpy()
        if older.size and mine.size > older.size:
            users[user] += fold_in(items[mine], popularity[mine]) - fold_in(
                items[older], popularity[older]
            )
    return FixedEmbeddings(torch.from_numpy(users), emb.item.detach().cpu())


def no_validation(data: RecData) -> RecData:
    return RecData(data.num_users, data.num_items, data.train, data.val[:, :0], data.test, data.kg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--models", default="mf,lightgcn,ngcf")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="validation: the protocol one step earlier, without the test target (to choose "
        "a serving rule per model; the retrained row is not run)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    hetero, _ = dataset_export(args.dataset)
    stale, fresh = protocol_data(hetero, args.split)
    validation = args.split == "validation"
    # Evaluate the stale models with the posted items masked too (seen_items("test") adds val).
    rows = []
    popular = evaluate(MostPopular.from_data(fresh), fresh, k=20)
    for seed in [int(s) for s in args.seeds.split(",")]:
        for model in args.models.split(","):
            print(f"seed {seed}: {model}", flush=True)
            common = {"model_kwargs": KWARGS[model], "epochs": args.epochs, "patience": 0,
                      "seed": seed, "progress": False}  # fmt: skip
            old = train(model=model, data=no_validation(stale), **common).model
            new = None if validation else train(model=model, data=fresh, **common).model
            rows.append(
                {
                    "model": model,
                    "seed": seed,
                    "no update": evaluate(old, stale, k=20),
                    "fold-in": evaluate(folded(old, stale), stale, k=20),
                    "trained + fold-in change": evaluate(corrected(old, stale), stale, k=20),
                    "popularity": popular,
                }
            )
            if new is not None:
                rows[-1]["retrained"] = evaluate(new, fresh, k=20)
            print({k: round(v["recall@20"], 4) for k, v in rows[-1].items() if isinstance(v, dict)})
    rules = ("fold-in", "trained + fold-in change")  # the service's "items" and "change"
    answers = ("no update", *rules, *(() if validation else ("retrained",)), "popularity")
    command = f"python bench/fold_in.py --dataset {args.dataset} --models {args.models} " \
        f"--seeds {args.seeds} --epochs {args.epochs} --split {args.split}"  # fmt: skip
    lines = [f"### fold-in, {args.split} ({today()}, {machine()})", "", f"`{command}`", "",
             f"{stale.num_users} users; target: 2 latest interactions each "
             f"({stale.test.size(1)}), posted: the 3 before ({stale.val.size(1)}), "
             f"training: the rest ({stale.train.size(1)}).", "",
             "| model | answer | recall@20 | ndcg@20 |", "| --- | --- | ---: | ---: |"]  # fmt: skip
    for model in args.models.split(","):
        mine = [r for r in rows if r["model"] == model]
        for answer in answers:
            cells = []
            for metric in METRICS:
                values = [r[answer][metric] for r in mine]
                std = statistics.stdev(values) if len(values) > 1 else 0.0
                cells.append(f"{statistics.fmean(values):.4f} ± {std:.4f}")
            lines.append(f"| {model} | {answer} | " + " | ".join(cells) + " |")
    lines.append("")
    for model in args.models.split(","):
        mine = [r for r in rows if r["model"] == model]
        best = max(rules, key=lambda a: statistics.fmean(r[a]["recall@20"] for r in mine))
        lines.append(f"- {model}: the better serving rule by Recall@20 is **{best}**.")
    save(f"fold_in_{args.split}", {"command": command, "rows": rows}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
