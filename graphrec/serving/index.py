"""Load the serving index from the graph, and the graph-side similar-item queries.

:func:`load_index` reads, with the sync client:

- the active version of each model (``(:Model {active: true})``), then only
  that version's embedding property, so a load never mixes two versions
  (:mod:`graphrec.writeback`);
- the catalog: items and titles, concepts, ``HAS_CONCEPT`` and ``SUBCONCEPT_OF``;
- every user's interacted items (seen items; item popularity is counted from them).

and returns a :class:`~graphrec.serving.vectors.Snapshot` plus an
:class:`~graphrec.serving.interactions.InteractionState`. The API and the CLI rank with
them through :mod:`graphrec.serving.ranking`.

Similar items can also be asked of the graph itself: by brute-force
``vector.similarity.cosine`` over the stored embeddings (any server, including
the embedded one), or through Neo4j's native vector index where the
capability probe finds one (Neo4j 5.13+).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from neo4j.exceptions import ClientError
from tqdm import tqdm

from graphrec.graph import cypher
from graphrec.graph.capabilities import probe
from graphrec.graph.client import GraphClient
from graphrec.schema import NodeLabel, check_property_name
from graphrec.serving.catalog import Catalog
from graphrec.serving.inductive import InductiveRule
from graphrec.serving.interactions import InteractionState
from graphrec.serving.vectors import FOLD_IN_RULES, ModelVectors, Snapshot
from graphrec.writeback import ModelRecord, list_models, read_embeddings

log = logging.getLogger(__name__)

#: Preferred default model when several are loaded and none is named.
PREFERRED_DEFAULT = "lightgcn"

#: Ids per query when reading per-item lists (concepts, parents).
CHUNK = 1_000


class NoModelError(LookupError):
    """No active model version in the graph (or none of the requested names)."""


@dataclass(frozen=True)
class LoadedIndex:
    """What :func:`load_index` read."""

    snapshot: Snapshot
    state: InteractionState
    records: dict[str, ModelRecord]
    seconds: float


def trained_at_seconds(record: ModelRecord) -> float:
    """The version's write time as seconds since the epoch (0 when unparseable)."""
    try:
        return datetime.fromisoformat(record.trained_at).timestamp()
    except (TypeError, ValueError):
        return 0.0


def choose_models(graph: GraphClient, names: Sequence[str] | None = None) -> list[ModelRecord]:
    """The active version of each model (of ``names`` only, when given).

    Raises:
        NoModelError: nothing to serve.
    """
    active = {r.name: r for r in list_models(graph) if r.active and not r.retired}
    if names:
        missing = [n for n in names if n not in active]
        if missing:
            known = ", ".join(sorted(active)) or "none"
            raise NoModelError(
                f"no active version of model(s) {', '.join(missing)} in the graph "
                f"(active models: {known})"
            )
        return [active[n] for n in names]
    if not active:
        raise NoModelError(
            "the graph has no trained model: train one and write its embeddings back "
            "(graphrec.writeback.write_embeddings) before serving"
        )
    return sorted(active.values(), key=lambda r: r.name)


def default_model_name(records: Sequence[ModelRecord], requested: str | None = None) -> str:
    """``requested``; else ``lightgcn`` when loaded; else the most recently written model."""
    names = [r.name for r in records]
    if requested is not None:
        if requested not in names:
            raise NoModelError(f"default model {requested!r} is not among {', '.join(names)}")
        return requested
    if PREFERRED_DEFAULT in names:
        return PREFERRED_DEFAULT
    return max(records, key=trained_at_seconds).name


