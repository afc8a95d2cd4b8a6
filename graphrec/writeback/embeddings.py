"""Write learned embeddings back into the graph as node properties, versioned.

Naming: the embeddings of version ``v`` of model ``name`` live in the property
``emb_<name>_v<v>`` (for example ``emb_lightgcn_v3``) on ``User``, ``Item`` and,
where trained, ``Concept`` nodes, so several models and versions coexist. Each
version has a ``(:Model {id: "<name>@<v>", name, version, property, dim,
trained_at, params, metrics, history, active, labels})`` node; ``params``,
``metrics`` and ``history`` (the training curve: one object per epoch) are JSON strings.

Atomic for readers: a version's properties are written in batches while its
``Model`` node is inactive; one final transaction flips ``active`` from the old
version to the new one. Readers look up the active ``Model`` first and then read
only its property, so they never mix two versions. The previous version is
kept (``keep_versions``) so in-flight readers finish; older ones are removed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from tqdm import tqdm

from graphrec.graph.client import GraphClient, QuietList
from graphrec.schema import NodeLabel, check_property_name

_MODEL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_LABELS = (NodeLabel.USER, NodeLabel.ITEM, NodeLabel.CONCEPT)


class WritebackError(ValueError):
    """Embeddings that cannot be written (bad model name, shape mismatch, ...)."""


def embedding_property(model: str, version: int) -> str:
    """``emb_<model>_v<version>``, checked against the strict property-name pattern."""
    if not _MODEL_NAME.fullmatch(model):
        raise WritebackError(f"invalid model name {model!r}: use [a-z][a-z0-9_]*, at most 41 chars")
    if version < 1:
        raise WritebackError(f"version must be >= 1, got {version}")
    return check_property_name(f"emb_{model}_v{version}")


@dataclass(frozen=True)
class ModelRecord:
    """One written model version, as stored on its ``(:Model)`` node."""

    name: str
    version: int
    property: str
    dim: int
    trained_at: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    active: bool = False
    labels: tuple[str, ...] = ()
    retired: bool = False

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ModelRecord:
        return cls(
            name=row["name"],
            version=int(row["version"]),
            property=row["property"],
            dim=int(row["dim"]),
            trained_at=row["trained_at"],
            params=json.loads(row["params"] or "{}"),
            metrics=json.loads(row["metrics"] or "{}"),
            history=json.loads(row.get("history") or "[]"),
            active=bool(row["active"]),
            labels=tuple(row["labels"] or ()),
            retired=bool(row.get("retired")),
        )


@dataclass(frozen=True)
class Embeddings:
    """Business ids and their vectors (row ``i`` of ``vectors`` belongs to ``ids[i]``)."""

    ids: Sequence[str]
    vectors: np.ndarray  # float32 [N, dim]

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.ids):
            raise WritebackError(
                f"{len(self.ids)} ids but vectors of shape {tuple(self.vectors.shape)}"
            )
        if not np.isfinite(self.vectors).all():
            raise WritebackError("embeddings contain NaN or infinite values")


def list_models(graph: GraphClient, name: str | None = None) -> list[ModelRecord]:
    """Recorded model versions (of ``name`` only, when given), newest first per name."""
    records = [ModelRecord.from_row(row) for row in graph.read("writeback/models")]
    return [r for r in records if name is None or r.name == name]


def active_model(graph: GraphClient, name: str) -> ModelRecord | None:
    """The active version of model ``name``, or ``None``."""
    return next((r for r in list_models(graph, name) if r.active), None)


def _rows(embeddings: Embeddings, prop: str) -> Iterator[dict[str, Any]]:
    vectors = embeddings.vectors.astype(np.float64).tolist()  # Bolt floats are 64-bit
    for business_id, vector in zip(embeddings.ids, vectors, strict=True):
        yield {"id": business_id, "props": {prop: QuietList(vector)}}


def write_embeddings(
    graph: GraphClient,
    *,
    model: str,
    embeddings: dict[NodeLabel | str, Embeddings],
    params: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    history: Sequence[dict[str, Any]] | None = None,
    keep_versions: int = 2,
    batch_size: int = 2_000,
    progress: bool = True,
) -> ModelRecord:
    """Write a new version of ``model``'s embeddings and make it the active one.

    Args:
        graph: an open client.
        model: the model's name (registry key), e.g. ``"lightgcn"``.
        embeddings: per label (``"User"``, ``"Item"``, ``"Concept"``), ids and vectors.
        params: hyper-parameters to record (JSON-serialisable).
        metrics: evaluation metrics to record.
        history: the training curve to record, one dict per epoch (``epoch``,
            ``loss``, validation metrics ...; default: none).
        keep_versions: versions whose properties stay on the nodes, the new one
            included (default: 2, so readers of the previous version can finish).
        batch_size: nodes per transaction (default: 2000).
        progress: show a progress bar (default: True).

    Returns:
        The new, active :class:`ModelRecord`.
    """
    if keep_versions < 1:
        raise WritebackError("keep_versions must be at least 1")
    labels = [NodeLabel(label) for label in embeddings]
    if any(label not in _LABELS for label in labels):
        raise WritebackError(f"embeddings can be written to {', '.join(_LABELS)} only")
    dims = {e.vectors.shape[1] for e in embeddings.values()}
    if len(dims) != 1:
        raise WritebackError(f"all embeddings must have one dimension, got {sorted(dims)}")
    existing = list_models(graph, model)
    version = max((r.version for r in existing), default=0) + 1
    record = ModelRecord(
        name=model,
        version=version,
        property=embedding_property(model, version),
        dim=dims.pop(),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        params=params or {},
        metrics=metrics or {},
        history=[dict(row) for row in history or ()],
        active=True,
        labels=tuple(str(label) for label in labels),
    )
    graph.write(
        "writeback/create_model",
        id=record.id,
        name=record.name,
        version=record.version,
        property=record.property,
        dim=record.dim,
        trained_at=record.trained_at,
        params=json.dumps(record.params, default=str),
        metrics=json.dumps(record.metrics, default=str),
        history=json.dumps(record.history, default=str),
        labels=list(record.labels),
    )
    total = sum(len(e.ids) for e in embeddings.values())
    with tqdm(
        total=total, desc=f"write back {record.id}", unit=" nodes", disable=not progress
    ) as bar:
        for label, values in zip(labels, embeddings.values(), strict=True):
            graph.write_batches(
                f"writeback/set_{label.lower()}_embeddings",
                _rows(values, record.property),
                batch_size=batch_size,
                on_batch=bar.update,
            )
    graph.write("writeback/activate_model", name=model, id=record.id)
    for old in existing[keep_versions - 1 :]:
        if not old.retired:
            remove_version(graph, old)
    return record


def remove_version(graph: GraphClient, record: ModelRecord, *, batch_size: int = 5_000) -> None:
    """Delete a version's embedding properties from every node and mark it retired.

    On Neo4j one ``CALL { ... } IN TRANSACTIONS`` query per label; elsewhere pages of
    ``batch_size`` nodes until none is left.
    """
    from graphrec.graph.capabilities import probe

    prop = check_property_name(record.property)
    in_transactions = probe(graph).call_in_transactions
    for label in _LABELS:
        name = f"writeback/remove_{label.lower()}_property"
        if in_transactions:
            graph.write_autocommit(
                f"{name}_in_transactions", prop=prop, props={prop: None}, batch=batch_size
            )
            continue
        while graph.write_rows(name, prop=prop, props={prop: None}, limit=batch_size)[0]["removed"]:
            pass
    graph.write("writeback/retire_model", id=record.id)


def read_embeddings(
    graph: GraphClient, record: ModelRecord, label: NodeLabel | str, *, page_size: int = 5_000
) -> Embeddings:
    """All ``label`` embeddings of ``record``, in id order."""
    label = NodeLabel(label)
    if label not in _LABELS:
        raise WritebackError(f"no embeddings on {label}")
    prop = check_property_name(record.property)
    ids: list[str] = []
    vectors: list[list[float]] = []
    after = ""
    while True:
        page = graph.read(
            f"writeback/{label.lower()}_embeddings_page", prop=prop, after=after, limit=page_size
        )
        if not page or not page[0]["ids"]:
            break
        ids.extend(page[0]["ids"])
        vectors.extend(page[0]["vectors"])
        after = page[0]["ids"][-1]
    array = np.asarray(vectors, dtype=np.float32).reshape(len(ids), record.dim)
    return Embeddings(ids, array)
