"""NGCF: graph convolution with feature transforms and a bi-interaction term."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, Linear, ModuleList

from graphrec.models.base import Embeddings, Recommender
from graphrec.models.propagation import NormalizedAdjacency


class NGCF(Recommender):
    r"""Neural Graph Collaborative Filtering from the `"Neural Graph
    Collaborative Filtering" <https://arxiv.org/abs/1905.08108>`_ paper.

    Each layer passes messages over the normalised user-item graph
    :math:`\mathcal{L} = \mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2}` with a
    feature transform and an element-wise "bi-interaction" term:

    .. math::
        \mathbf{E}^{(l+1)} = \mathrm{LeakyReLU}\Big(
        (\mathcal{L} + \mathbf{I})\,\mathbf{E}^{(l)} \mathbf{W}^{(l)}_1
        + \big(\mathcal{L}\mathbf{E}^{(l)} \odot \mathbf{E}^{(l)}\big)
        \mathbf{W}^{(l)}_2 \Big)

    Message dropout is applied to each layer's output, which is then
    :math:`L_2`-normalised; the final embedding concatenates all layers,
    :math:`\mathbf{e}_v = \mathbf{e}^{(0)}_v \,\|\, \cdots \,\|\, \mathbf{e}^{(L)}_v`.

    Args:
        num_users (int): Number of users :math:`U`.
        num_items (int): Number of items :math:`I`.
        edge_index (torch.Tensor): Training ``(user, item)`` pairs, shape :math:`(2, E)`.
        embedding_dim (int, optional): Size :math:`D` of every layer. (default: :obj:`64`)
        num_layers (int, optional): Propagation layers :math:`L`. (default: :obj:`3`)
        message_dropout (float, optional): Dropout probability on each layer's
            output while training. (default: :obj:`0.1`)
        init_std (float, optional): Standard deviation of the normal
            initialisation of :math:`\mathbf{E}^{(0)}`. (default: :obj:`0.1`)

    Shapes:
        - **input:** ``edge_index`` :math:`(2, E)` at construction
        - **output:** :class:`Embeddings` with user :math:`(U, (L+1)D)`,
          item :math:`(I, (L+1)D)`
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        edge_index: Tensor,
        embedding_dim: int = 64,
        num_layers: int = 3,
        message_dropout: float = 0.1,
        init_std: float = 0.1,
    ) -> None:
        super().__init__(num_users, num_items)
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.message_dropout = message_dropout
        self.init_std = init_std
        self.user_embedding = Embedding(num_users, embedding_dim)
        self.item_embedding = Embedding(num_items, embedding_dim)
        self.transform = ModuleList(
            [Linear(embedding_dim, embedding_dim) for _ in range(num_layers)]
        )
        self.interaction = ModuleList(
            [Linear(embedding_dim, embedding_dim) for _ in range(num_layers)]
        )
        self.propagate = NormalizedAdjacency(edge_index, num_users, num_items)
        self.reset_parameters()

    def forward(self) -> Embeddings:
        x = torch.cat([self.user_embedding.weight, self.item_embedding.weight])
        layers = [x]
        for transform, interaction in zip(self.transform, self.interaction, strict=True):
            side = self.propagate(x)
            x = F.leaky_relu(transform(side + x) + interaction(side * x), negative_slope=0.2)
            x = F.dropout(x, p=self.message_dropout, training=self.training)
            layers.append(F.normalize(x, dim=-1))
        user, item = torch.cat(layers, dim=-1).split([self.num_users, self.num_items])
        return Embeddings(user, item)

    def reset_parameters(self) -> None:
        torch.nn.init.normal_(self.user_embedding.weight, std=self.init_std)
        torch.nn.init.normal_(self.item_embedding.weight, std=self.init_std)
        for linear in [*self.transform, *self.interaction]:
            torch.nn.init.xavier_uniform_(linear.weight)
            torch.nn.init.zeros_(linear.bias)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, embedding_dim={self.embedding_dim}, "
            f"num_layers={self.num_layers}, message_dropout={self.message_dropout}"
        )
