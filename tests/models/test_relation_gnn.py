import pytest
import torch

from graphrec.data import RecData, synthetic_hetero
from graphrec.models import RelationAwareGNN
from graphrec.models.propagation import SparsePattern


def _item_with_two_relations() -> RelationAwareGNN:
    """Items 0..9 share genre concept 0 (relation 0); item 0 alone has artist concept 1
    (relation 1). Ten users, each with one interaction."""
    users = torch.arange(10)
    edge_index = torch.stack([users, users])  # user u interacted with item u
    heads = torch.cat([torch.arange(10), torch.tensor([0])])
    tails = 10 + torch.cat([torch.zeros(10, dtype=torch.long), torch.tensor([1])])
    relations = torch.cat([torch.zeros(10, dtype=torch.long), torch.tensor([1])])
    return RelationAwareGNN(
        10, 10, edge_index, torch.stack([heads, tails]), relations,
        num_concepts=2, embedding_dim=3, num_layers=1, kg_layers=0,
    )  # fmt: skip


def test_a_sparse_relation_is_not_drowned_by_a_dense_one():
    """With neutral relation weights, item 0's genre (shared by ten items) and its artist
    (its own) each carry half of its semantic message."""
    model = _item_with_two_relations()
    genre, artist = model.concept_embedding.weight
    semantic = model.channel.item_messages(model.concept_embedding.weight)
    assert torch.allclose(semantic[0], 0.5 * genre + 0.5 * artist, atol=1e-6)
    assert torch.allclose(semantic[1], genre, atol=1e-6)  # one relation: all of it


def test_users_keep_lightgcn_propagation_and_items_add_the_gated_semantics():
    model = _item_with_two_relations()
    lightgcn = super(RelationAwareGNN, model).forward()  # the collaborative part alone
    emb = model()
    assert torch.allclose(emb.user, lightgcn.user)
    z = model.channel.propagate_concepts(model.concept_embedding.weight)
    expected = lightgcn.item + model.semantic_gate * model.channel.item_messages(z)
    assert torch.allclose(emb.item, expected)


def test_a_new_item_is_embedded_from_its_links_alone():
    """embed_new_item gives an unseen item exactly the semantic part a trained item with
    the same links gets: no retraining, no interaction needed."""
    model = _item_with_two_relations()
    with torch.no_grad():
        model.channel.logit.copy_(torch.randn_like(model.channel.logit))
        model.channel.transform.copy_(torch.randn_like(model.channel.transform))
        model.semantic_gate.fill_(0.7)
    new = model.embed_new_item(torch.tensor([0, 1]), torch.tensor([0, 1]))
    z = model.channel.propagate_concepts(model.concept_embedding.weight)
    assert torch.allclose(new, 0.7 * model.channel.item_messages(z)[0], atol=1e-6)
    params = model.inductive_params()
    assert params["gate"] == pytest.approx(0.7) and params["relations"] == {}


def test_edge_weights_weigh_the_mean_within_a_relation():
    users = torch.arange(2)
    heads, tails = torch.tensor([0, 0]), torch.tensor([2, 3])  # item 0 -> concepts 0 and 1
    model = RelationAwareGNN(
        2, 2, torch.stack([users, users]), torch.stack([heads, tails]), torch.zeros(2, dtype=torch.long),
        num_concepts=2, kg_edge_weight=torch.tensor([3.0, 1.0]), embedding_dim=2, kg_layers=0,
    )  # fmt: skip
    a, b = model.concept_embedding.weight
    assert torch.allclose(
        model.channel.item_messages(model.concept_embedding.weight)[0], 0.75 * a + 0.25 * b
    )
    model.channel.edge_weights = False
    assert torch.allclose(
        model.channel.item_messages(model.concept_embedding.weight)[0], 0.5 * (a + b)
    )


