import pytest
import torch
import torch.nn.functional as F

from graphrec.data import RecData, synthetic_hetero
from graphrec.models import KGIN
from graphrec.models.kgin import distance_correlation

# A hand-made graph: 3 users, 4 items, 2 concepts (entities 4 and 5).
INTERACTIONS = torch.tensor([[0, 0, 1, 1, 2], [0, 1, 1, 2, 3]])
# (head, tail, relation) in entity indices; item 0 links to concept 4 by two relations.
KG = [(0, 4, 0), (1, 4, 0), (3, 4, 0), (0, 4, 1), (2, 5, 1), (4, 5, 2)]


def _model(**kwargs) -> KGIN:
    torch.manual_seed(0)
    kg_edge_index = torch.tensor([[h for h, _, _ in KG], [t for _, t, _ in KG]])
    kg_edge_type = torch.tensor([r for _, _, r in KG])
    options = {"embedding_dim": 4, "num_layers": 2, "num_intents": 3}
    return KGIN(3, 4, INTERACTIONS, kg_edge_index, kg_edge_type, num_concepts=2, **options | kwargs)


def test_intents_are_attentive_combinations_of_relations():
    model = _model()
    relations = model.relation_embedding.weight
    assert relations.size(0) == 2 * 3  # every relation and its inverse
    alpha = torch.softmax(model.intent_weight, dim=-1)
    assert torch.allclose(alpha.sum(-1), torch.ones(3))
    assert torch.allclose(model.intents(), alpha @ relations)
    with torch.no_grad():
        model.intent_weight.zero_()  # equal weights: every intent is the mean relation
    assert torch.allclose(model.intents(), relations.mean(0).expand(3, -1), atol=1e-6)


def test_propagation_follows_the_paper_equations():
    """Intent-aware user aggregation and relational-path-aware entity aggregation,
    written out with loops over the hand-made graph."""
    model = _model().eval()
    relations = model.relation_embedding.weight.detach()
    intents = model.intents().detach()
    neighbours = {entity: [] for entity in range(6)}  # entity -> [(relation code, tail)]
    for head, tail, relation in KG:
        neighbours[head].append((2 * relation, tail))
        neighbours[tail].append((2 * relation + 1, head))
    items_of = {user: [] for user in range(3)}
    for user, item in INTERACTIONS.t().tolist():
        items_of[user].append(item)

    user = model.user_embedding.weight.detach()
    entity = torch.cat([model.item_embedding.weight, model.concept_embedding.weight]).detach()
    user_sum, entity_sum = user.clone(), entity.clone()
    for _ in range(2):
        beta = torch.softmax(user @ intents.t(), dim=-1)
        next_user = torch.stack(
            [
                torch.stack([(beta[u] @ intents) * entity[i] for i in items_of[u]]).mean(0)
                for u in range(3)
            ]
        )
        next_entity = torch.stack(
            [
                torch.stack([relations[r] * entity[v] for r, v in neighbours[e]]).mean(0)
                for e in range(6)
            ]
        )
        user, entity = F.normalize(next_user, dim=-1), F.normalize(next_entity, dim=-1)
        user_sum, entity_sum = user_sum + user, entity_sum + entity
    emb = model()
    assert torch.allclose(emb.user, user_sum, atol=1e-5)
    assert torch.allclose(torch.cat([emb.item, emb.concept]), entity_sum, atol=1e-5)


def test_distance_correlation_matches_its_definition():
    torch.manual_seed(0)
    x = torch.randn(3, 16)
    x[1] = 2.0 * x[0] - 1.0  # an affine copy: distance correlation 1
    dcor = distance_correlation(x)
    assert torch.allclose(dcor, dcor.t())
    assert torch.allclose(dcor.diagonal(), torch.ones(3), atol=1e-4)
    assert dcor[0, 1] == pytest.approx(1.0, abs=1e-4)
    assert 0.0 <= float(dcor[0, 2]) < 1.0

    def by_hand(a: torch.Tensor, b: torch.Tensor) -> float:
        def centred(v: torch.Tensor) -> torch.Tensor:
            d = (v[:, None] - v[None, :]).abs()
            return d - d.mean(0) - d.mean(1, keepdim=True) + d.mean()

        A, B = centred(a), centred(b)
        return float((A * B).mean().sqrt() / ((A * A).mean().sqrt() * (B * B).mean().sqrt()).sqrt())

    assert float(dcor[0, 2]) == pytest.approx(by_hand(x[0], x[2]), abs=1e-4)


@pytest.mark.parametrize("independence", ["distance", "cosine"])
def test_independence_term_is_positive_and_falls_when_trained_alone(independence):
    model = _model(independence=independence, num_intents=4)
    optimizer = torch.optim.Adam([model.intent_weight, model.relation_embedding.weight], lr=0.05)
    before = model.independence_loss().item()
    assert before > 0
    for _ in range(30):
        loss = model.independence_loss()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert model.independence_loss().item() < 0.8 * before


def test_bpr_loss_adds_the_weighted_independence_term():
    model = _model(independence_weight=0.5).eval()
    users, items = INTERACTIONS
    loss, l2 = model.bpr_loss(users, items, (items + 1) % 4, reg=1e-3)
    plain = _model(independence_weight=0.0).eval()
    plain_loss, plain_l2 = plain.bpr_loss(users, items, (items + 1) % 4, reg=1e-3)
    assert torch.allclose(l2, plain_l2)
    assert loss.item() == pytest.approx(plain_loss.item() + 0.5 * model.independence_loss().item())


def test_node_dropout_samples_edges_while_training_only():
    model = _model(node_dropout=0.5, message_dropout=0.0)
    model.eval()
    assert torch.equal(model().item, model().item)
    model.train()
    torch.manual_seed(0)
    first, second = model().item, model().item
    assert not torch.allclose(first, second)


def test_trains_without_a_knowledge_graph():
    data = RecData.from_hetero(synthetic_hetero(num_users=12, num_items=9, num_tags=2))
    data.kg = None
    torch.manual_seed(0)
    model = KGIN.from_data(data, embedding_dim=8, num_layers=2)
    assert model.num_relations == 0
    assert torch.equal(model.intents(), torch.zeros(4, 8))
    assert model.independence_loss().item() == 0.0
    assert model().concept.shape == (0, 8)
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
