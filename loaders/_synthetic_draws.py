"""The vectorised draws of the synthetic generator: tags per item, interaction pairs.

Both are numpy only and deterministic for a generator state; see
:mod:`graphrec.loaders.synthetic` for the generative story.
"""

from __future__ import annotations

import numpy as np

from ._entity_kg import ArtistRoute
from .errors import LoaderError

__all__ = ["draw_item_tags", "sample_pairs"]

_MAX_ROUNDS = 40  # sampling rounds before giving up on a too-dense request


def draw_item_tags(
    rng: np.random.Generator,
    item_cluster: np.ndarray,
    n_tags: int,
    per_cluster: int,
    k: int,
    affinity: float,
) -> np.ndarray:
    """``(items, k)`` distinct tag indices per item, biased to the item's cluster.

    Weighted sampling without replacement via the Gumbel top-k trick, in
    chunks so memory stays ``chunk * n_tags``.
    """
    items = len(item_cluster)
    out = np.empty((items, k), dtype=np.int64)
    if k == 0:
        return out
    communities = n_tags // per_cluster
    outside = (1.0 - affinity) / max(communities - 1, 1) if communities > 1 else 0.0
    inside = affinity if communities > 1 else 1.0
    tag_cluster = np.arange(n_tags) // per_cluster
    log_in, log_out = np.log(max(inside, 1e-12)), np.log(max(outside, 1e-12))
    chunk = max(1, 4_000_000 // n_tags)
    for lo in range(0, items, chunk):
        clusters = item_cluster[lo : lo + chunk]
        own = tag_cluster[None, :] == clusters[:, None]
        keys = np.where(own, log_in, log_out) + rng.gumbel(size=own.shape)
        out[lo : lo + chunk] = np.argpartition(-keys, k - 1, axis=1)[:, :k]
    return out


def sample_pairs(
    rng: np.random.Generator,
    target: int,
    communities: int,
    user_community: np.ndarray,
    activity: np.ndarray,
    item_cluster: np.ndarray,
    popularity: np.ndarray,
    affinity: float,
    route: ArtistRoute | None = None,
) -> np.ndarray:
    """``target`` distinct ``user * n_items + item`` keys, in generation order.

    With a ``route`` (the entity KG), a share of the draws picks an item of
    one of the user's preferred artists instead.
    """
    n_users, n_items = len(user_community), len(item_cluster)
    user_cdf = np.cumsum(activity / activity.sum())
    # Items sorted by cluster; one cumulative popularity serves both the
    # whole-catalog draw and the draw inside one cluster (a slice of it).
    by_cluster = np.argsort(item_cluster, kind="stable")
    cum = np.cumsum(popularity[by_cluster])
    bounds = np.searchsorted(item_cluster[by_cluster], np.arange(communities + 1))
    cum0 = np.concatenate(([0.0], cum))
    mass_before = cum0[bounds[:-1]]
    mass = cum0[bounds[1:]] - mass_before  # popularity mass per cluster; 0 when empty

    accepted: list[np.ndarray] = []  # new keys per round, in generation order
    taken = np.empty(0, dtype=np.int64)  # every accepted key, sorted
    for round_ in range(_MAX_ROUNDS):
        missing = target - len(taken)
        if missing <= 0:
            break
        n = int(missing * 1.25) + 64
        if round_ < _MAX_ROUNDS // 2:
            users = np.minimum(np.searchsorted(user_cdf, rng.random(n), side="right"), n_users - 1)
            cluster = user_community[users]
            inside = (rng.random(n) < affinity) & (mass[cluster] > 0)
            low = np.where(inside, mass_before[cluster], 0.0)
            span = np.where(inside, mass[cluster], cum[-1])
            pos = np.searchsorted(cum, low + rng.random(n) * span, side="right")
            chosen = by_cluster[np.minimum(pos, n_items - 1)]
            if route is not None:
                chosen = route.draw(rng, users, chosen)
        else:  # a dense request: finish with uniform draws so it terminates
            users = rng.integers(0, n_users, n)
            chosen = rng.integers(0, n_items, n)
        candidates = users.astype(np.int64) * n_items + chosen
        unique, first = np.unique(candidates, return_index=True)
        if len(taken):
            at = np.minimum(np.searchsorted(taken, unique), len(taken) - 1)
            first = first[taken[at] != unique]
        new = candidates[np.sort(first)][:missing]
        accepted.append(new)
        # Both parts are sorted runs, which the stable (merge) sort joins in linear time.
        taken = np.sort(np.concatenate((taken, np.sort(new))), kind="stable")
    if len(taken) < target:
        raise LoaderError(f"synthetic: could not draw {target} distinct interactions")
    return np.concatenate(accepted) if accepted else taken
