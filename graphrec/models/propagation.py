"""Sparse message passing built on fused ``torch.sparse`` kernels.

:class:`NormalizedAdjacency` holds the normalised user-item graph of LightGCN
and NGCF. :class:`SparsePattern` holds a fixed pattern whose values (attention
weights) change on every call, for the relation-aware GNN. Both are built once,
when the model is created; each product is then one ``torch.sparse`` kernel,
and no tensor with a row per edge is ever materialised (on CPU, gathering and
scattering such rows costs far more than the fused kernels).

For mini-batch training (:mod:`graphrec.training.minibatch`), :func:`layer_sizes` says
which prefix of a sampled subgraph each layer computes, and
:func:`sampled_weights` rescales a sampled adjacency so that each layer is an
unbiased estimate of the full one.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence

import torch
from torch import Tensor


class NormalizedAdjacency(torch.nn.Module):
    r"""Multiplies node features by the normalised user-item adjacency.

    Nodes are the users followed by the items (item :math:`i` is node
    :math:`U + i`); every training interaction is an edge in both directions:

    .. math::
        \hat{\mathbf{A}} = \mathbf{D}^{-1/2} \mathbf{A} \mathbf{D}^{-1/2},
        \qquad
        \mathbf{A} = \begin{pmatrix} \mathbf{0} & \mathbf{R} \\
        \mathbf{R}^\top & \mathbf{0} \end{pmatrix}

    The matrix is kept as three plain buffers (CSR row pointers, columns,
    values), so the module moves between devices, copies and pickles like any
    other; the CSR tensor wrapping them is made on each call, without copying.

    Args:
        edge_index (torch.Tensor): ``(user, item)`` pairs, shape :math:`(2, E)`.
        num_users (int): Number of users :math:`U`.
        num_items (int): Number of items :math:`I`.

    Shapes:
        - **input:** node features :math:`(U + I, F)`
        - **output:** node features :math:`(U + I, F)`
    """

    def __init__(self, edge_index: Tensor, num_users: int, num_items: int) -> None:
        super().__init__()
        user, item = edge_index.long().cpu()
        self.num_nodes = num_users + num_items
        row = torch.cat([user, item + num_users])
        col = torch.cat([item + num_users, user])
        order = torch.argsort(row * self.num_nodes + col)
        row, col = row[order], col[order]
        degree = torch.bincount(row, minlength=self.num_nodes)
        inv_sqrt = degree.float().pow(-0.5).masked_fill(degree == 0, 0.0)
        crow = torch.zeros(self.num_nodes + 1, dtype=torch.long)
        crow[1:] = torch.cumsum(degree, 0)
        index_dtype = _index_dtype(max(col.numel(), self.num_nodes))
        self.register_buffer("crow", crow.to(index_dtype), persistent=False)
        self.register_buffer("col", col.to(index_dtype), persistent=False)
        self.register_buffer("value", inv_sqrt[row] * inv_sqrt[col], persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return _SymmetricSpMM.apply(self.matrix(x.dtype), x)

    def matrix(self, dtype: torch.dtype = torch.float) -> Tensor:
        """The adjacency as a ``torch.sparse`` CSR tensor (a view of the buffers)."""
        return _csr(self.crow, self.col, self.value.to(dtype), (self.num_nodes, self.num_nodes))

    def rows(self, start: int, stop: int, dtype: torch.dtype = torch.float) -> Tensor:
        """Rows ``start .. stop - 1`` of the adjacency as CSR, shape ``(stop - start, N)``;
        views of the buffers except the shifted row pointers."""
        first, last = int(self.crow[start]), int(self.crow[stop])
        return _csr(
            self.crow[start : stop + 1] - first,
            self.col[first:last],
            self.value[first:last].to(dtype),
            (stop - start, self.num_nodes),
        )

    def degree(self) -> Tensor:
        """Number of neighbours of each node (users, then items), shape ``(U + I,)``."""
        return (self.crow[1:] - self.crow[:-1]).long()

    def extra_repr(self) -> str:
        return f"num_nodes={self.num_nodes}, nnz={self.col.numel()}"


class _SymmetricSpMM(torch.autograd.Function):
    """``adj @ x`` for a symmetric ``adj``, whose backward reuses ``adj`` itself.

    The gradient of ``adj @ x`` with respect to ``x`` is ``adj.T @ grad``.
    PyTorch builds the transpose of a CSR matrix on every backward call, which
    costs far more than the product; for a symmetric ``adj`` the transpose is
    ``adj``, so the backward is one more ``torch.sparse.mm``.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, adj: Tensor, x: Tensor) -> Tensor:
        ctx.adj = adj
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> tuple[None, Tensor]:
        return None, torch.sparse.mm(ctx.adj, grad)


