import pytest
import torch
import torch.nn.functional as F

from graphrec.data import RecData, synthetic_hetero
from graphrec.models import KGAT
from graphrec.models.ckg import corrupt_tails
from graphrec.training import Trainer

# A hand-made graph: 3 users, 4 items, 2 concepts (entities 4 and 5).
INTERACTIONS = torch.tensor([[0, 0, 1, 1, 2], [0, 1, 1, 2, 3]])
# (head, tail, relation) in entity indices; item 0 links to concept 4 by two relations.
KG = [(0, 4, 0), (1, 4, 0), (3, 4, 0), (0, 4, 1), (2, 5, 1), (4, 5, 2)]


def _model(**kwargs) -> KGAT:
    torch.manual_seed(0)
    kg_edge_index = torch.tensor([[h for h, _, _ in KG], [t for _, t, _ in KG]])
    kg_edge_type = torch.tensor([r for _, _, r in KG])
    options = {"embedding_dim": 4, "num_layers": 2, "relation_dim": 3, "message_dropout": 0.0}
    return KGAT(3, 4, INTERACTIONS, kg_edge_index, kg_edge_type, num_concepts=2, **options | kwargs)


def _reference_triples() -> list[tuple[int, int, int]]:
    """The CKG written out by hand: users 0-2, items 3-6, concepts 7-8."""
    triples = []
    for user, item in INTERACTIONS.t().tolist():
        triples += [(user, 0, 3 + item), (3 + item, 1, user)]
    for head, tail, relation in KG:
        triples += [(3 + head, 2 + 2 * relation, 3 + tail), (3 + tail, 3 + 2 * relation, 3 + head)]
    return triples


def _reference_attention(model: KGAT, x: torch.Tensor) -> dict[tuple[int, int, int], float]:
    """pi(h, r, t) = (W_r e_t)^T tanh(W_r e_h + e_r), softmax over each head's triples."""
    transform, relation = model.relation_transform, model.relation_embedding.weight
    triples = _reference_triples()
    score = torch.stack(
        [
            (x[t] @ transform[r]) @ torch.tanh(x[h] @ transform[r] + relation[r])
            for h, r, t in triples
        ]
    )
    weights = {}
    for head in {h for h, _, _ in triples}:
        mine = [j for j, (h, _, _) in enumerate(triples) if h == head]
        for j, weight in zip(mine, torch.softmax(score[mine], 0).tolist(), strict=True):
            weights[triples[j]] = weight
    return weights


def test_attention_is_a_softmax_over_each_heads_triples():
    model = _model()
    weight = model.attention()
    triples = list(
        zip(
            model.triple_head.tolist(),
            model.triple_relation.tolist(),
            model.triple_tail.tolist(),
            strict=True,
        )
    )
    assert sorted(triples) == sorted(_reference_triples())
    per_head = torch.zeros(model.num_nodes).index_add_(0, model.triple_head, weight)
    assert torch.allclose(per_head, torch.ones(model.num_nodes), atol=1e-6)  # every node heads
    expected = _reference_attention(model, model._ego().detach())
    for triple, value in zip(triples, weight.tolist(), strict=True):
        assert value == pytest.approx(expected[triple], abs=1e-6), triple


def test_propagation_follows_the_bi_interaction_equations():
    model = _model().eval()
    x = model._ego().detach()
    adjacency = torch.zeros(model.num_nodes, model.num_nodes)
    for (head, _, tail), weight in _reference_attention(model, x).items():
        adjacency[head, tail] += weight  # item 0 and concept 4 share two relations
    layers = [x]
    for sum_transform, product_transform in zip(
        model.sum_transform, model.product_transform, strict=True
    ):
        side = adjacency @ x
        x = F.leaky_relu(sum_transform(x + side), 0.2) + F.leaky_relu(
            product_transform(x * side), 0.2
        )
        layers.append(x / x.norm(dim=-1, keepdim=True))
    expected = torch.cat(layers, dim=-1)
    emb = model()
    assert emb.user.shape == (3, 4 + 4 + 2)  # d + d/2 + d/4 by default
    assert torch.allclose(torch.cat([emb.user, emb.item, emb.concept]), expected, atol=1e-5)


def test_transr_loss_is_positive_and_falls_when_trained_alone():
    model = _model()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)

    def fixed_sample() -> float:
        return model.transr_loss(200, torch.Generator().manual_seed(1))[0].item()

    before = fixed_sample()
    assert before > 0
    torch.manual_seed(2)
    for _ in range(40):
        loss, squares = model.transr_loss(64)
        assert loss > 0 and squares > 0
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert fixed_sample() < before - 0.1


