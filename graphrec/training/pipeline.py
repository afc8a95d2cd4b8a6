"""The training loop end to end: graph -> export -> split -> train -> evaluate -> write-back.

``graphrec train`` and ``graphrec demo`` both run :func:`train_from_graph`, so
the command line and the demo cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch_geometric.data import HeteroData

from graphrec.data import RecData
from graphrec.export import ExportFilters, IdMap, export_graph
from graphrec.graph.client import GraphClient
from graphrec.models.base import Recommender
from graphrec.training.api import train
from graphrec.training.result import TrainResult
from graphrec.training.strategies import Strategy
from graphrec.writeback import Embeddings, ModelRecord, write_embeddings


@dataclass
class PipelineResult:
    result: TrainResult
    id_map: IdMap
    data: RecData
    record: ModelRecord | None  # None when nothing was written back


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
    record = None
    if write_back and result.model.trainable:  # counting baselines have no embeddings
        record = write_embeddings(
            graph,
            model=result.config["model"],
            embeddings=model_embeddings(result.model, id_map),
            params={k: v for k, v in result.config.items() if k != "data"},
            metrics=result.metrics,
            progress=progress,
        )
    return PipelineResult(result=result, id_map=id_map, data=data, record=record)
