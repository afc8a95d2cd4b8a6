"""Entity vectors of a trained model in real form, and their write-back into the graph.

Complex models (RotatE, ComplEx, ...) have ``d`` complex coordinates per entity;
they are stored as the ``2d`` reals ``[Re e_1, ..., Re e_d, Im e_1, ..., Im e_d]``
(real parts first, then imaginary parts). The ``(:Model)`` node's ``params``
record this as ``representation = "complex"``, ``real_form = "real_then_imag"``
and ``complex_dim = d``; real models have ``representation = "real"``. Models
with several entity representations (TransD, KG2E, ...) store the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from graphrec.kge.errors import KGEError
from graphrec.schema import NodeLabel

if TYPE_CHECKING:
    from pykeen.models import Model
    from pykeen.triples import TriplesFactory

    from graphrec.graph.client import GraphClient
    from graphrec.kge.pipeline import KGEResult
    from graphrec.writeback import ModelRecord

EMBEDDINGS_FILE = "embeddings.npz"


def real_form(vectors: torch.Tensor) -> np.ndarray:
    """Entity vectors as float32 rows; complex ``[n, d]`` becomes ``[n, 2d]``: real parts, then
    imaginary parts. Extra trailing dimensions are flattened."""
    vectors = vectors.detach().cpu().reshape(vectors.shape[0], -1)
    if vectors.is_complex():
        vectors = torch.cat([vectors.real, vectors.imag], dim=-1)
    return vectors.float().numpy()


@dataclass(frozen=True)
class EntityEmbeddings:
    """Real-form entity vectors of a KGE model with what each entity is in the graph.

    Attributes:
        labels: Entity labels, in PyKEEN's id order.
        node_labels: ``"Item"``, ``"Concept"``, ``"User"``, or ``""`` when unknown.
        business_ids: The node's business id (``""`` when unknown).
        vectors: float32, shape ``(n, dim)``.
        complex_dim: ``d`` for complex models stored as ``2d`` reals, else ``None``.
    """

    labels: list[str]
    node_labels: list[str]
    business_ids: list[str]
    vectors: np.ndarray
    complex_dim: int | None = None

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def of(self, node_label: NodeLabel | str) -> tuple[list[str], np.ndarray]:
        """Business ids and vectors of one node label."""
        rows = [i for i, label in enumerate(self.node_labels) if label == str(node_label)]
        return [self.business_ids[i] for i in rows], self.vectors[rows]

    def lookup(
        self, business_ids: Sequence[str], node_label: NodeLabel | str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Vectors for ``business_ids`` (zeros where unknown) and a mask of the known ones."""
        ids, vectors = self.of(node_label)
        index = {b: i for i, b in enumerate(ids)}
        found = np.array([b in index for b in business_ids], dtype=bool)
        out = np.zeros((len(business_ids), self.dim), dtype=np.float32)
        rows = [index[b] for b in business_ids if b in index]
        out[found] = vectors[rows]
        return out, found

    def params(self) -> dict[str, Any]:
        """How the vectors are stored, for the ``(:Model)`` node."""
        if self.complex_dim is None:
            return {"representation": "real", "dim": self.dim}
        return {
            "representation": "complex",
            "real_form": "real_then_imag",
            "complex_dim": self.complex_dim,
            "dim": self.dim,
        }

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            labels=np.asarray(self.labels, dtype=str),
            node_labels=np.asarray(self.node_labels, dtype=str),
            business_ids=np.asarray(self.business_ids, dtype=str),
            vectors=self.vectors,
            complex_dim=np.asarray(-1 if self.complex_dim is None else self.complex_dim),
        )

    @classmethod
    def load(cls, path: Path) -> EntityEmbeddings:
        with np.load(path, allow_pickle=False) as saved:
            complex_dim = int(saved["complex_dim"])
            return cls(
                labels=saved["labels"].tolist(),
                node_labels=saved["node_labels"].tolist(),
                business_ids=saved["business_ids"].tolist(),
                vectors=saved["vectors"].astype(np.float32),
                complex_dim=None if complex_dim < 0 else complex_dim,
            )


def entity_embeddings(
    model: Model, training: TriplesFactory, entities: Mapping[str, tuple[str, str]]
) -> EntityEmbeddings:
    """The real-form vectors of ``model``'s first entity representation, labelled."""
    with torch.no_grad():
        raw = model.entity_representations[0](indices=None)
    labels = [training.entity_id_to_label[i] for i in range(training.num_entities)]
    kinds = [entities.get(label, ("", "")) for label in labels]
    return EntityEmbeddings(
        labels=labels,
        node_labels=[k for k, _ in kinds],
        business_ids=[b for _, b in kinds],
        vectors=real_form(raw),
        complex_dim=int(raw.reshape(raw.shape[0], -1).shape[1]) if raw.is_complex() else None,
    )


def write_kge_embeddings(
    graph: GraphClient,
    *,
    model: str,
    embeddings: EntityEmbeddings,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    labels: Sequence[NodeLabel | str] = (NodeLabel.CONCEPT, NodeLabel.ITEM, NodeLabel.USER),
    progress: bool = True,
) -> ModelRecord:
    """Write entity vectors as ``emb_<model>_v<n>`` on their nodes, with a ``(:Model)`` node.

    Args:
        graph: An open client.
        model: Registry-style name, e.g. ``"transe"`` (see :func:`kge_model_name`).
        embeddings: From :attr:`KGEResult.embeddings` or :attr:`KGERun.embeddings`.
        params: Settings to record; how the vectors are stored is added
            (:meth:`EntityEmbeddings.params`).
        metrics: Metrics to record.
        labels: Node labels to write; labels without entities are skipped
            (default: Concept, Item, User).
        progress: Progress bar (default: True).
    """
    from graphrec.writeback import Embeddings, write_embeddings

    payload = {}
    for label in labels:
        ids, vectors = embeddings.of(label)
        if ids:
            payload[str(label)] = Embeddings(ids, vectors)
    if not payload:
        raise KGEError(
            "no entity is a known User, Item or Concept node, so nothing can be written back; "
            "train on triples from the graph (export_kg)"
        )
    return write_embeddings(
        graph,
        model=model,
        embeddings=payload,
        params={**dict(params or {}), **embeddings.params()},
        metrics=dict(metrics or {}),
        progress=progress,
    )


def write_back(graph: GraphClient, result: KGEResult, *, progress: bool = True) -> ModelRecord:
    """Write a fresh result's embeddings (see :func:`write_kge_embeddings`) and keep the record."""
    test = result.metrics["test"]["both"]
    result.record = write_kge_embeddings(
        graph,
        model=result.model_name,
        embeddings=result.embeddings,
        params=result.config,
        metrics={k: v for k, v in test.items() if k != "count"},
        progress=progress,
    )
    return result.record