def test_corrupted_tails_never_form_true_triples():
    model = _model()
    torch.manual_seed(0)
    head = model.triple_head.repeat(50)
    relation = model.triple_relation.repeat(50)
    tail = corrupt_tails(model.triple_key, head, relation, model.num_nodes, model.num_relations)
    true = set(_reference_triples())
    assert not any(
        triple in true
        for triple in zip(head.tolist(), relation.tolist(), tail.tolist(), strict=True)
    )
    assert tail.unique().numel() > 1


def test_the_ranking_loss_does_not_train_the_attention():
    """As in the authors' code, W_r and e_r learn from the TransR term only."""
    model = _model(kg_weight=0.0)
    users, items = INTERACTIONS
    loss, _ = model.bpr_loss(users, items, (items + 1) % 4, reg=1e-4)
    loss.backward()
    assert model.relation_transform.grad is None and model.relation_embedding.weight.grad is None
    assert model.user_embedding.weight.grad.abs().sum() > 0

    with_kg = _model()
    with_kg.bpr_loss(users, items, (items + 1) % 4, reg=1e-4)[0].backward()
    assert with_kg.relation_transform.grad.abs().sum() > 0


def test_kg_batch_follows_the_ranking_batch():
    model = _model()
    assert model.num_triples == 2 * (5 + len(KG))
    assert model._kg_batch(5) == model.num_triples  # a batch of all interactions
    assert model._kg_batch(1) == -(-model.num_triples // 5)
    assert _model(kg_batch_size=7)._kg_batch(1) == 7


def test_trains_without_a_knowledge_graph():
    data = RecData.from_hetero(synthetic_hetero(num_users=12, num_items=9, num_tags=2))
    data.kg = None
    torch.manual_seed(0)
    model = KGAT.from_data(data, embedding_dim=8, num_layers=2, relation_dim=4)
    assert model.num_relations == 2 and model.num_triples == 2 * data.train.size(1)
    assert model().concept.shape == (0, 8 + 8 + 4)
    users, items = data.train
    negatives = torch.randint(
        data.num_items, users.shape, generator=torch.Generator().manual_seed(0)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(20):
        loss, _ = model.bpr_loss(users, items, negatives, reg=1e-5)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.1


def test_hidden_dims_must_match_the_layers():
    with pytest.raises(ValueError, match="must give 2 sizes"):
        _model(hidden_dims=[4, 4, 4])
    assert _model(hidden_dims=[5, 3])().item.shape == (4, 4 + 5 + 3)


def test_training_batches_refresh_the_attention_once_per_epoch():
    model = _model()
    users, items = INTERACTIONS
    negatives = (items + 1) % 4
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)

    def step(batch: slice) -> None:
        loss, _ = model.bpr_loss(users[batch], items[batch], negatives[batch], reg=1e-4)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step(slice(0, 3))
    first = model.epoch_attention.clone()
    step(slice(3, 5))  # the rest of the epoch (5 interactions) keeps it
    assert torch.equal(model.epoch_attention, first)
    stale = model().user  # training mode: the epoch's attention
    model.eval()
    assert not torch.allclose(model().user, stale)  # evaluation: computed afresh
    model.train()  # the trainer's start of an epoch
    assert model.epoch_attention is None
    step(slice(0, 5))
    second = model.epoch_attention.clone()
    assert not torch.equal(second, first)
    step(slice(0, 5))  # an epoch's worth of interactions later, without train()
    assert not torch.equal(model.epoch_attention, second)
    model.load_state_dict(model.state_dict())
    assert model.epoch_attention is None


def test_a_resumed_run_matches_an_uninterrupted_one(tmp_path):
    """The epoch's attention is not in the checkpoint; recomputed at the resumed epoch's
    first batch, it is the one the uninterrupted run uses."""
    data = RecData.from_hetero(synthetic_hetero(num_users=40, num_items=30, seed=0), seed=0)
    config = {"model": "kgat", "model_kwargs": {}, "data": None}

    def trainer() -> Trainer:
        torch.manual_seed(0)
        model = KGAT.from_data(data, embedding_dim=8, num_layers=2, relation_dim=4)
        return Trainer(model, data, batch_size=64, seed=0)

    uninterrupted = trainer()
    uninterrupted.run_epoch()
    uninterrupted.run_epoch()
    first = trainer()
    first.run_epoch()
    first.save(tmp_path / "checkpoint.pt", config)
    resumed = trainer()
    resumed.load(tmp_path / "checkpoint.pt", config)
    resumed.run_epoch()
    for key, value in uninterrupted.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
