"""The collaborative knowledge graph of KGAT and KGIN, as triples with inverse relations.

Both papers read every relation in both directions: a knowledge-graph edge
``(h, r, t)`` also gives ``(t, r^{-1}, h)``, and KGAT adds the training
interactions as ``(u, interact, i)`` and ``(i, interact^{-1}, u)``. Relation
codes follow :class:`~graphrec.models.RelationAwareGNN`: with interactions,
``0`` is user to item, ``1`` item to user, and knowledge-graph relation ``k``
becomes ``2 + 2k`` (head to tail) and ``3 + 2k`` (tail to head); without them,
``2k`` and ``2k + 1``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

#: Most times a corrupted tail that forms a true triple is redrawn.
CORRUPTION_ROUNDS = 16


class Triples(NamedTuple):
    """Distinct ``(head, relation, tail)`` triples, sorted by head, relation, then tail.

    Attributes:
        head: Head node of each triple, shape ``(T,)``.
        relation: Relation code of each triple, shape ``(T,)``.
        tail: Tail node of each triple, shape ``(T,)``.
        num_nodes: Size of the node space.
        num_relations: Number of relation codes, inverses included.
    """

    head: Tensor
    relation: Tensor
    tail: Tensor
    num_nodes: int
    num_relations: int

    @property
    def num_triples(self) -> int:
        return self.head.numel()

    def keys(self) -> Tensor:
        """One sortable ``int64`` key per triple, ascending (the triples' order)."""
        return triple_keys(self.head, self.relation, self.tail, self.num_nodes, self.num_relations)


def triple_keys(
    head: Tensor, relation: Tensor, tail: Tensor, num_nodes: int, num_relations: int
) -> Tensor:
    """``(head * R + relation) * N + tail``: the order of :class:`Triples`."""
    return (head * num_relations + relation) * num_nodes + tail


def knowledge_triples(
    kg_edge_index: Tensor, kg_edge_type: Tensor, num_kg_relations: int, num_entities: int
) -> Triples:
    """The knowledge graph alone over entities (items, then concepts), with inverses:
    relation ``k`` gives codes ``2k`` and ``2k + 1``."""
    head, tail = kg_edge_index.long().cpu()
    relation = kg_edge_type.long().cpu()
    return _distinct(
        torch.cat([head, tail]),
        torch.cat([2 * relation, 2 * relation + 1]),
        torch.cat([tail, head]),
        num_entities,
        2 * num_kg_relations,
    )


def collaborative_triples(
    num_users: int,
    num_items: int,
    num_concepts: int,
    edge_index: Tensor,
    kg_edge_index: Tensor,
    kg_edge_type: Tensor,
    num_kg_relations: int,
) -> Triples:
    """The collaborative knowledge graph over users ``0 .. U-1``, items ``U .. U+I-1``
    and concepts ``U+I ..``: interactions (codes 0 and 1) and knowledge-graph relations
    (``2 + 2k`` and ``3 + 2k``)."""
    user, item = edge_index.long().cpu()
    item = item + num_users
    head, tail = kg_edge_index.long().cpu() + num_users
    relation = kg_edge_type.long().cpu()
    zeros = torch.zeros_like(user)
    return _distinct(
        torch.cat([user, item, head, tail]),
        torch.cat([zeros, zeros + 1, 2 + 2 * relation, 3 + 2 * relation]),
        torch.cat([item, user, tail, head]),
        num_users + num_items + num_concepts,
        2 * (1 + num_kg_relations),
    )


def _distinct(
    head: Tensor, relation: Tensor, tail: Tensor, num_nodes: int, num_relations: int
) -> Triples:
    if head.numel() and (int(head.min()) < 0 or int(torch.maximum(head, tail).max()) >= num_nodes):
        raise ValueError(f"triples name nodes outside 0 .. {num_nodes - 1}")
    if relation.numel() and int(relation.max()) >= num_relations:
        raise ValueError(f"triples name relations outside 0 .. {num_relations - 1}")
    key = torch.unique(triple_keys(head, relation, tail, num_nodes, num_relations))
    tail = key % num_nodes
    head_relation = key // num_nodes
    return Triples(
        head=head_relation // num_relations,
        relation=head_relation % num_relations,
        tail=tail,
        num_nodes=num_nodes,
        num_relations=num_relations,
    )


def corrupt_tails(
    keys: Tensor,
    head: Tensor,
    relation: Tensor,
    num_nodes: int,
    num_relations: int,
    generator: torch.Generator | None = None,
) -> Tensor:
    """A tail drawn uniformly from all nodes for each ``(head, relation)``, redrawn (up to
    :data:`CORRUPTION_ROUNDS` times) while it forms a true triple.

    Args:
        keys (torch.Tensor): The true triples' keys, sorted (:meth:`Triples.keys`).
        head (torch.Tensor): Heads, shape :math:`(n,)`.
        relation (torch.Tensor): Relations, shape :math:`(n,)`.
        num_nodes (int): Size of the node space.
        num_relations (int): Number of relation codes.
        generator (torch.Generator, optional): A CPU generator to draw from;
            :obj:`None` uses torch's global one. (default: :obj:`None`)
    """
    device = head.device
    tail = torch.randint(num_nodes, head.shape, generator=generator).to(device)
    pending = torch.arange(head.numel(), device=device)
    for _ in range(CORRUPTION_ROUNDS):
        key = triple_keys(head[pending], relation[pending], tail[pending], num_nodes, num_relations)
        found = torch.searchsorted(keys, key).clamp_(max=max(0, keys.numel() - 1))
        pending = pending[keys.index_select(0, found) == key]
        if pending.numel() == 0:
            break
        redrawn = torch.randint(num_nodes, (pending.numel(),), generator=generator)
        tail = tail.index_copy(0, pending, redrawn.to(device))
    return tail


def relation_matmul(x: Tensor, relation: Tensor, weight: Tensor) -> Tensor:
    r"""``x[j] @ weight[relation[j]]`` for every row ``j``: one matrix product per relation
    that occurs, without gathering a matrix per row. Rows already sorted by relation
    are not reordered.

    Args:
        x (torch.Tensor): Rows, shape :math:`(n, \ldots, D)`.
        relation (torch.Tensor): Relation of each row, shape :math:`(n,)`.
        weight (torch.Tensor): One matrix per relation, shape :math:`(R, D, K)`.

    Returns:
        The products, shape :math:`(n, \ldots, K)`.
    """
    if x.size(0) == 0:
        return x.new_zeros(*x.shape[:-1], weight.size(-1))
    already_sorted = bool((relation[1:] >= relation[:-1]).all())
    order = None if already_sorted else torch.argsort(relation, stable=True)
    counts = torch.bincount(relation, minlength=weight.size(0)).tolist()
    chunks = (x if order is None else x.index_select(0, order)).split(counts)
    products = torch.cat(
        [chunk @ weight[code] for code, chunk in enumerate(chunks) if chunk.size(0)]
    )
    if order is None:
        return products
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.numel(), device=order.device)
    return products.index_select(0, inverse)
