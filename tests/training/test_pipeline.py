"""End to end on a small synthetic graph: ingest, export, train 2 epochs, evaluate, write back."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graphrec.export import export_graph
from graphrec.graph.client import GraphClient
from graphrec.ingest import derive_co_engagement, ingest
from graphrec.loaders import parse
from graphrec.models import fold_in_rule
from graphrec.training.pipeline import train_from_graph
from graphrec.writeback import active_model, read_embeddings

SPLIT = {"split": "random", "test_ratio": 0.2, "seed": 0}
TRAIN = {"epochs": 2, "batch_size": 512, "lr": 5e-3, "model_kwargs": {"embedding_dim": 16}}


@pytest.fixture
def synthetic(graph: GraphClient) -> GraphClient:
    rows = parse("synthetic", None, users=150, items=120, interactions=3_000, seed=7)
    ingest(graph, rows, progress=False)
    derive_co_engagement(graph, min_shared=3, top_k=10)
    return graph


@pytest.mark.parametrize("model", ["lightgcn", "relgnn"])
def test_ingest_export_train_evaluate_write_back(synthetic: GraphClient, model: str) -> None:
    run = train_from_graph(synthetic, model=model, split=SPLIT, progress=False, **TRAIN)
    metrics = run.result.metrics
    for key in ("recall@20", "ndcg@20", "precision@20", "hit_rate@20", "mrr@20"):
        assert key in metrics and 0.0 <= metrics[key] <= 1.0 and not math.isnan(metrics[key])
    assert len(run.result.history) == 2

    record = run.record
    assert record is not None and record.active and record.name == model
    assert active_model(synthetic, model) == record
    assert record.metrics["recall@20"] == metrics["recall@20"]
    assert record.history == run.result.history and record.history[0]["epoch"] == 1
    items = read_embeddings(synthetic, record, "Item")
    assert list(items.ids) == run.id_map.items
    # What is served is the refit on every interaction, for the epochs validation chose.
    served = run.served
    assert served is not run.result and served.metrics == {}
    data = run.data
    everything = data.train.size(1) + data.val.size(1) + data.test.size(1)
    assert served.config["data"]["num_train"] == everything
    assert record.params["refit"] == {"epochs": run.result.best_epoch, "interactions": everything}
    # The version records how the service ranks its known users after new interactions.
    assert record.params["fold_in"] == fold_in_rule(model) in ("items", "change")
    want = served.model.get_embedding().item.numpy()
    np.testing.assert_allclose(items.vectors, want, rtol=1e-5, atol=1e-6)
    if model == "relgnn":
        assert "Concept" in record.labels


def test_no_refit_writes_back_the_split_trained_model(synthetic: GraphClient) -> None:
    run = train_from_graph(
        synthetic, model="lightgcn", split=SPLIT, refit=False, progress=False, **TRAIN
    )
    assert run.served is run.result and "refit" not in run.record.params
    items = read_embeddings(synthetic, run.record, "Item")
    want = run.result.model.get_embedding().item.numpy()
    np.testing.assert_allclose(items.vectors, want, rtol=1e-5, atol=1e-6)


def test_most_popular_baseline_writes_nothing(synthetic: GraphClient) -> None:
    run = train_from_graph(synthetic, model="most_popular", split=SPLIT, progress=False)
    assert run.record is None
    assert run.result.metrics["recall@20"] > 0


def test_models_share_one_export(synthetic: GraphClient) -> None:
    exported = export_graph(synthetic, progress=False)
    a = train_from_graph(
        synthetic,
        model="mf",
        split=SPLIT,
        exported=exported,
        write_back=False,
        progress=False,
        **TRAIN,
    )
    b = train_from_graph(
        synthetic,
        model="lightgcn",
        split=SPLIT,
        exported=exported,
        write_back=False,
        progress=False,
        **TRAIN,
    )
    # Same split: identical test pairs for both models.
    assert a.data.test.tolist() == b.data.test.tolist()
