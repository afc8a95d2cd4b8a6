"""Training data in memory: split interactions, the knowledge graph beside them, and splits.

Nothing here talks to the database: :mod:`graphrec.export` produces the
``HeteroData`` that :meth:`RecData.from_hetero` splits. In flow order:
:mod:`~graphrec.data.types`, :mod:`~graphrec.data.interactions`,
:mod:`~graphrec.data.knowledge`, :mod:`~graphrec.data.split`,
:mod:`~graphrec.data.derived` (inputs derived from the training split),
:mod:`~graphrec.data.recdata`, :mod:`~graphrec.data.store` (a split kept with its run) and
:mod:`~graphrec.data.synthetic` (in-memory
graphs for tests and benchmarks).
"""

from graphrec.data import split
from graphrec.data.interactions import Interactions, UserItems
from graphrec.data.knowledge import KnowledgeGraph
from graphrec.data.recdata import RecData
from graphrec.data.store import SPLIT_FILE, fingerprint, load_split, save_split
from graphrec.data.synthetic import synthetic_hetero
from graphrec.data.types import (
    CO_ENGAGED,
    HAS_CONCEPT,
    INTERACTED,
    RELATED,
    SUBCONCEPT_OF,
    DataError,
    GraphSize,
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
    "SPLIT_FILE",
    "UserItems",
    "fingerprint",
    "load_split",
    "save_split",
    "split",
    "synthetic_hetero",
]
