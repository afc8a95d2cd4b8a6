"""Train / validation / test splits of an interaction list, as pure functions.

Every function takes the per-interaction columns it needs (the user index of
each interaction, its timestamp, or the split stored with it) and returns a
:class:`Split`: three disjoint index tensors into the interaction list. Nothing
here knows about models or the graph, so the same interactions and the same
seed always give the same split.

Three strategies:

- :func:`random_split`: a random share of each user's interactions is held out.
- :func:`temporal_split`: each user's latest interactions (or everything after a
  global cut-off time) are held out.
- :func:`stored_split`: the source fixed the test set (for example the KGAT
  benchmark files); validation is carved from the stored training part.

Users with fewer than ``min_interactions`` interactions stay wholly in train:
holding out one of their two interactions would leave too little to learn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

#: Values of the ``split`` edge attribute written by the export.
STORED_UNSPECIFIED, STORED_TRAIN, STORED_TEST = 0, 1, 2


@dataclass(frozen=True)
class Split:
    """Disjoint index tensors into an interaction list.

    Attributes:
        train: Indices of training interactions, sorted.
        val: Indices of validation interactions (early stopping), sorted.
        test: Indices of test interactions, sorted.
    """

    train: Tensor
    val: Tensor
    test: Tensor

    @classmethod
    def from_labels(cls, labels: Tensor) -> Split:
        """Build a split from a label per interaction: 0 train, 1 val, 2 test."""
        return cls(
            train=(labels == 0).nonzero().view(-1),
            val=(labels == 1).nonzero().view(-1),
            test=(labels == 2).nonzero().view(-1),
        )

    def sizes(self) -> tuple[int, int, int]:
        return self.train.numel(), self.val.numel(), self.test.numel()


def random_split(
    user: Tensor,
    *,
    test_ratio: float = 0.2,
    val_ratio: float = 0.1,
    min_interactions: int = 3,
    seed: int = 0,
) -> Split:
    r"""Hold out a random share of each user's interactions.

    A user with :math:`n_u \geq` ``min_interactions`` interactions gives
    :math:`\max(1, \lfloor n_u \cdot \text{test\_ratio} \rfloor)` of them to test
    and :math:`\lfloor n_u \cdot \text{val\_ratio} \rfloor` to validation, always
    keeping at least one in train.

    Args:
        user (torch.Tensor): User index of each interaction, shape :math:`(E,)`.
        test_ratio (float, optional): Share of each user's interactions held out
            for test. (default: :obj:`0.2`)
        val_ratio (float, optional): Share held out for validation; :obj:`0`
            disables validation. (default: :obj:`0.1`)
        min_interactions (int, optional): Users with fewer interactions stay
            wholly in train. (default: :obj:`3`)
        seed (int, optional): Seed of the shuffle. (default: :obj:`0`)
    """
    _check_ratio("test_ratio", test_ratio)
    _check_ratio("val_ratio", val_ratio)
    if test_ratio + val_ratio >= 1:
        raise ValueError(f"test_ratio + val_ratio must be below 1, got {test_ratio + val_ratio}")
    generator = torch.Generator().manual_seed(seed)
    order_key = torch.rand(user.numel(), generator=generator)
    count = torch.bincount(user)
    eligible = count >= min_interactions
    num_test = (count * test_ratio).floor().long()
    if test_ratio > 0:
        num_test = num_test.clamp(min=1)
    num_test = torch.minimum(num_test, count - 1) * eligible
    num_val = (count * val_ratio).floor().long() * eligible
    num_val = torch.minimum(num_val, (count - num_test - 1).clamp(min=0))
    return _split_by_rank(user, order_key, num_test, num_val)


def temporal_split(
    user: Tensor,
    ts: Tensor,
    *,
    last_n: int = 1,
    cutoff: int | None = None,
    val_last_n: int = 1,
    min_interactions: int = 3,
) -> Split:
    """Hold out the latest interactions: each user's last ``last_n``, or all after ``cutoff``.

    Validation takes each user's latest ``val_last_n`` interactions among those
    left for training, so the order in time is always train < val < test per user.
    Ties in time are broken by position in the interaction list.

    Args:
        user (torch.Tensor): User index of each interaction, shape :math:`(E,)`.
        ts (torch.Tensor): Timestamp of each interaction in seconds, shape :math:`(E,)`.
        last_n (int, optional): Test interactions per user when ``cutoff`` is
            :obj:`None`. (default: :obj:`1`)
        cutoff (int, optional): If set, every interaction with ``ts >= cutoff``
            is a test interaction, whatever its user. (default: :obj:`None`)
        val_last_n (int, optional): Validation interactions per user; :obj:`0`
            disables validation. (default: :obj:`1`)
        min_interactions (int, optional): Users with fewer interactions (fewer
            training interactions, with ``cutoff``) give none to test (or
            validation). (default: :obj:`3`)
    """
    if ts.numel() != user.numel():
        raise ValueError(f"user and ts differ in length: {user.numel()} vs {ts.numel()}")
    if last_n < 1 and cutoff is None:
        raise ValueError(f"last_n must be at least 1, got {last_n}")
    if ts.numel() and bool((ts == 0).all()):
        raise ValueError(
            "temporal split needs timestamps, but every interaction has ts = 0 (unknown); "
            "use the random split instead"
        )
    newest_first = -ts.double()
    count = torch.bincount(user)
    if cutoff is None:
        eligible = count >= min_interactions
        num_test = torch.minimum(torch.full_like(count, last_n), count - 1) * eligible
        num_val = torch.full_like(count, val_last_n) * eligible
        num_val = torch.minimum(num_val, (count - num_test - 1).clamp(min=0))
        return _split_by_rank(user, newest_first, num_test, num_val)

    is_test = ts >= cutoff
    before = ~is_test
    count_before = torch.bincount(user[before], minlength=count.numel())
    num_val = torch.full_like(count, val_last_n) * (count_before >= min_interactions)
    num_val = torch.minimum(num_val, (count_before - 1).clamp(min=0))
    is_val = before & _first_per_user(user, newest_first, num_val, among=before)
    return Split.from_labels(is_val.long() + 2 * is_test.long())


def stored_split(
    user: Tensor,
    stored: Tensor,
    *,
    val_ratio: float = 0.1,
    min_interactions: int = 3,
    seed: int = 0,
) -> Split:
    """Use the split the source fixed: ``stored == 2`` is test, everything else train.

    Validation is a random ``val_ratio`` share of each user's stored training
    interactions, so the stored test set is never touched.

    Args:
        user (torch.Tensor): User index of each interaction, shape :math:`(E,)`.
        stored (torch.Tensor): Stored split of each interaction: 0 unspecified,
            1 train, 2 test, shape :math:`(E,)`.
        val_ratio (float, optional): Share of each user's training interactions
            held out for validation. (default: :obj:`0.1`)
        min_interactions (int, optional): Users with fewer training interactions
            give none to validation. (default: :obj:`3`)
        seed (int, optional): Seed of the validation shuffle. (default: :obj:`0`)
    """
    _check_ratio("val_ratio", val_ratio)
    is_test = stored == STORED_TEST
    if user.numel() and not bool(is_test.any()):
        raise ValueError(
            "the stored split marks no interaction as test (split attribute == 2); "
            "use the random or temporal split for this data"
        )
    train_part = ~is_test
    count = torch.bincount(user[train_part], minlength=torch.bincount(user).numel())
    num_val = (count * val_ratio).floor().long() * (count >= min_interactions)
    num_val = torch.minimum(num_val, (count - 1).clamp(min=0))
    generator = torch.Generator().manual_seed(seed)
    order_key = torch.rand(user.numel(), generator=generator)
    is_val = train_part & _first_per_user(user, order_key, num_val, among=train_part)
    return Split.from_labels(is_val.long() + 2 * is_test.long())


def _split_by_rank(user: Tensor, order_key: Tensor, num_test: Tensor, num_val: Tensor) -> Split:
    """The first ``num_test[u]`` of each user's interactions (by ``order_key``) go to
    test, the next ``num_val[u]`` to validation, the rest to train."""
    rank = _rank_within_user(user, order_key)
    labels = torch.zeros_like(user)
    labels[rank < num_val[user] + num_test[user]] = 1
    labels[rank < num_test[user]] = 2
    return Split.from_labels(labels)


def _first_per_user(user: Tensor, order_key: Tensor, take: Tensor, among: Tensor) -> Tensor:
    """Mask of the first ``take[u]`` interactions of each user, ranked by
    ``order_key`` among the interactions where ``among`` is true."""
    # Interactions outside `among` sort after all others of their user.
    key = torch.where(among, order_key.double(), torch.inf)
    rank = _rank_within_user(user, key)
    return among & (rank < take[user])


def _rank_within_user(user: Tensor, order_key: Tensor) -> Tensor:
    """Position of each interaction within its user's interactions ordered by ``order_key``."""
    by_key = torch.sort(order_key, stable=True).indices
    order = by_key[torch.sort(user[by_key], stable=True).indices]
    count = torch.bincount(user)
    group_start = torch.cumsum(count, 0) - count
    rank = torch.empty_like(user)
    rank[order] = torch.arange(user.numel()) - group_start[user[order]]
    return rank


def _check_ratio(name: str, value: float) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