class SparsePattern(torch.nn.Module):
    r"""A fixed sparse pattern of ``(row, col)`` entries whose values change per call.

    Attention over edges is two products on such a pattern :math:`P`: the
    scores :math:`s_e = \mathbf{a}_{\text{row}(e)}^\top \mathbf{b}_{\text{col}(e)}`
    (:meth:`sampled_dot`) and the weighted sums
    :math:`\mathbf{o}_r = \sum_{e \in r} w_e \, \mathbf{x}_{\text{col}(e)}`
    (:meth:`weighted_sum`). Both, and their gradients, run as fused sparse
    kernels; the transposed pattern is kept too, so no backward pass transposes.
    Entries are stored sorted by row, then column; repeated pairs are merged.

    Args:
        row (torch.Tensor): Row of each entry, shape :math:`(E,)`.
        col (torch.Tensor): Column of each entry, shape :math:`(E,)`.
        num_rows (int): Number of rows.
        num_cols (int): Number of columns.
    """

    def __init__(self, row: Tensor, col: Tensor, num_rows: int, num_cols: int) -> None:
        super().__init__()
        self.shape = (num_rows, num_cols)
        key = torch.unique(row.long() * num_cols + col.long())
        row, col = key // num_cols, key % num_cols
        transposed = torch.argsort(col * num_rows + row)
        index_dtype = _index_dtype(max(key.numel(), num_rows, num_cols))
        self.register_buffer("row", row, persistent=False)
        self.register_buffer("col", col, persistent=False)
        self.register_buffer("t_order", transposed, persistent=False)
        self.register_buffer("crow", _pointers(row, num_rows).to(index_dtype), persistent=False)
        self.register_buffer("csr_col", col.to(index_dtype), persistent=False)
        self.register_buffer("t_crow", _pointers(col, num_cols).to(index_dtype), persistent=False)
        self.register_buffer("t_col", row[transposed].to(index_dtype), persistent=False)

    @property
    def nnz(self) -> int:
        return self.col.numel()

    def sampled_dot(self, a: Tensor, b: Tensor) -> Tensor:
        """``(a[row[e]] * b[col[e]]).sum()`` for every entry ``e``; ``a`` is
        ``(num_rows, D)``, ``b`` is ``(num_cols, D)``, the result ``(E,)``."""
        return _SampledDot.apply(self, a, b)

    def weighted_sum(self, values: Tensor, x: Tensor) -> Tensor:
        """``P(values) @ x``: row ``r`` is the sum of ``values[e] * x[col[e]]`` over its
        entries; ``values`` is ``(E,)`` in entry order, ``x`` is ``(num_cols, D)``."""
        return _WeightedSum.apply(self, values, x)

    def matrix(self, values: Tensor) -> Tensor:
        return _csr(self.crow, self.csr_col, values, self.shape)

    def transposed(self, values: Tensor) -> Tensor:
        """The transpose as CSR; ``values`` are given in (untransposed) entry order."""
        return _csr(self.t_crow, self.t_col, values[self.t_order], self.shape[::-1])

    def extra_repr(self) -> str:
        return f"shape={self.shape}, nnz={self.nnz}"


class _SampledDot(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx, pattern: SparsePattern, a: Tensor, b: Tensor
    ) -> Tensor:
        ctx.pattern = pattern
        ctx.save_for_backward(a, b)
        zeros = a.new_zeros(pattern.nnz)
        return torch.sparse.sampled_addmm(pattern.matrix(zeros), a, b.t(), beta=0.0).values()

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad: Tensor
    ) -> tuple[None, Tensor, Tensor]:
        a, b = ctx.saved_tensors
        pattern: SparsePattern = ctx.pattern
        grad = grad.contiguous()
        _, needs_a, needs_b = ctx.needs_input_grad
        return (
            None,
            torch.sparse.mm(pattern.matrix(grad), b) if needs_a else None,
            torch.sparse.mm(pattern.transposed(grad), a) if needs_b else None,
        )