# -- catalog ----------------------------------------------------------------------------------------
def load_catalog(graph: GraphClient, *, page_size: int = 10_000) -> Catalog:
    """Items (id order) with titles, concepts, and the concept hierarchy."""
    items = [
        row for page in graph.pages("export/item_ids_page", page_size=page_size) for row in page
    ]
    item_ids = [row["id"] for row in items]
    concept_ids = [
        row["id"]
        for page in graph.pages("export/concepts_page", page_size=page_size)
        for row in page
    ]
    concepts_of: dict[str, list[str]] = {}
    links_of: dict[str, list[tuple[str, str, float]]] = {}
    for start in range(0, len(item_ids), CHUNK):
        for row in graph.read(
            "export/concepts_of_items",
            ids=item_ids[start : start + CHUNK],
            relations=None,
            kinds=None,
        ):
            concepts_of[row["item_id"]] = row["concepts"]
            links_of[row["item_id"]] = [
                (c, r, 1.0 if w is None else float(w))
                for c, r, w in zip(row["concepts"], row["relations"], row["weights"], strict=True)
            ]
    subconcept_of: list[tuple[str, str]] = []
    for start in range(0, len(concept_ids), CHUNK):
        for row in graph.read("export/parents_of_concepts", ids=concept_ids[start : start + CHUNK]):
            subconcept_of.extend((row["child_id"], parent) for parent in row["parents"])
    return Catalog.build(
        item_ids,
        [row["title"] for row in items],
        [concepts_of.get(i, ()) for i in item_ids],
        concept_ids,
        subconcept_of,
        item_links=[links_of.get(i, ()) for i in item_ids],
    )


def load_seen(graph: GraphClient, catalog: Catalog, *, page_size: int = 2_000) -> InteractionState:
    """Every user's interacted items as catalog positions; popularity = users per item.

    Reads pages of users with their item ids (``recommend/seen_items_page``),
    lighter than the training export: no weights, times or splits.
    """
    lookup = catalog.item_pos
    seen: dict[str, np.ndarray] = {}
    for page in graph.pages("recommend/seen_items_page", page_size=page_size):
        for row in page:
            positions = [lookup[i] for i in row["items"] if i in lookup]
            if positions:
                seen[row["id"]] = np.unique(np.asarray(positions, dtype=np.int64))
    popularity = np.zeros(catalog.num_items)
    for positions in seen.values():
        popularity[positions] += 1
    return InteractionState(seen, popularity)


def load_model(graph: GraphClient, record: ModelRecord, catalog: Catalog) -> ModelVectors:
    """One model version's embeddings, aligned with ``catalog`` (cold start for the rest)."""
    items = read_embeddings(graph, record, NodeLabel.ITEM)
    if NodeLabel.USER in record.labels:
        users = read_embeddings(graph, record, NodeLabel.USER)
        user_ids, user_vectors = list(users.ids), users.vectors
    else:
        user_ids, user_vectors = [], np.zeros((0, record.dim), dtype=np.float32)
    inductive = None
    if "inductive" in record.params and NodeLabel.CONCEPT in record.labels:
        concepts = read_embeddings(graph, record, NodeLabel.CONCEPT)
        inductive = InductiveRule.from_params(
            record.params["inductive"], catalog.concept_ids, list(concepts.ids), concepts.vectors
        )
    return ModelVectors.build(
        name=record.name,
        version=record.version,
        trained_at=trained_at_seconds(record),
        catalog=catalog,
        item_ids=list(items.ids),
        item_vectors=items.vectors,
        user_ids=user_ids,
        user_vectors=user_vectors,
        inductive=inductive,
        fold_in=recorded_fold_in(record),
    )


def recorded_fold_in(record: ModelRecord) -> str:
    """The version's rule for known users who interacted since (``params["fold_in"]``);
    ``"items"`` for versions written before it was recorded, or with a rule this release does
    not know (logged)."""
    rule = record.params.get("fold_in", "items")
    if rule not in FOLD_IN_RULES:
        log.warning("%s: unknown fold_in rule %r in its params; using 'items'", record.id, rule)
        return "items"
    return rule


