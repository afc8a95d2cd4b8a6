"""A small ``HeteroData`` in the export's format with planted communities, for tests and benchmarks."""

from __future__ import annotations

import torch
from torch_geometric.data import HeteroData

from graphrec.data.types import CO_ENGAGED, HAS_CONCEPT, INTERACTED, RELATED, SUBCONCEPT_OF


def synthetic_hetero(
    *,
    num_users: int = 60,
    num_items: int = 40,
    num_communities: int = 3,
    interactions_per_user: int = 8,
    noise: float = 0.1,
    num_tags: int = 6,
    stored_test_ratio: float = 0.0,
    seed: int = 0,
) -> HeteroData:
    """A ``HeteroData`` in the export's format with planted communities.

    User ``u`` and item ``i`` belong to community ``u % num_communities`` and
    ``i % num_communities``. Each user picks ``interactions_per_user`` distinct
    items, from their own community with probability about ``1 - noise``;
    within a community, item popularity follows a Zipf law, so there are head
    and long-tail items. Each community has a genre concept (items link to it
    with ``has_genre``); tags are random (``has_tag``), each tag is a
    ``subconcept_of`` a genre, neighbouring genres are ``related_to`` each
    other, and items of one community are ``co_engaged``.

    Args:
        num_users (int, optional): Users. (default: :obj:`60`)
        num_items (int, optional): Items. (default: :obj:`40`)
        num_communities (int, optional): Planted communities. (default: :obj:`3`)
        interactions_per_user (int, optional): Distinct items per user. (default: :obj:`8`)
        noise (float, optional): Share of interactions outside the user's
            community. (default: :obj:`0.1`)
        num_tags (int, optional): Tag concepts. (default: :obj:`6`)
        stored_test_ratio (float, optional): If positive, about this share of
            interactions gets ``split = 2`` (test) and the rest ``split = 1``.
            (default: :obj:`0.0`)
        seed (int, optional): Random seed. (default: :obj:`0`)
    """
    if interactions_per_user > num_items:
        raise ValueError("interactions_per_user cannot exceed num_items")
    generator = torch.Generator().manual_seed(seed)
    user_comm = torch.arange(num_users) % num_communities
    item_comm = torch.arange(num_items) % num_communities
    rank_in_comm = torch.arange(num_items) // num_communities
    popularity = (rank_in_comm + 1.0).pow(-0.8)
    same = user_comm.view(-1, 1) == item_comm.view(1, -1)
    outside = noise / max(1e-9, 1 - noise) / max(1, num_communities - 1)
    weight = popularity.view(1, -1) * torch.where(same, 1.0, outside)
    items = torch.multinomial(weight, interactions_per_user, generator=generator)
    user = torch.arange(num_users).repeat_interleave(interactions_per_user)
    item = items.reshape(-1)
    ts = 1_000_000 + torch.randint(0, 10_000_000, (user.numel(),), generator=generator)

    data = HeteroData()
    data["user"].num_nodes = num_users
    data["item"].num_nodes = num_items
    num_genres = num_communities
    data["concept"].num_nodes = num_genres + num_tags
    data["concept"].kind = torch.tensor([0] * num_genres + [1] * num_tags)
    data.concept_kinds = ["genre", "tag"]
    data.relation_names = ["has_genre", "has_tag", "related_to"]

    store = data[INTERACTED]
    store.edge_index = torch.stack([user, item])
    store.weight = torch.ones(user.numel())
    store.ts = ts
    store.split = torch.zeros_like(user)
    if stored_test_ratio > 0:
        is_test = torch.rand(user.numel(), generator=generator) < stored_test_ratio
        store.split = 1 + is_test.long()

    tag_of_item = torch.randint(0, num_tags, (num_items,), generator=generator)
    data[HAS_CONCEPT].edge_index = torch.stack(
        [torch.arange(num_items).repeat(2), torch.cat([item_comm, num_genres + tag_of_item])]
    )
    data[HAS_CONCEPT].relation = torch.tensor([0] * num_items + [1] * num_items)
    data[HAS_CONCEPT].weight = torch.ones(2 * num_items)

    genre = torch.arange(num_genres)
    data[RELATED].edge_index = torch.stack([genre, (genre + 1) % num_genres])
    data[RELATED].relation = torch.full((num_genres,), 2)
    tag = torch.arange(num_tags)
    data[SUBCONCEPT_OF].edge_index = torch.stack([num_genres + tag, tag % num_genres])

    # Consecutive items of a community (i and i + num_communities) are co-engaged.
    first = torch.arange(max(0, num_items - num_communities))
    data[CO_ENGAGED].edge_index = torch.stack([first, first + num_communities])
    data[CO_ENGAGED].weight = torch.ones(first.numel())
    return data
