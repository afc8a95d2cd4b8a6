import torch
from torch_geometric.nn.models import LightGCN as PyGLightGCN

from graphrec.data import RecData, synthetic_hetero
from graphrec.models import NGCF, LightGCN


def _data() -> RecData:
    return RecData.from_hetero(
        synthetic_hetero(num_users=12, num_items=10, interactions_per_user=4)
    )


def test_lightgcn_matches_pyg_lightgcn():
    data = _data()
    ours = LightGCN.from_data(data, embedding_dim=6, num_layers=3)
    num_nodes = data.num_users + data.num_items
    user, item = data.train
    edge_index = torch.stack(
        [torch.cat([user, item + data.num_users]), torch.cat([item + data.num_users, user])]
    )
    reference = PyGLightGCN(num_nodes, 6, num_layers=3)
    with torch.no_grad():
        reference.embedding.weight.copy_(
            torch.cat([ours.user_embedding.weight, ours.item_embedding.weight])
        )
    expected = reference.get_embedding(edge_index)
    emb = ours()
    assert torch.allclose(torch.cat([emb.user, emb.item]), expected, atol=1e-5)


def test_symmetric_backward_gives_the_dense_gradient():
    data = _data()
    model = LightGCN.from_data(data, embedding_dim=4, num_layers=2)
    adjacency = model.propagate.matrix().to_dense()
    assert torch.allclose(adjacency, adjacency.t())

    x = torch.randn(adjacency.size(0), 4, requires_grad=True)
    weight = torch.randn(adjacency.size(0), 4)
    (model.propagate(model.propagate(x)) * weight).sum().backward()
    sparse_grad = x.grad.clone()
    x.grad = None
    (adjacency @ (adjacency @ x) * weight).sum().backward()
    assert torch.allclose(sparse_grad, x.grad, atol=1e-5)


def test_lightgcn_layer_weights():
    data = _data()
    only_ego = LightGCN.from_data(
        data, embedding_dim=4, num_layers=2, alpha=torch.tensor([1.0, 0, 0])
    )
    assert torch.allclose(only_ego().user, only_ego.user_embedding.weight)
    assert torch.allclose(LightGCN.from_data(data, num_layers=3).alpha, torch.full((4,), 0.25))


def test_ngcf_message_dropout_only_while_training():
    data = _data()
    model = NGCF.from_data(data, embedding_dim=4, num_layers=2, message_dropout=0.5)
    model.train()
    assert not torch.equal(model().user, model().user)
    model.eval()
    assert torch.equal(model().user, model().user)
    assert model().user.size(1) == 4 * 3  # the layers are concatenated