def load_index(
    graph: GraphClient,
    *,
    models: Sequence[str] | None = None,
    default_model: str | None = None,
    progress: bool = False,
) -> LoadedIndex:
    """Read everything the service ranks with.

    Args:
        graph: An open sync client.
        models: Model names to load (default: every model with an active version).
        default_model: The model used when a request names none (default:
            ``lightgcn`` if loaded, else the most recently written).
        progress: Show what is being read (default: False).

    Raises:
        NoModelError: no active model to serve.
    """
    start = time.perf_counter()
    records = choose_models(graph, models)
    default = default_model_name(records, default_model)
    steps = ["catalog", "seen items", *(r.id for r in records)]
    with tqdm(total=len(steps), desc="load index", unit=" step", disable=not progress) as bar:
        bar.set_postfix_str("catalog")
        catalog = load_catalog(graph)
        bar.update()
        bar.set_postfix_str("seen items")
        state = load_seen(graph, catalog)
        bar.update()
        vectors: dict[str, ModelVectors] = {}
        for record in records:
            bar.set_postfix_str(record.id)
            vectors[record.name] = load_model(graph, record, catalog)
            bar.update()
    return LoadedIndex(
        snapshot=Snapshot(catalog, vectors, default),
        state=state,
        records={r.name: r for r in records},
        seconds=time.perf_counter() - start,
    )


# -- similar items in the graph ---------------------------------------------------------------------
def similar_items_in_graph(
    graph: GraphClient, record: ModelRecord, item_id: str, k: int
) -> list[dict[str, Any]]:
    """Similar items by ``vector.similarity.cosine`` over the stored embeddings, in Cypher.

    A scan over all items (no index), so slower than the in-memory index, but
    it needs nothing but the graph. Neo4j scales the similarity to
    ``(1 + cos) / 2``, ArcadeDB returns the cosine itself: the score is mapped
    back to the cosine (the capability probe knows which). Rows:
    ``{id, title, score}``, best first.
    """
    caps = probe(graph)
    rows = graph.read(
        "recommend/similar_items_cosine",
        id=item_id,
        prop=check_property_name(record.property),
        k=k,
    )
    return [{**row, "score": caps.cosine_to_user(row["score"])} for row in rows]


def vector_index_name(record: ModelRecord) -> str:
    """The name of the native vector index over ``record``'s item embeddings."""
    return check_property_name(f"item_{record.property}")


def ensure_item_vector_index(graph: GraphClient, record: ModelRecord) -> str:
    """Create Neo4j's native vector index on ``record``'s item property (idempotent).

    Only for servers whose capability probe reports ``vector_index``. Index and
    property names cannot be parameters in ``CREATE VECTOR INDEX``, so the
    statement's placeholders are filled with names that pass
    :func:`~graphrec.schema.check_property_name` (never with input).
    """
    name = vector_index_name(record)
    for statement_name in (
        "recommend/create_item_vector_index",  # exact vectors (5.23+)
        "recommend/create_item_vector_index_quantised",  # servers without the setting
    ):
        statement = (
            cypher.load(statement_name)
            .replace("__INDEX__", name)
            .replace("__PROPERTY__", check_property_name(record.property))
            .replace("__DIMENSIONS__", str(int(record.dim)))
        )
        try:
            graph.run_write(statement)
            return name
        except ClientError as exc:
            if statement_name.endswith("quantised") or "quantization" not in str(exc):
                raise
    return name


def similar_items_vector_index(
    graph: GraphClient, record: ModelRecord, vector: Sequence[float], item_id: str, k: int
) -> list[dict[str, Any]]:
    """Neighbours of ``vector`` through the native vector index, ``item_id`` left out.

    Rows ``{id, title, score}`` with Neo4j's cosine score, ``(1 + cos) / 2``.
    """
    return graph.read(
        "recommend/similar_items_vector_index",
        index=vector_index_name(record),
        vector=[float(x) for x in vector],
        id=item_id,
        k=k,
    )
