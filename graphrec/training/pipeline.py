"""The training loop end to end: graph -> export -> split -> train -> evaluate -> refit ->
write-back.

``graphrec train`` and ``graphrec demo`` both run :func:`train_from_graph`, so
the command line and the demo cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch_geometric.data import HeteroData

from graphrec.data import RecData
from graphrec.export import ExportFilters, IdMap, export_graph
from graphrec.export.store import IDS_FILE
from graphrec.graph.client import GraphClient
from graphrec.models.base import Recommender
from graphrec.models.registry import fold_in_rule
from graphrec.training.api import refit as refit_model
from graphrec.training.api import train
from graphrec.training.result import TrainResult
from graphrec.training.strategies import MiniBatch, Strategy
from graphrec.writeback import Embeddings, ModelRecord, write_embeddings


@dataclass
class PipelineResult:
    """What :func:`train_from_graph` did.

    Attributes:
        result: The split-trained run (its test metrics are the reported ones).
        id_map: Business ids of the export.
        data: The split.
        record: The model version written back; :obj:`None` when nothing was.
        served: The model written back: the refit on all interactions, or ``result``
            itself with ``refit=False``; :obj:`None` when nothing was written back.
    """

    result: TrainResult
    id_map: IdMap
    data: RecData
    record: ModelRecord | None
    served: TrainResult | None = None


def model_embeddings(model: Recommender, id_map: IdMap) -> dict[str, Embeddings]:
    """The model's final user, item (and concept) embeddings keyed by label, with business ids."""
    emb = model.get_embedding()
    out = {
        "User": Embeddings(id_map.users, emb.user.detach().cpu().numpy()),
        "Item": Embeddings(id_map.items, emb.item.detach().cpu().numpy()),
    }
    if emb.concept is not None and len(id_map.concepts) == emb.concept.shape[0]:
        out["Concept"] = Embeddings(id_map.concepts, emb.concept.detach().cpu().numpy())
    return out


def split_data(hetero: HeteroData, **split_kwargs: Any) -> RecData:
    """:meth:`RecData.from_hetero` with the caller's split options."""
    return RecData.from_hetero(hetero, **split_kwargs)


def train_from_graph(
    graph: GraphClient,
    *,
    model: str,
    filters: ExportFilters | None = None,
    split: dict[str, Any] | None = None,
    write_back: bool = True,
    refit: bool = True,
    exported: tuple[HeteroData, IdMap] | None = None,
    progress: bool = True,
    strategy: Strategy | None = None,
    **train_kwargs: Any,
) -> PipelineResult | None:
    """Export, split, train ``model``, evaluate on the test split, and write the embeddings back.

    Args:
        graph: an open client.
        model: registry name, e.g. ``"lightgcn"``.
        filters: what to export (default: everything).
        split: options for :meth:`RecData.from_hetero` (``split``, ``test_ratio``, ``seed``...).
        write_back: store the embeddings as a new active model version (default: True).
        refit: before writing back, train the model again on every interaction for the
            number of epochs validation chose (:func:`graphrec.training.refit`), and write
            back that model; the reported metrics stay the split-trained model's, and the
            ``Model`` node's params record the refit. Runs under a torchrun launch refit
            on rank 0 alone, full batch. (default: True)
        exported: a ``(HeteroData, IdMap)`` already exported, to train several models on
            the same export and split.
        progress: progress bars (default: True).
        strategy: how :func:`graphrec.training.train` computes the epochs (default:
            full batch). A distributed run that torchrun started returns :obj:`None`
            on the ranks other than 0: then so does this, and only rank 0 writes back.
        train_kwargs: passed to :func:`graphrec.training.train` (``epochs``,
            ``model_kwargs``...).
    """
    hetero, id_map = exported or export_graph(graph, filters or ExportFilters(), progress=progress)
    data = split_data(hetero, **(split or {}))
    result = train(model=model, data=data, strategy=strategy, progress=progress, **train_kwargs)
    if result is None:
        return None
    run_dir = train_kwargs.get("run_dir")
    if run_dir is not None:
        id_map.save(Path(run_dir) / IDS_FILE)
    if not (write_back and result.model.trainable):  # counting baselines have no embeddings
        return PipelineResult(result=result, id_map=id_map, data=data, record=None)
    served, params = result, {k: v for k, v in result.config.items() if k != "data"}
    if refit:
        served = refit_model(
            result,
            data,
            model_kwargs=train_kwargs.get("model_kwargs"),
            strategy=strategy if isinstance(strategy, MiniBatch) else None,
            device=train_kwargs.get("device", "auto"),
            run_dir=Path(run_dir) / "refit" if run_dir is not None else None,
            progress=progress,
        )
        params["refit"] = {
            "epochs": served.config["epochs"],
            "interactions": served.config["data"]["num_train"],
        }
    params["fold_in"] = fold_in_rule(result.config["model"])
    if hasattr(served.model, "inductive_params"):  # relgnn: cold start from written-back concepts
        params["inductive"] = served.model.inductive_params()
    record = write_embeddings(
        graph,
        model=result.config["model"],
        embeddings=model_embeddings(served.model, id_map),
        params=params,
        metrics=result.metrics,
        history=result.history,
        progress=progress,
    )
    return PipelineResult(result=result, id_map=id_map, data=data, record=record, served=served)
