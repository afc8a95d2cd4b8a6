"""Benchmark: cold-start items on ml-latest-small, and KGE initialisation of the relation-aware GNN.

Protocol (everything seeded):

1. ml-latest-small is ingested into a temporary embedded graph and exported
   (``--cache`` keeps the export for the next run; the CSVs are read in place).
2. **Cold items:** 10% of the rated items, drawn at random. All their ratings
   leave the training data; they keep their concepts (genres, decade, tags).
3. **KGE:** TransE on the item-concept triples (no interactions), dimension 64.
4. **GNN:** LightGCN on the warm ratings (random per-user split, train / val /
   test), dimension 64, early stopping on validation Recall@20.
5. **Cold-start evaluation:** every user with a held-out rating of a cold item
   ranks the cold items only (the candidate set is the cold items);
   Recall@20 = |top 20 ∩ held-out| / |held-out|, averaged over users (as
   ``graphrec.evaluation.metrics.Recall``), and NDCG@20. Methods: random; concept
   popularity (mean training popularity of the warm items sharing the cold
   item's concepts: the non-personalised baseline available at cold start);
   oracle popularity (the cold items' true held-out counts: not available in
   practice, a reference); the warm-neighbour fallback; KGE vectors through a
   least-squares map into LightGCN's item space (from concept means, or from
   the items' own KGE vectors); the relation-aware GNN's own embeddings of the
   cold items (it propagates concepts to them). Two concept sets: catalog
   metadata only (genres, decade) and with tags. Caveat: MovieLens tags are
   applied by users, often the same users who rated the movie, so the tag
   variant can leak a little about who rated a cold item.
6. **--init-from-kge:** the relation-aware GNN trained twice on the same warm
   split, with random concept embeddings and with the TransE concept vectors
   (rescaled to the GNN's init std, :func:`graphrec.kge.concept_init`);
   reported on all test items, on long-tail items, on items with at most 5
   training ratings, and on the cold items.

Torch runs single-threaded by default (``--threads``): on a shared 2-core
machine that was several times faster than two threads.

    python bench/cold_start.py                 # about 10-15 min on 2 busy cores
    python bench/cold_start.py --skip-relgnn   # cold start only, a few minutes

Results: ``bench/out/cold_start.{json,md}``; the markdown is printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _report import save  # bench/_report.py (scripts run from bench/)
from _server import bench_server, fresh_target
from torch_geometric.data import HeteroData

from graphrec.data import INTERACTED, RecData
from graphrec.evaluation import evaluate
from graphrec.evaluation.metrics import NDCG, Recall
from graphrec.export import ExportFilters, IdMap, export_graph, load_export, save_export
from graphrec.kge import KGEResult, KGERun, concept_init, kg_triples, train_kge
from graphrec.serving.cold_start import (
    KGEColdStart,
    concept_centroids,
    fallback_embeddings,
    mean_of_concepts,
)
from graphrec.training import train

MOVIELENS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-latest-small"
CACHE = Path(tempfile.gettempdir()) / "graphrec-bench" / "ml-latest-small-export"
CATALOG_KINDS = ("genre", "decade")
K = 20


# -- data -------------------------------------------------------------------------------------------
def movielens_export(path: Path, cache: Path) -> tuple[HeteroData, IdMap, dict[str, float]]:
    """Ingest ml-latest-small into a temporary embedded graph and export it (cached)."""
    if (cache / "graph.pt").is_file():
        data, ids = load_export(cache)
        return data, ids, {"cached": 1.0}
    from graphrec.graph.client import GraphClient
    from graphrec.ingest import ingest
    from graphrec.loaders import parse

    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = bench_server(Path(tmp), heap="2g")
        server.start()
        try:
            with GraphClient.open(fresh_target(server)) as graph:
                graph.apply_schema()
                start = time.perf_counter()
                ingest(graph, parse("movielens", path), progress=True)
                timings["ingest_s"] = time.perf_counter() - start
                start = time.perf_counter()
                data, ids = export_graph(graph, ExportFilters(include_co_engaged=False))
                timings["export_s"] = time.perf_counter() - start
        finally:
            server.stop()
    save_export(cache, data, ids)
    return data, ids, timings


def hold_out_items(data: HeteroData, share: float, seed: int) -> tuple[np.ndarray, HeteroData]:
    """Pick ``share`` of the rated items; return them and a copy of ``data`` without their ratings."""
    user, item = data[INTERACTED].edge_index
    rated = torch.unique(item).numpy()
    rng = np.random.default_rng(seed)
    cold = np.sort(rng.choice(rated, size=int(round(share * rated.size)), replace=False))
    keep = ~torch.from_numpy(np.isin(item.numpy(), cold))
    warm = data.clone()
    store = warm[INTERACTED]
    for key in ("edge_index", "weight", "ts", "split"):
        value = store[key]
        store[key] = value[:, keep] if key == "edge_index" else value[keep]
    return cold, warm


def item_memberships(
    data: HeteroData, ids: IdMap, kinds: tuple[str, ...] | None
) -> list[list[int]]:
    """Concept indices of every item (concepts of ``kinds`` only, when given)."""
    allowed = np.ones(len(ids.concepts), dtype=bool)
    if kinds is not None:
        names = data.concept_kinds
        kind = data["concept"].kind.numpy()
        allowed = np.isin(np.asarray(names)[kind], kinds)
    items, concepts = data["item", "has_concept", "concept"].edge_index.numpy()
    out: list[list[int]] = [[] for _ in range(len(ids.items))]
    for i, c in zip(items.tolist(), concepts.tolist(), strict=True):
        if allowed[c]:
            out[i].append(c)
    return out


# -- cold-start evaluation ----------------------------------------------------------------------------
class CandidateEval:
    """Users with held-out pairs among ``candidates`` rank the candidates only.

    Args:
        relevant: ``(user, item)`` held-out pairs, shape ``(2, E)``; pairs outside
            ``candidates`` are ignored.
        candidates: Item indices to rank.
        seen: ``(user, item)`` pairs masked from the ranking (training items).
    """

    def __init__(
        self, relevant: np.ndarray, candidates: np.ndarray, seen: np.ndarray | None = None
    ) -> None:
        position = {c: j for j, c in enumerate(candidates.tolist())}
        user, item = relevant
        mask = np.isin(item, candidates)
        pairs = {
            (u, position[i]) for u, i in zip(user[mask].tolist(), item[mask].tolist(), strict=True)
        }
        self.users = np.array(sorted({u for u, _ in pairs}), dtype=np.int64)
        row = {u: r for r, u in enumerate(self.users.tolist())}
        self.relevant = np.zeros((self.users.size, candidates.size), dtype=bool)
        for u, j in pairs:
            self.relevant[row[u], j] = True
        self.masked = np.zeros_like(self.relevant)
        if seen is not None:
            for u, i in zip(*seen.tolist(), strict=True):
                if u in row and i in position:
                    self.masked[row[u], position[i]] = True
        self.cold = candidates
        self.num_pairs = len(pairs)

    def __call__(self, scores: np.ndarray) -> dict[str, float]:
        """``scores``: ``(users, candidates)`` or one row for everyone."""
        scores = np.where(self.masked, -np.inf, np.broadcast_to(scores, self.relevant.shape))
        top = np.argsort(-scores, axis=1, kind="stable")[:, :K]
        hits = np.take_along_axis(self.relevant, top, axis=1)
        num_relevant = self.relevant.sum(1)
        recall = hits.sum(1) / num_relevant
        discount = 1 / np.log2(np.arange(2, K + 2))
        ideal = np.array([discount[: min(n, K)].sum() for n in num_relevant])
        ndcg = (hits * discount).sum(1) / ideal
        return {f"recall@{K}": float(recall.mean()), f"ndcg@{K}": float(ndcg.mean())}


def cold_table(
    evaluator: CandidateEval,
    data: HeteroData,
    ids: IdMap,
    warm_data: RecData,
    users: np.ndarray,
    items: np.ndarray,
    kge: KGEResult,
    seed: int,
) -> dict[str, Any]:
    """Every cold-start method on both concept sets."""
    cold = evaluator.cold
    is_warm = np.ones(len(ids.items), dtype=bool)
    is_warm[cold] = False
    popularity = warm_data.item_popularity.numpy().astype(np.float64)
    is_warm &= popularity > 0
    warm_index = np.flatnonzero(is_warm)
    user_vectors = users[evaluator.users]
    concept_kge, concept_found = kge.embeddings.lookup(ids.concepts, "Concept")
    item_kge, item_found = kge.embeddings.lookup(ids.items, "Item")
    rng = np.random.default_rng(seed)
    results: dict[str, Any] = {
        "random": evaluator(rng.random((evaluator.users.size, cold.size))),
        "random (expected recall)": {f"recall@{K}": K / cold.size},
        "oracle popularity (held-out counts)": evaluator(evaluator.relevant.sum(0).astype(float)),
    }
    fits: dict[str, Any] = {}
    for label, kinds in (("genres+decade", CATALOG_KINDS), ("genres+decade+tags", None)):
        members = item_memberships(data, ids, kinds)
        warm_members = [members[i] for i in warm_index]
        cold_members = [members[i] for i in cold]
        centroid_pop, counts = concept_centroids(
            popularity[warm_index, None], warm_members, len(ids.concepts)
        )
        concept_pop = mean_of_concepts(centroid_pop, cold_members, usable=counts > 0)
        results[f"concept popularity [{label}]"] = evaluator(concept_pop.vectors[:, 0])
        fallback = fallback_embeddings(
            items[warm_index], warm_members, cold_members, len(ids.concepts)
        )
        results[f"fallback: mean of warm items' GNN vectors [{label}]"] = evaluator(
            user_vectors @ fallback.vectors.T
        )
        usable = [[c for c in m if concept_found[c]] for m in warm_members]
        mapped = KGEColdStart.fit(concept_kge, usable, items[warm_index], seed=seed)
        embedded = mapped.embed([[c for c in m if concept_found[c]] for m in cold_members])
        results[f"KGE concept mean -> linear map [{label}]"] = evaluator(
            user_vectors @ embedded.vectors.T
        )
        fits[f"concept mean [{label}]"] = mapped.linear_map.report()
        results[f"(items with a usable concept) [{label}]"] = {
            "share": float(embedded.covered.mean())
        }
    own = item_found[warm_index]
    by_item = KGEColdStart.fit(
        concept_kge,
        [],
        items[warm_index][own],
        warm_kge_vectors=item_kge[warm_index][own],
        seed=seed,
    )
    vectors = by_item.embed(kge_vectors=item_kge[cold]).vectors
    results["KGE item vector -> linear map [genres+decade+tags]"] = evaluator(
        user_vectors @ vectors.T
    )
    fits["item vector [genres+decade+tags]"] = by_item.linear_map.report()
    return {"methods": results, "linear_maps": fits}


# -- relation-aware GNN with and without KGE concept initialisation ----------------------------------------
def few_interaction_data(data: RecData, max_train: int) -> RecData:
    """The same split with test pairs restricted to items with 1..max_train training ratings."""
    popularity = data.item_popularity
    item = data.test[1]
    keep = (popularity[item] > 0) & (popularity[item] <= max_train)
    return replace(data, test=data.test[:, keep])


def relgnn_arm(
    data: RecData,
    init: torch.Tensor | None,
    args: argparse.Namespace,
    evaluator: CandidateEval,
) -> dict[str, Any]:
    from graphrec.models.relation_gnn import RelationAwareGNN

    torch.manual_seed(args.seed)
    model = RelationAwareGNN.from_data(
        data, embedding_dim=args.dim, num_layers=args.relgnn_layers, concept_embeddings=init
    )
    start = time.perf_counter()
    result = train(
        model=model,
        data=data,
        epochs=args.relgnn_epochs,
        lr=args.lr,
        seed=args.seed,
        patience=args.patience,
        device="cpu",
    )
    seconds = time.perf_counter() - start
    test = result.metrics
    few = evaluate(result.model, few_interaction_data(data, args.few), metrics=[Recall(K), NDCG(K)])
    emb = result.model.get_embedding()
    popularity = data.item_popularity.numpy()
    few_items = np.flatnonzero((popularity > 0) & (popularity <= args.few))
    seen = torch.cat([data.train, data.val], dim=1).numpy()
    among_few = CandidateEval(data.test.numpy(), few_items, seen)
    among = among_few((emb.user[among_few.users] @ emb.item[few_items].T).numpy())
    cold_scores = emb.user[evaluator.users] @ emb.item[evaluator.cold].T
    return {
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "seconds": seconds,
        f"recall@{K}": test[f"recall@{K}"],
        f"ndcg@{K}": test[f"ndcg@{K}"],
        f"recall@{K}[tail]": test.get(f"recall@{K}[tail]"),
        f"recall@{K}[items <= {args.few} ratings]": few[f"recall@{K}"],
        f"ndcg@{K}[items <= {args.few} ratings]": few[f"ndcg@{K}"],
        f"users[items <= {args.few} ratings]": few["num_users"],
        f"recall@{K} among items <= {args.few} ratings": among[f"recall@{K}"],
        f"ndcg@{K} among items <= {args.few} ratings": among[f"ndcg@{K}"],
        f"users among items <= {args.few} ratings": int(among_few.users.size),
        f"cold recall@{K}": evaluator(cold_scores.numpy())[f"recall@{K}"],
        f"cold ndcg@{K}": evaluator(cold_scores.numpy())[f"ndcg@{K}"],
    }


# -- report -------------------------------------------------------------------------------------------
def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 100 else f"{value:,.0f}"
    return "—" if value is None else str(value)


def to_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    lines = [
        f"### cold start on ml-latest-small ({meta['date']}, {meta['machine']}, "
        f"torch threads {meta['threads']})",
        "",
        f"`{meta['command']}`",
        "",
        f"{meta['cold_items']} cold items (10% of rated items) with {meta['cold_pairs']:,} "
        f"held-out ratings from {meta['cold_users']} users; candidates: the cold items only. "
        f"KGE: {meta['kge']}. GNN: {meta['gnn']}.",
        "",
        f"| method | recall@{K} | ndcg@{K} |",
        "| --- | ---: | ---: |",
    ]
    for name, row in report["cold_start"]["methods"].items():
        if f"recall@{K}" in row:
            lines.append(f"| {name} | {fmt(row[f'recall@{K}'])} | {fmt(row.get(f'ndcg@{K}'))} |")
    coverage = [
        f"{name.split('[')[1].rstrip(']')}: {row['share']:.1%}"
        for name, row in report["cold_start"]["methods"].items()
        if "share" in row
    ]
    lines += [
        "",
        f"Cold items with at least one concept: {', '.join(coverage)}.",
        "",
        "Linear maps (KGE -> LightGCN item space), R² in sample / on held-out warm items:",
        "",
    ]
    for name, fit in report["cold_start"]["linear_maps"].items():
        lines.append(
            f"- {name}: R² {fit['r2']:.3f} / {fit['r2_holdout']:.3f} ({fit['num_fit']} warm items)"
        )
    if "init_from_kge" in report:
        arms = report["init_from_kge"]
        keys = [k for k in next(iter(arms.values())) if k not in ("epochs_run",)]
        lines += [
            "",
            "Relation-aware GNN, random vs TransE concept initialisation (same split, seed, epochs):",
            "",
            "| concept init | " + " | ".join(keys) + " |",
            "| --- |" + " ---: |" * len(keys),
        ]
        for name, row in arms.items():
            lines.append(f"| {name} | " + " | ".join(fmt(row[k]) for k in keys) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--movielens", type=Path, default=MOVIELENS)
    parser.add_argument("--cache", type=Path, default=CACHE, help="export cache folder")
    parser.add_argument("--share", type=float, default=0.1, help="share of items held out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--kge-epochs", type=int, default=100)
    parser.add_argument("--gnn-epochs", type=int, default=60)
    parser.add_argument("--relgnn-epochs", type=int, default=20)
    parser.add_argument("--relgnn-layers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--few", type=int, default=5, help="'few ratings' threshold")
    parser.add_argument("--skip-relgnn", action="store_true")
    parser.add_argument("--tag", default="", help="suffix of the output files, e.g. seed1")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()

    data, ids, load_timings = movielens_export(args.movielens, args.cache)
    cold, warm = hold_out_items(data, args.share, args.seed)
    evaluator = CandidateEval(data[INTERACTED].edge_index.numpy(), cold)
    print(f"{cold.size} cold items, {evaluator.num_pairs} held-out ratings", flush=True)

    kge_start = time.perf_counter()
    kge = train_kge(
        triples=kg_triples(data, ids),
        model="TransE",
        dim=args.dim,
        epochs=args.kge_epochs,
        patience=2,
        check_every=5,
        max_eval_triples=1000,
        seed=args.seed,
    )
    kge_seconds = time.perf_counter() - kge_start
    print(kge.table(), flush=True)

    warm_data = RecData.from_hetero(
        warm, split="random", test_ratio=0.2, val_ratio=0.1, seed=args.seed
    )
    gnn = train(
        model="lightgcn",
        data=warm_data,
        model_kwargs={"embedding_dim": args.dim, "num_layers": 3},
        epochs=args.gnn_epochs,
        lr=args.lr,
        seed=args.seed,
        patience=args.patience,
        device="cpu",
    )
    emb = gnn.model.get_embedding()
    report: dict[str, Any] = {
        "cold_start": cold_table(
            evaluator, data, ids, warm_data, emb.user.numpy(), emb.item.numpy(), kge, args.seed
        ),
        "kge": {
            "metrics": kge.metrics["test"],
            "best_epoch": kge.metrics["best_epoch"],
            "seconds": kge_seconds,
        },
        "lightgcn": {"test": gnn.metrics, "best_epoch": gnn.best_epoch, "seconds": gnn.seconds},
    }
    if not args.skip_relgnn:
        # Through a saved run, as `graphrec train --init-from-kge RUN` would read it.
        with tempfile.TemporaryDirectory() as folder:
            run = KGERun(kge.save(Path(folder) / "transe"))
            init = concept_init(run, ids.concepts, args.dim, std=0.1)
        report["init_from_kge"] = {
            "random": relgnn_arm(warm_data, None, args, evaluator),
            "TransE": relgnn_arm(warm_data, init, args, evaluator),
        }
    report["meta"] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "threads": args.threads,
        "command": " ".join(["python bench/cold_start.py", *sys.argv[1:]]),
        "cold_items": int(cold.size),
        "cold_pairs": evaluator.num_pairs,
        "cold_users": int(evaluator.users.size),
        "kge": f"TransE dim {args.dim}, best epoch {kge.metrics['best_epoch']} "
        f"(early stopping), test MRR {kge.metrics['test']['both']['mrr']:.4f}",
        "gnn": f"LightGCN dim {args.dim}, 3 layers, best epoch {gnn.best_epoch}, warm test "
        f"recall@{K} {gnn.metrics[f'recall@{K}']:.4f}",
        "load": load_timings,
        "total_seconds": time.perf_counter() - started,
        "args": vars(args) | {"movielens": str(args.movielens), "cache": str(args.cache)},
    }
    save(f"cold_start{'_' + args.tag if args.tag else ''}", report, to_markdown(report))


if __name__ == "__main__":
    main()
