"""Serving: the in-memory index and ranking over it.

In flow order: :mod:`~graphrec.serving.index` (loads the index from the graph),
:mod:`~graphrec.serving.catalog`, :mod:`~graphrec.serving.vectors` (one model
version's vectors, cold start, the immutable snapshot),
:mod:`~graphrec.serving.cold_start`, :mod:`~graphrec.serving.interactions` (the
mutable seen-items state), :mod:`~graphrec.serving.fold_in`,
:mod:`~graphrec.serving.ranking` (top-k, MMR, similar items),
:mod:`~graphrec.serving.results`, then :mod:`~graphrec.serving.erasure` (deleting a user
or an item in the graph) and :mod:`~graphrec.serving.materialise` (every user's top-k
written back as ``RECOMMENDED`` edges).
"""

from graphrec.serving.catalog import Catalog
from graphrec.serving.errors import (
    NoEmbeddingError,
    UnknownConceptError,
    UnknownError,
    UnknownItemError,
    UnknownModelError,
    UnknownUserError,
)
from graphrec.serving.fold_in import fold_in, user_vector
from graphrec.serving.index import (
    LoadedIndex,
    NoModelError,
    ensure_item_vector_index,
    load_index,
    similar_items_in_graph,
    vector_index_name,
)
from graphrec.serving.interactions import InteractionState
from graphrec.serving.ranking import (
    MAX_K,
    degree_lookup,
    mmr,
    recommend,
    similar_items,
    top_k,
    vector_lookup,
)
from graphrec.serving.results import Ranking, ScoredItem, Source
from graphrec.serving.vectors import ModelVectors, Snapshot

__all__ = [
    "MAX_K",
    "Catalog",
    "InteractionState",
    "LoadedIndex",
    "ModelVectors",
    "NoEmbeddingError",
    "NoModelError",
    "Ranking",
    "ScoredItem",
    "Snapshot",
    "Source",
    "UnknownConceptError",
    "UnknownError",
    "UnknownItemError",
    "UnknownModelError",
    "UnknownUserError",
    "degree_lookup",
    "ensure_item_vector_index",
    "fold_in",
    "load_index",
    "mmr",
    "recommend",
    "similar_items",
    "similar_items_in_graph",
    "top_k",
    "user_vector",
    "vector_index_name",
    "vector_lookup",
]
