"""What a ranking returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    """Where a user's ranking came from."""

    MODEL = "model"  # the user's trained embedding
    FOLD_IN = "fold_in"  # an embedding folded in from the user's items, no retraining
    POPULARITY = "popularity"  # no usable embedding: most popular items


@dataclass(frozen=True)
class ScoredItem:
    item_id: str
    title: str | None
    score: float
    rank: int


@dataclass(frozen=True)
class Ranking:
    """A ranked list of items and how it was made."""

    model: str
    version: int
    source: Source
    items: list[ScoredItem]
