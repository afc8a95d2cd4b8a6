"""The synthetic catalog with its entity KG (``loaders.synthetic_arrays(entity_kg=True)``) as
an export-format ``HeteroData``, built in memory: the same concepts and relations that
``graphrec ingest synthetic --entity-kg`` writes, without a graph database in between.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import HeteroData

from graphrec.data.types import HAS_CONCEPT, INTERACTED, RELATED, SUBCONCEPT_OF
from graphrec.loaders.synthetic import synthetic_arrays

ITEM_RELATIONS = ["has_category", "has_tag", "has_artist", "produced_by", "released_in"]
CONCEPT_RELATIONS = ["signed_to", "collaborated_with", "from_country", "based_in"]


def entity_hetero(
    *, users: int, items: int, interactions: int, communities: int, seed: int = 0
) -> HeteroData:
    """Users, items and concepts (leaf and top categories, tags, artists, labels,
    producers, countries), with every item-concept and concept-concept edge."""
    subcategories, tags_per_community = 4, 12
    arrays = synthetic_arrays(
        users=users,
        items=items,
        interactions=interactions,
        communities=communities,
        subcategories=subcategories,
        tags_per_community=tags_per_community,
        seed=seed,
        entity_kg=True,
    )
    entities = arrays.entities
    assert entities is not None
    sizes = {
        "leaf": communities * subcategories,
        "top": communities,
        "tag": communities * tags_per_community,
        "artist": entities.artists,
        "label": len(entities.label_country),
        "producer": len(entities.producer_country),
        "country": entities.countries,
    }
    offset, start = {}, 0
    for kind, size in sizes.items():
        offset[kind] = start
        start += size
    item = np.arange(items)
    artist = np.arange(entities.artists)
    item_edges = [
        (item, offset["leaf"] + arrays.item_cluster * subcategories + arrays.item_leaf, 0),
        *(
            (item, offset["tag"] + arrays.item_tags[:, j], 1)
            for j in range(arrays.item_tags.shape[1])
        ),
        (item, offset["artist"] + entities.item_artist, 2),
        (item, offset["producer"] + entities.item_producer, 3),
        (item, offset["country"] + entities.artist_country[entities.item_artist], 4),
    ]
    concept_edges = [
        (offset["artist"] + artist, offset["label"] + entities.artist_label, 5),
        (*(offset["artist"] + entities.collaborations.T), 6),
        (offset["artist"] + artist, offset["country"] + entities.artist_country, 7),
        (
            offset["label"] + np.arange(sizes["label"]),
            offset["country"] + entities.label_country,
            8,
        ),
        (
            offset["producer"] + np.arange(sizes["producer"]),
            offset["country"] + entities.producer_country,
            8,
        ),
    ]
    leaf = np.arange(sizes["leaf"])

    data = HeteroData()
    data["user"].num_nodes = users
    data["item"].num_nodes = items
    data["concept"].num_nodes = start
    data.relation_names = ITEM_RELATIONS + CONCEPT_RELATIONS
    store = data[INTERACTED]
    store.edge_index = torch.from_numpy(np.stack([arrays.user, arrays.item])).long()
    store.weight = torch.ones(len(arrays.user))
    store.ts = torch.from_numpy(arrays.timestamp).long()
    store.split = torch.zeros(len(arrays.user), dtype=torch.long)
    for edge_type, edges in ((HAS_CONCEPT, item_edges), (RELATED, concept_edges)):
        data[edge_type].edge_index = torch.from_numpy(
            np.stack(
                [np.concatenate([h for h, _, _ in edges]), np.concatenate([t for _, t, _ in edges])]
            )
        ).long()
        data[edge_type].relation = torch.cat([torch.full((len(h),), code) for h, _, code in edges])
    data[SUBCONCEPT_OF].edge_index = torch.from_numpy(
        np.stack([offset["leaf"] + leaf, offset["top"] + leaf // subcategories])
    ).long()
    return data
