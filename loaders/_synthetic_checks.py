"""Range checks of the synthetic generator's options, before anything is drawn.

Every option is checked for its type (integers are ``int`` and not ``bool``,
probabilities and exponents finite real numbers) and range, so that a bad
option is one :class:`~graphrec.loaders.errors.LoaderError` naming it, never a
numpy error or an allocation the machine cannot hold.
"""

from __future__ import annotations

import math

from graphrec.schema import MAX_TIMESTAMP

from .errors import LoaderError

__all__ = ["MAX_CONCEPTS", "MAX_CONCEPTS_PER_ITEM", "MAX_ROWS", "check_options"]

#: Most users, items or interactions one synthetic dataset may have.
MAX_ROWS = 100_000_000
#: Most category leaves or tags (communities x subcategories, communities x tags).
MAX_CONCEPTS = 1_000_000
#: Most tags per item.
MAX_CONCEPTS_PER_ITEM = 1_000


def _fail(message: str) -> LoaderError:
    return LoaderError(f"synthetic: {message}")


def _integer(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        if low == 1 and high is not None:
            raise _fail(f"{name} must be a positive integer at most {high:,}, got {value!r}")
        span = f"between {low} and {high:,}" if high is not None else f"at least {low}"
        raise _fail(f"{name} must be {span}, got {value!r}")
    return value


def _real(name: str, value: object, low: float, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise _fail(f"{name} must be within [{low:g}, {high:g}], got {value!r}")
    return float(value)


def check_options(
    *,
    users: object,
    items: object,
    interactions: object,
    concepts_per_item: object,
    communities: object,
    subcategories: object,
    tags_per_community: object,
    affinity: object,
    popularity_exponent: object,
    start: object,
    days: object,
    seed: object,
) -> None:
    """Raise :class:`LoaderError` for the first option out of range."""
    n_users = _integer("users", users, 1, MAX_ROWS)
    n_items = _integer("items", items, 1, MAX_ROWS)
    n_communities = _integer("communities", communities, 1, MAX_CONCEPTS)
    n_sub = _integer("subcategories", subcategories, 1, MAX_CONCEPTS)
    n_tags = _integer("tags_per_community", tags_per_community, 1, MAX_CONCEPTS)
    n_days = _integer("days", days, 1, MAX_TIMESTAMP // 86_400)
    if n_communities * n_sub > MAX_CONCEPTS:
        raise _fail(f"communities * subcategories must be at most {MAX_CONCEPTS:,}")
    if n_communities * n_tags > MAX_CONCEPTS:
        raise _fail(f"communities * tags_per_community must be at most {MAX_CONCEPTS:,}")
    most = min(n_users * n_items // 2, MAX_ROWS)
    if (
        isinstance(interactions, bool)
        or not isinstance(interactions, int)
        or not 0 <= interactions <= most
    ):
        raise _fail(
            f"interactions must be between 0 and users*items/2 = {n_users * n_items // 2}"
            f" (and at most {MAX_ROWS:,}), got {interactions!r}"
        )
    tags = min(n_communities * n_tags, MAX_CONCEPTS_PER_ITEM)
    if (
        isinstance(concepts_per_item, bool)
        or not isinstance(concepts_per_item, int)
        or not 0 <= concepts_per_item <= tags
    ):
        raise _fail(
            f"concepts_per_item must be between 0 and communities*tags_per_community"
            f" = {n_communities * n_tags} (and at most {MAX_CONCEPTS_PER_ITEM}),"
            f" got {concepts_per_item!r}"
        )
    _real("affinity", affinity, 0.0, 1.0)
    _real("popularity_exponent", popularity_exponent, 0.0, 10.0)
    first = _integer("start", start, 0, MAX_TIMESTAMP)
    if first + n_days * 86_400 - 1 > MAX_TIMESTAMP:
        raise _fail(f"start + days must end by the largest timestamp {MAX_TIMESTAMP} (9999-12-31)")
    _integer("seed", seed, 0)
