"""Recommendation models (PyTorch Geometric style), one per file, plus the registry."""

from graphrec.models.base import Embeddings, Recommendations, Recommender
from graphrec.models.kgat import KGAT
from graphrec.models.kgin import KGIN
from graphrec.models.lightgcn import LightGCN
from graphrec.models.mf import MF
from graphrec.models.most_popular import MostPopular
from graphrec.models.ngcf import NGCF
from graphrec.models.registry import (
    FOLD_IN,
    MODELS,
    TRAINING_DEFAULTS,
    TrainingDefaults,
    UnknownModelError,
    fold_in_rule,
    get_model,
    model_name,
    resolve_model,
    training_defaults,
)
from graphrec.models.relation_gnn import RelationAwareGNN

__all__ = [
    "FOLD_IN",
    "KGAT",
    "KGIN",
    "MF",
    "MODELS",
    "NGCF",
    "Embeddings",
    "LightGCN",
    "MostPopular",
    "Recommendations",
    "Recommender",
    "RelationAwareGNN",
    "TRAINING_DEFAULTS",
    "TrainingDefaults",
    "UnknownModelError",
    "fold_in_rule",
    "get_model",
    "model_name",
    "resolve_model",
    "training_defaults",
]