class _WeightedSum(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        pattern: SparsePattern,
        values: Tensor,
        x: Tensor,
    ) -> Tensor:
        ctx.pattern = pattern
        ctx.save_for_backward(values, x)
        return torch.sparse.mm(pattern.matrix(values), x)

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad: Tensor
    ) -> tuple[None, Tensor, Tensor]:
        values, x = ctx.saved_tensors
        pattern: SparsePattern = ctx.pattern
        grad = grad.contiguous()
        _, needs_values, needs_x = ctx.needs_input_grad
        grad_values = grad_x = None
        if needs_values:  # fixed weights (a sampled adjacency) need no gradient
            grad_values = torch.sparse.sampled_addmm(
                pattern.matrix(torch.zeros_like(values)), grad, x.t(), beta=0.0
            ).values()
        if needs_x:
            grad_x = torch.sparse.mm(pattern.transposed(values), grad)
        return None, grad_values, grad_x


def layer_sizes(
    num_sampled_nodes: Sequence[int], num_sampled_edges: Sequence[int], num_layers: int
) -> list[tuple[int, int, int]]:
    """``(destinations, sources, edges)`` of each layer of a sampled subgraph, first layer first.

    A sampler lists the seeds, then the nodes of hop 1, 2, ...; the edges of
    hop :math:`h` lead into nodes of hop :math:`h - 1`. Layer :math:`l` (of
    :math:`L`) needs outputs for hops :math:`0 .. L - l` only, from the
    previous layer's values at hops :math:`0 .. L - l + 1`, along the edges of
    hops :math:`1 .. L - l + 1`: prefixes of the node and edge lists. Nodes
    further out have not had their neighbourhoods sampled, so they are never
    computed, and the last layer computes the seeds only.
    """
    nodes = list(num_sampled_nodes) + [0] * (num_layers + 1 - len(num_sampled_nodes))
    edges = list(num_sampled_edges) + [0] * (num_layers - len(num_sampled_edges))
    nodes_before = [0, *itertools.accumulate(nodes)]  # nodes of hops < h
    edges_before = [0, *itertools.accumulate(edges)]  # edges of hops <= h
    return [
        (
            nodes_before[num_layers - layer + 1],
            nodes_before[num_layers - layer + 2],
            edges_before[num_layers - layer + 1],
        )
        for layer in range(1, num_layers + 1)
    ]


def sampled_weights(pattern: SparsePattern, row_degree: Tensor, col_degree: Tensor) -> Tensor:
    r"""Entry weights of a sampled normalised adjacency, in ``pattern``'s entry order.

    Node :math:`v` of degree :math:`d_v` (in the whole graph) keeps a uniform
    sample :math:`S_v` of :math:`s_v` of its neighbours (:math:`s_v = d_v`
    when all are kept). Scaling the sampled sum by :math:`d_v / s_v` makes it
    an unbiased estimate of the full normalised sum, since each neighbour is
    in :math:`S_v` with probability :math:`s_v / d_v`:

    .. math::
        \hat{\mathbf{e}}_v = \frac{d_v}{s_v} \sum_{u \in S_v}
        \frac{\mathbf{e}_u}{\sqrt{d_v d_u}}
        = \sum_{u \in S_v} \frac{1}{s_v} \sqrt{\frac{d_v}{d_u}} \, \mathbf{e}_u,
        \qquad
        \mathbb{E}\big[\hat{\mathbf{e}}_v\big] = \sum_{u \in \mathcal{N}(v)}
        \frac{\mathbf{e}_u}{\sqrt{d_v d_u}} .

    Args:
        pattern (SparsePattern): The sampled edges, rows receiving.
        row_degree (torch.Tensor): :math:`d_v` of each entry's row (global degree).
        col_degree (torch.Tensor): :math:`d_u` of each entry's column.
    """
    sampled = torch.bincount(pattern.row, minlength=pattern.shape[0]).index_select(0, pattern.row)
    return (row_degree.float() / col_degree.float()).sqrt() / sampled


def _pointers(index: Tensor, size: int) -> Tensor:
    """CSR row pointers of a sorted index."""
    pointers = torch.zeros(size + 1, dtype=torch.long, device=index.device)
    pointers[1:] = torch.cumsum(torch.bincount(index, minlength=size), 0)
    return pointers


def _index_dtype(size: int) -> torch.dtype:
    """int32 indices when they fit: the CPU kernels (MKL) take int32 and would
    otherwise convert int64 indices on every call."""
    return torch.int32 if size < 2**31 - 1 else torch.long


def _csr(crow: Tensor, col: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        # Built sorted and in range by the modules above, so the invariant checks are skipped.
        return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)