def test_the_kg_loss_is_added_when_asked():
    data = RecData.from_hetero(synthetic_hetero(num_users=12, num_items=9, num_tags=2))
    plain = RelationAwareGNN.from_data(data, embedding_dim=4)
    with_kg = RelationAwareGNN.from_data(data, embedding_dim=4, kg_loss_weight=1.0)
    with_kg.load_state_dict(plain.state_dict())
    users, items = data.train[:, :8]
    torch.manual_seed(0)
    base, _ = plain.bpr_loss(users, items, items.flip(0))
    torch.manual_seed(0)
    total, _ = with_kg.bpr_loss(users, items, items.flip(0))
    assert float(total.detach()) > float(base.detach())


def test_concept_embeddings_can_start_from_kge_vectors():
    data = RecData.from_hetero(synthetic_hetero(num_users=12, num_items=9, num_tags=2))
    vectors = torch.randn(data.kg.num_concepts, 8)
    model = RelationAwareGNN.from_data(data, embedding_dim=8, concept_embeddings=vectors)
    assert torch.equal(model.concept_embedding.weight, vectors)
    with torch.no_grad():
        model.concept_embedding.weight.zero_()
    model.reset_parameters()
    assert torch.equal(model.concept_embedding.weight, vectors)

    other = torch.randn(data.kg.num_concepts, 8)
    model.init_concept_embeddings(other)
    assert torch.equal(model.concept_embedding.weight, other)
    with pytest.raises(ValueError, match="same dimension"):
        model.init_concept_embeddings(torch.randn(data.kg.num_concepts, 5))


def test_every_kg_edge_reaches_the_channel_once_per_direction():
    data = RecData.from_hetero(synthetic_hetero(num_users=12, num_items=9, num_tags=2))
    model = RelationAwareGNN.from_data(data, embedding_dim=4)
    kg = data.kg
    head, tail = kg.edge_index
    item_concept = int(((head < 9) ^ (tail < 9)).sum())
    concept_concept = int(((head >= 9) & (tail >= 9)).sum())
    assert model.channel.items_source.numel() == item_concept
    assert model.channel.concepts_source.numel() == 2 * concept_concept
    assert model.propagate.col.numel() == 2 * data.train.size(1)


def test_works_without_a_knowledge_graph():
    data = RecData.from_hetero(synthetic_hetero(num_users=12, num_items=9))
    data.kg = None
    model = RelationAwareGNN.from_data(data, embedding_dim=4)
    emb = model()
    assert emb.concept.shape == (0, 4)
    assert emb.item.shape == (9, 4)


def test_sparse_pattern_products_and_gradients_match_dense_gathers():
    torch.manual_seed(0)
    row, col = torch.randint(0, 5, (30,)), torch.randint(0, 7, (30,))
    pattern = SparsePattern(row, col, num_rows=5, num_cols=7)
    assert pattern.nnz == len(set(zip(row.tolist(), col.tolist(), strict=True)))

    a = torch.randn(5, 4, requires_grad=True)
    b = torch.randn(7, 4, requires_grad=True)
    weights = torch.randn(pattern.nnz)
    sparse = pattern.sampled_dot(a, b)
    dense = (a[pattern.row] * b[pattern.col]).sum(-1)
    assert torch.allclose(sparse, dense, atol=1e-5)
    sparse_grads = torch.autograd.grad((sparse * weights).sum(), (a, b))
    dense_grads = torch.autograd.grad((dense * weights).sum(), (a, b))
    for got, expected in zip(sparse_grads, dense_grads, strict=True):
        assert torch.allclose(got, expected, atol=1e-5)

    values = torch.randn(pattern.nnz, requires_grad=True)
    x = torch.randn(7, 4, requires_grad=True)
    upstream = torch.randn(5, 4)
    sparse = pattern.weighted_sum(values, x)
    dense = torch.zeros(5, 4).index_add(0, pattern.row, x[pattern.col] * values[:, None])
    assert torch.allclose(sparse, dense, atol=1e-5)
    sparse_grads = torch.autograd.grad((sparse * upstream).sum(), (values, x))
    dense_grads = torch.autograd.grad((dense * upstream).sum(), (values, x))
    for got, expected in zip(sparse_grads, dense_grads, strict=True):
        assert torch.allclose(got, expected, atol=1e-5)
