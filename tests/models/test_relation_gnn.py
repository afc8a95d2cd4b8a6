import pytest
import torch

from graphrec.data import RecData, synthetic_hetero
from graphrec.models import RelationAwareGNN
from graphrec.models.propagation import SparsePattern


def test_a_sparse_relation_is_not_drowned_by_a_dense_one():
    """Item 0 has ten users and one co-engaged item. With neutral attention, the
    co-engaged item still carries half of item 0's update, not 1/11 of it."""
    users = torch.arange(10)
    edge_index = torch.stack([users, torch.zeros(10, dtype=torch.long)])
    co_engaged = torch.tensor([[0], [1]])  # item 0 -> item 1, relation 0
    model = RelationAwareGNN(
        10, 2, edge_index, co_engaged, torch.tensor([0]), embedding_dim=3, num_layers=1
    )
    with torch.no_grad():  # Zero attention parameters: every softmax is uniform.
        model.attention[0].weight.zero_()
        model.relation_embedding.weight.zero_()
    ego_users = model.user_embedding.weight
    ego_items = model.item_embedding.weight
    # Interactions use LightGCN's weights 1 / sqrt(deg(user) deg(item)) = 1 / sqrt(10).
    interaction_message = ego_users.sum(0) / 10**0.5
    update = 0.5 * interaction_message + 0.5 * ego_items[1]
    expected = (ego_items[0] + (ego_items[0] + update)) / 2  # mean of layers 0 and 1
    assert torch.allclose(model().item[0], expected, atol=1e-6)
    # Users have one relation only, so they get the whole interaction message.
    expected_user = (ego_users[3] + (ego_users[3] + ego_items[0] / 10**0.5)) / 2
    assert torch.allclose(model().user[3], expected_user, atol=1e-6)


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


def test_relations_cover_interactions_and_kg_in_both_directions():
    data = RecData.from_hetero(synthetic_hetero(num_users=12, num_items=9, num_tags=2))
    model = RelationAwareGNN.from_data(data, embedding_dim=4)
    assert model.num_relations == 2 * (1 + data.kg.num_relations)
    # Every KG edge is used once per direction; interactions go through the adjacency.
    assert model.kg_attention.nnz == 2 * data.kg.num_edges
    assert model.propagate.col.numel() == 2 * data.train.size(1)
    kg_relations = set(model.group_relation.tolist())
    assert kg_relations | set(model.interaction_relation.tolist()) == set(
        range(model.num_relations)
    )


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
