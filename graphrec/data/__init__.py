"""Training data in memory: split interactions, the knowledge graph beside them, and splits.

Nothing here talks to the database: :mod:`graphrec.export` produces the
``HeteroData`` that :meth:`RecData.from_hetero` splits.
"""

from graphrec.data import split
from graphrec.data.recdata import (
    CO_ENGAGED,
    HAS_CONCEPT,
    INTERACTED,
    RELATED,
    SUBCONCEPT_OF,
    DataError,
    GraphSize,
    Interactions,
    KnowledgeGraph,
    RecData,
    UserItems,
    synthetic_hetero,
)

__all__ = [
    "CO_ENGAGED",
    "HAS_CONCEPT",
    "INTERACTED",
    "RELATED",
    "SUBCONCEPT_OF",
    "DataError",
    "GraphSize",
    "Interactions",
    "KnowledgeGraph",
    "RecData",
    "UserItems",
    "split",
    "synthetic_hetero",
]
