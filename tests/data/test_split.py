import pytest
import torch

from graphrec.data import DataError, Interactions, RecData, synthetic_hetero
from graphrec.data.split import Split, random_split, stored_split, temporal_split


def _check_partition(split: Split, num_interactions: int) -> None:
    """Train, val and test are disjoint and together cover every interaction once."""
    everything = torch.cat([split.train, split.val, split.test])
    assert everything.numel() == num_interactions
    assert torch.equal(everything.sort().values, torch.arange(num_interactions))


def _pairs(edges: torch.Tensor) -> set[tuple[int, int]]:
    return {tuple(pair) for pair in edges.t().tolist()}


@pytest.fixture
def interactions() -> Interactions:
    return Interactions.from_hetero(synthetic_hetero(num_users=40, interactions_per_user=10))


def test_random_split_partitions_with_the_requested_share_per_user(interactions):
    user = interactions.user
    split = random_split(user, test_ratio=0.2, val_ratio=0.1, seed=3)
    _check_partition(split, len(interactions))
    # 10 interactions each: 2 test, 1 validation, 7 train, for every user.
    assert torch.equal(torch.bincount(user[split.test]), torch.full((40,), 2))
    assert torch.equal(torch.bincount(user[split.val]), torch.full((40,), 1))
    assert torch.equal(torch.bincount(user[split.train]), torch.full((40,), 7))


def test_random_split_is_seeded(interactions):
    first = random_split(interactions.user, seed=1)
    again = random_split(interactions.user, seed=1)
    other = random_split(interactions.user, seed=2)
    assert torch.equal(first.test, again.test)
    assert not torch.equal(first.test, other.test)


def test_users_with_few_interactions_stay_in_train():
    user = torch.tensor([0, 0, 1, 1, 1, 1, 1, 2])
    split = random_split(user, test_ratio=0.5, val_ratio=0.0, min_interactions=3)
    _check_partition(split, user.numel())
    assert set(user[split.test].tolist()) == {1}
    assert set(user[split.train].tolist()) == {0, 1, 2}
    assert (user[split.test] == 1).sum() == 2


def test_temporal_last_n_holds_out_each_users_latest():
    user = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 2])
    ts = torch.tensor([10, 40, 20, 30, 5, 6, 8, 7, 1])
    split = temporal_split(user, ts, last_n=1, val_last_n=1)
    _check_partition(split, user.numel())
    assert split.test.tolist() == [1, 6]  # ts 40 for user 0, ts 8 for user 1
    assert split.val.tolist() == [3, 7]  # the next latest
    for u in (0, 1):  # every training interaction predates validation and test
        mine = user == u
        latest_train = ts[split.train][mine[split.train]].max()
        assert latest_train < ts[split.val][mine[split.val]].min()


def test_temporal_cutoff_puts_everything_after_it_in_test():
    user = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    ts = torch.tensor([1, 2, 3, 9, 1, 8, 9, 2])
    split = temporal_split(user, ts, cutoff=8, val_last_n=1, min_interactions=3)
    _check_partition(split, user.numel())
    assert split.test.tolist() == [3, 5, 6]
    assert split.val.tolist() == [2]  # user 1 has only two interactions before the cut-off
    assert bool((ts[split.train] < 8).all())


def test_temporal_split_refuses_missing_timestamps():
    with pytest.raises(ValueError, match="timestamps"):
        temporal_split(torch.tensor([0, 0, 0]), torch.zeros(3, dtype=torch.long))


def test_stored_split_keeps_the_stored_test_set():
    interactions = Interactions.from_hetero(
        synthetic_hetero(num_users=30, interactions_per_user=12, stored_test_ratio=0.25)
    )
    split = stored_split(interactions.user, interactions.stored_split, val_ratio=0.2)
    _check_partition(split, len(interactions))
    assert torch.equal(split.test, (interactions.stored_split == 2).nonzero().view(-1))
    assert split.val.numel() > 0
    assert bool((interactions.stored_split[split.val] != 2).all())


def test_stored_split_without_test_edges_says_what_to_use():
    with pytest.raises(ValueError, match="random or temporal"):
        stored_split(torch.tensor([0, 0, 1]), torch.tensor([1, 1, 0]))


@pytest.mark.parametrize("method", ["random", "temporal", "stored"])
def test_rec_data_never_leaks_held_out_pairs_into_train(method):
    hetero = synthetic_hetero(num_users=50, interactions_per_user=10, stored_test_ratio=0.2)
    # Add duplicates of some pairs (a user who rated an item twice): still one split each.
    store = hetero["user", "interacted", "item"]
    store.edge_index = torch.cat([store.edge_index, store.edge_index[:, :30]], dim=1)
    store.ts = torch.cat([store.ts, store.ts[:30] + 1])
    store.split = torch.cat([store.split, store.split[:30]])
    data = RecData.from_hetero(hetero, split=method, seed=0)

    train, val, test = _pairs(data.train), _pairs(data.val), _pairs(data.test)
    assert test and not (train & test) and not (train & val) and not (val & test)
    assert len(train) + len(val) + len(test) == data.train.size(1) + data.val.size(
        1
    ) + data.test.size(1)
    # Nothing held out is a training positive for masking or negative sampling.
    assert not bool(data.train_items.contains(data.test[0], data.test[1]).any())


def test_rec_data_explains_a_split_without_test_items():
    hetero = synthetic_hetero(num_users=10, interactions_per_user=2)
    with pytest.raises(DataError, match="lower min_interactions"):
        RecData.from_hetero(hetero, split="random", min_interactions=3)
