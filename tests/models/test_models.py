"""The checks every registered model must pass; adding a model adds it here."""

import pytest
import torch
from torch_geometric.data import HeteroData

from graphrec.data import RecData, synthetic_hetero
from graphrec.models import MODELS, Recommender, UnknownModelError, get_model, model_name

SMALL = {
    "mf": {"embedding_dim": 8},
    "lightgcn": {"embedding_dim": 8, "num_layers": 2},
    "ngcf": {"embedding_dim": 8, "num_layers": 2},
    "relgnn": {"embedding_dim": 8, "num_layers": 2},
    "kgat": {"embedding_dim": 8, "num_layers": 2, "relation_dim": 8},
    "kgin": {"embedding_dim": 8, "num_layers": 2},
    "most_popular": {},
}


@pytest.fixture(scope="module")
def data() -> RecData:
    hetero = synthetic_hetero(num_users=30, num_items=24, interactions_per_user=6, seed=0)
    return RecData.from_hetero(hetero, seed=0)


def build(name: str, data: RecData, seed: int = 0) -> Recommender:
    torch.manual_seed(seed)
    return MODELS[name].from_data(data, **SMALL[name])


def test_every_registered_model_has_small_settings():
    assert set(SMALL) == set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_output_shapes(name, data):
    model = build(name, data)
    emb = model()
    assert emb.user.dim() == emb.item.dim() == 2
    assert emb.user.size(0) == data.num_users
    assert emb.item.size(0) == data.num_items
    assert emb.user.size(1) == emb.item.size(1)
    assert torch.isfinite(emb.user).all() and torch.isfinite(emb.item).all()
    if emb.concept is not None:
        assert emb.concept.shape == (data.kg.num_concepts, emb.item.size(1))
    users, items = data.train[:, :5]
    pair_scores = model.score(emb, users, items)
    all_scores = model.score_all(emb, users)
    assert all_scores.shape == (5, data.num_items)
    assert torch.allclose(pair_scores, all_scores[torch.arange(5), items], atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_reset_parameters_changes_and_restores_state(name, data):
    model = build(name, data)
    torch.manual_seed(7)
    model.reset_parameters()
    initial = {key: value.clone() for key, value in model.state_dict().items()}
    tensors = list(model.parameters()) or [model.popularity]
    with torch.no_grad():
        for tensor in tensors:
            tensor.add_(1.0)
    assert any(not torch.equal(initial[key], value) for key, value in model.state_dict().items())
    torch.manual_seed(7)
    model.reset_parameters()
    for key, value in model.state_dict().items():
        assert torch.equal(initial[key], value), key


@pytest.mark.parametrize("name", MODELS)
def test_a_few_gradient_steps_lower_the_bpr_loss(name, data):
    model = build(name, data)
    if not model.trainable:
        pytest.skip(f"{name} is fitted by counting, not by gradient steps")
    users, pos_items = data.train
    neg_items = torch.randint(
        data.num_items, users.shape, generator=torch.Generator().manual_seed(0)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

    def eval_loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(model.bpr_loss(users, pos_items, neg_items, reg=1e-4)[0])

    before = eval_loss()
    model.train()
    for _ in range(15):
        loss, l2 = model.bpr_loss(users, pos_items, neg_items, reg=1e-4)
        assert 0 < l2.item() < loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert eval_loss() < before - 0.05


@pytest.mark.parametrize("name", MODELS)
def test_recommend_excludes_seen_items(name, data):
    model = build(name, data)
    users = torch.arange(data.num_users)
    top = model.recommend(users, k=10, exclude=data.train_items)
    assert top.items.shape == top.scores.shape == (data.num_users, 10)
    assert bool((top.scores[:, :-1] >= top.scores[:, 1:]).all())
    assert not bool(
        data.train_items.contains(users.repeat_interleave(10), top.items.reshape(-1)).any()
    )

    # The same with plain lists, one per requested user.
    chosen = torch.tensor([3, 0])
    exclude = [data.train_items.items_of(3).tolist(), data.train_items.items_of(0).tolist()]
    from_lists = model.recommend(chosen, k=5, exclude=exclude).items
    for row in range(len(chosen)):
        assert not set(from_lists[row].tolist()) & set(exclude[row])
        assert len(set(from_lists[row].tolist())) == 5


@pytest.mark.parametrize("name", MODELS)
def test_determinism_under_a_seed(name, data):
    first, again = build(name, data, seed=1), build(name, data, seed=1)
    for key, value in first.state_dict().items():
        assert torch.equal(value, again.state_dict()[key])
    assert torch.equal(first.get_embedding().item, again.get_embedding().item)
    other = build(name, data, seed=2)
    if list(first.parameters()):
        assert not torch.equal(first.get_embedding().item, other.get_embedding().item)


@pytest.mark.parametrize("name", MODELS)
def test_state_dict_round_trip(name, data):
    trained = build(name, data, seed=3)
    fresh = build(name, data, seed=4)
    fresh.load_state_dict(trained.state_dict())
    assert torch.allclose(fresh.get_embedding().user, trained.get_embedding().user)


def _with_held_out_items(items: tuple[int, int]) -> HeteroData:
    """The synthetic graph's interactions of items 0-19 as training, plus held-out
    interactions of every user with two of the items 20-23, which no training
    interaction touches: enough shared users to co-engage those two items."""
    hetero = synthetic_hetero(num_users=30, num_items=20, interactions_per_user=6, seed=0)
    hetero["item"].num_nodes = 24
    store = hetero["user", "interacted", "item"]
    users = torch.arange(30)
    held_out = torch.cat([torch.stack([users, torch.full_like(users, item)]) for item in items], 1)
    count = held_out.size(1)
    store.edge_index = torch.cat([store.edge_index, held_out], dim=1)
    store.ts = torch.cat([store.ts, torch.full((count,), 10**9)])
    store.weight = torch.cat([store.weight, torch.ones(count)])
    store.split = torch.cat([torch.ones_like(store.split), torch.full((count,), 2)])
    return hetero


@pytest.mark.parametrize("name", MODELS)
def test_models_see_only_training_interactions(name):
    """Two graphs with the same training interactions and different held-out ones give
    identical models: nothing held out reaches a model, derived knowledge-graph inputs
    (co-engagement, which the held-out pairs alone would create) included."""
    one = RecData.from_hetero(_with_held_out_items((20, 21)), split="stored", val_ratio=0.0)
    two = RecData.from_hetero(_with_held_out_items((22, 23)), split="stored", val_ratio=0.0)
    assert torch.equal(one.train, two.train) and not torch.equal(one.test, two.test)
    a, b = build(name, one, seed=5), build(name, two, seed=5)
    assert torch.allclose(a.get_embedding().item, b.get_embedding().item)
    assert torch.equal(one.kg.edge_index, two.kg.edge_index)
    assert torch.equal(one.kg.edge_type, two.kg.edge_type)


def test_registry_resolves_names_and_classes(data):
    lightgcn = get_model("LightGCN", num_users=3, num_items=4, edge_index=torch.tensor([[0], [1]]))
    assert model_name(lightgcn) == "lightgcn"
    mf_class = MODELS["mf"]
    assert isinstance(get_model(mf_class, num_users=3, num_items=4), mf_class)
    with pytest.raises(UnknownModelError, match="known models: mf, lightgcn, ngcf, relgnn"):
        get_model("transformer")
    with pytest.raises(TypeError):
        get_model(torch.nn.Linear)
