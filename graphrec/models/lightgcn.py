"""LightGCN: linear propagation over the user-item graph."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import Embedding
from torch_geometric.data import Data

from graphrec.models.base import Embeddings, Recommender, Subgraph, gather_rows
from graphrec.models.propagation import (
    NormalizedAdjacency,
    SparsePattern,
    layer_sizes,
    sampled_weights,
)


class LightGCN(Recommender):
    r"""The LightGCN model from the `"LightGCN: Simplifying and Powering Graph
    Convolution Network for Recommendation" <https://arxiv.org/abs/2002.02126>`_
    paper.

    Embeddings are propagated linearly (no feature transform, no non-linearity)
    over the symmetric normalised user-item graph
    :math:`\hat{\mathbf{A}} = \mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2}`,

    .. math::
        \mathbf{E}^{(l+1)} = \hat{\mathbf{A}} \, \mathbf{E}^{(l)},

    and the final embedding combines the layers with weights :math:`\alpha_l`:

    .. math::
        \mathbf{e}_v = \sum_{l=0}^{L} \alpha_l \, \mathbf{e}^{(l)}_v,
        \qquad \hat{y}_{ui} = \mathbf{e}_u^\top \mathbf{e}_i .

    The adjacency is built once, as a ``torch.sparse`` CSR matrix, and each
    layer is one sparse product whose backward reuses the (symmetric) matrix
    instead of transposing it.

    For mini-batch training (:mod:`graphrec.training.minibatch`), :meth:`forward_sampled`
    propagates over a sampled subgraph instead. A node :math:`v` that kept
    :math:`s_v` of its :math:`d_v` neighbours :math:`\mathcal{N}(v)` gets

    .. math::
        \hat{\mathbf{e}}^{(l+1)}_v = \frac{d_v}{s_v} \sum_{u \in S_v}
        \frac{\hat{\mathbf{e}}^{(l)}_u}{\sqrt{d_v d_u}},

    with the degrees of the whole graph (not of the subgraph), so that each
    layer is an unbiased estimate of the full propagation (each neighbour is
    kept with probability :math:`s_v / d_v`, independently of how the
    neighbour's own value was estimated); only the seeds' outputs are used.
    :meth:`inference` computes the exact propagation layer by layer, a chunk
    of rows at a time, with no autograd state.

    Args:
        num_users (int): Number of users :math:`U`.
        num_items (int): Number of items :math:`I`.
        edge_index (torch.Tensor): Training ``(user, item)`` pairs, shape
            :math:`(2, E)`. Only these edges are propagated over.
        embedding_dim (int, optional): Embedding size :math:`D`. (default: :obj:`64`)
        num_layers (int, optional): Propagation layers :math:`L`. (default: :obj:`3`)
        alpha (float or torch.Tensor, optional): Layer weights :math:`\alpha_l`,
            a scalar or a vector of :math:`L + 1` entries. :obj:`None` means
            :math:`1 / (L + 1)` for every layer. (default: :obj:`None`)
        init_std (float, optional): Standard deviation of the normal
            initialisation of :math:`\mathbf{E}^{(0)}`. (default: :obj:`0.1`)

    Shapes:
        - **input:** ``edge_index`` :math:`(2, E)` at construction
        - **output:** :class:`Embeddings` with user :math:`(U, D)`, item :math:`(I, D)`
    """

    supports_minibatch = True

    def __init__(
        self,
        num_users: int,
        num_items: int,
        edge_index: Tensor,
        embedding_dim: int = 64,
        num_layers: int = 3,
        alpha: float | Tensor | None = None,
        init_std: float = 0.1,
    ) -> None:
        super().__init__(num_users, num_items)
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.init_std = init_std
        if alpha is None:
            alpha = 1.0 / (num_layers + 1)
        alpha = torch.as_tensor(alpha, dtype=torch.float).flatten()
        if alpha.numel() == 1:
            alpha = alpha.repeat(num_layers + 1)
        if alpha.numel() != num_layers + 1:
            raise ValueError(f"alpha needs {num_layers + 1} entries, got {alpha.numel()}")
        self.register_buffer("alpha", alpha)
        self.user_embedding = Embedding(num_users, embedding_dim)
        self.item_embedding = Embedding(num_items, embedding_dim)
        self.propagate = NormalizedAdjacency(edge_index, num_users, num_items)
        self.reset_parameters()

    def forward(self) -> Embeddings:
        x = torch.cat([self.user_embedding.weight, self.item_embedding.weight])
        out = x * self.alpha[0]
        for layer in range(self.num_layers):
            x = self.propagate(x)
            out = out + x * self.alpha[layer + 1]
        user, item = out.split([self.num_users, self.num_items])
        return Embeddings(user, item)

    def reset_parameters(self) -> None:
        torch.nn.init.normal_(self.user_embedding.weight, std=self.init_std)
        torch.nn.init.normal_(self.item_embedding.weight, std=self.init_std)

    @torch.no_grad()
    def get_embedding(self) -> Embeddings:
        if self.inference_chunk_size:
            return self.inference(self.inference_chunk_size)
        return super().get_embedding()

    def sampling_graph(self) -> Data:
        """Users then items; each training interaction is an edge in both directions."""
        crow, col = self.propagate.crow.long().cpu(), self.propagate.col.long().cpu()
        num_nodes = self.propagate.num_nodes
        destination = torch.repeat_interleave(torch.arange(num_nodes), crow[1:] - crow[:-1])
        return Data(edge_index=torch.stack([col, destination]), num_nodes=num_nodes)

    def forward_sampled(self, subgraph: Subgraph, *, sparse: bool = False) -> tuple[Tensor, Tensor]:
        x = gather_rows(self.embedding_tables(), subgraph.node, sparse=sparse)
        num_seeds = subgraph.num_seeds
        ego = x[:num_seeds]
        out = ego * self.alpha[0]
        degree = self.propagate.degree()
        source, destination = subgraph.edge_index
        sizes = layer_sizes(subgraph.num_sampled_nodes, subgraph.num_sampled_edges, self.num_layers)
        for layer, (num_dst, num_src, num_edges) in enumerate(sizes):
            pattern = SparsePattern(destination[:num_edges], source[:num_edges], num_dst, num_src)
            weight = sampled_weights(
                pattern,
                degree.index_select(0, subgraph.node.index_select(0, pattern.row)),
                degree.index_select(0, subgraph.node.index_select(0, pattern.col)),
            )
            x = pattern.weighted_sum(weight, x[:num_src])
            out = out + x[:num_seeds] * self.alpha[layer + 1]
        return out, ego

    @torch.no_grad()
    def inference(self, chunk_size: int = 65_536) -> Embeddings:
        x = torch.cat([self.user_embedding.weight, self.item_embedding.weight])
        out = x * self.alpha[0]
        num_nodes = x.size(0)
        for layer in range(self.num_layers):
            after = torch.empty_like(x)
            for start in range(0, num_nodes, chunk_size):
                stop = min(start + chunk_size, num_nodes)
                after[start:stop] = torch.sparse.mm(self.propagate.rows(start, stop, x.dtype), x)
            out.add_(after, alpha=float(self.alpha[layer + 1]))
            x = after
        user, item = out.split([self.num_users, self.num_items])
        return Embeddings(user, item)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, embedding_dim={self.embedding_dim}, "
            f"num_layers={self.num_layers}"
        )
