"""The catalog: items, titles, concepts and their hierarchy, by position. Immutable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from graphrec.serving.errors import UnknownConceptError, UnknownItemError


def id_index(ids: Sequence[str]) -> Mapping[str, int]:
    return MappingProxyType({value: i for i, value in enumerate(ids)})


def _ancestors(parents: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """Each concept with all its ancestors (``SUBCONCEPT_OF`` followed upwards, cycles tolerated)."""
    closure: list[tuple[int, ...]] = []
    for start in range(len(parents)):
        seen = {start}
        stack = [start]
        while stack:
            for parent in parents[stack.pop()]:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        closure.append(tuple(sorted(seen)))
    return closure


@dataclass(frozen=True)
class Catalog:
    """Items and concepts by position. Build with :meth:`build`; grow with :meth:`with_item`.

    Attributes:
        item_ids: Business ids of the items; an item's position is its index here.
        titles: Item titles (``None`` when unknown).
        item_concepts: Concept positions of each item (direct ``HAS_CONCEPT`` edges).
        concept_ids: Business ids of the concepts.
        concept_ancestors: Each concept's position with all its ancestors' positions.
        item_links: Each item's ``(concept position, relation, weight)`` links, when the
            catalog was built with them (relgnn's inductive cold start reads them);
            empty otherwise.
    """

    item_ids: tuple[str, ...]
    titles: tuple[str | None, ...]
    item_concepts: tuple[tuple[int, ...], ...]
    concept_ids: tuple[str, ...]
    concept_ancestors: tuple[tuple[int, ...], ...]
    item_links: tuple[tuple[tuple[int, str, float], ...], ...] = ()
    item_pos: Mapping[str, int] = field(init=False, repr=False, compare=False)
    concept_pos: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not len(self.item_ids) == len(self.titles) == len(self.item_concepts):
            raise ValueError("item_ids, titles and item_concepts need one entry per item")
        if self.item_links and len(self.item_links) != len(self.item_ids):
            raise ValueError("item_links needs one entry per item")
        object.__setattr__(self, "item_pos", id_index(self.item_ids))
        object.__setattr__(self, "concept_pos", id_index(self.concept_ids))

    @classmethod
    def build(
        cls,
        item_ids: Sequence[str],
        titles: Sequence[str | None],
        item_concepts: Sequence[Iterable[str]],
        concept_ids: Sequence[str],
        subconcept_of: Iterable[tuple[str, str]] = (),
        item_links: Sequence[Sequence[tuple[str, str, float]]] | None = None,
    ) -> Catalog:
        """A catalog from business ids.

        Args:
            item_ids: Items in position order.
            titles: One title per item.
            item_concepts: Concept ids per item; ids not in ``concept_ids`` are dropped.
            concept_ids: All concepts.
            subconcept_of: ``(child, parent)`` concept id pairs.
            item_links: Per item, ``(concept id, relation, weight)`` of its links (default:
                not kept).
        """
        concept_pos = {c: i for i, c in enumerate(concept_ids)}
        parents: list[list[int]] = [[] for _ in concept_ids]
        for child, parent in subconcept_of:
            if child in concept_pos and parent in concept_pos:
                parents[concept_pos[child]].append(concept_pos[parent])
        memberships = tuple(
            tuple(sorted({concept_pos[c] for c in concepts if c in concept_pos}))
            for concepts in item_concepts
        )
        links = ()
        if item_links is not None:
            links = tuple(
                tuple((concept_pos[c], r, float(w)) for c, r, w in item if c in concept_pos)
                for item in item_links
            )
        return cls(
            item_ids=tuple(item_ids),
            titles=tuple(titles),
            item_concepts=memberships,
            concept_ids=tuple(concept_ids),
            concept_ancestors=tuple(_ancestors(parents)),
            item_links=links,
        )

    def links_of(self, position: int) -> tuple[tuple[int, str, float], ...]:
        """Item ``position``'s ``(concept position, relation, weight)`` links (empty when
        the catalog does not keep them)."""
        return self.item_links[position] if self.item_links else ()

    @property
    def num_items(self) -> int:
        return len(self.item_ids)

    def position(self, item_id: str) -> int:
        try:
            return self.item_pos[item_id]
        except KeyError:
            raise UnknownItemError(f"unknown item {item_id!r}") from None

    def concept_position(self, concept_id: str) -> int:
        try:
            return self.concept_pos[concept_id]
        except KeyError:
            raise UnknownConceptError(f"unknown concept {concept_id!r}") from None

    def members(self, concept_id: str) -> np.ndarray:
        """Positions of the items that have ``concept_id`` or one of its subconcepts, sorted."""
        return self._members()[self.concept_position(concept_id)]

    def _members(self) -> tuple[np.ndarray, ...]:
        cached = self.__dict__.get("_members_cache")
        if cached is None:
            buckets: list[list[int]] = [[] for _ in self.concept_ids]
            for item, concepts in enumerate(self.item_concepts):
                for concept in {a for c in concepts for a in self.concept_ancestors[c]}:
                    buckets[concept].append(item)
            cached = tuple(np.asarray(b, dtype=np.int64) for b in buckets)
            object.__setattr__(self, "_members_cache", cached)  # derived, safe to share
        return cached

    def concept_positions(self, concept_ids: Iterable[str]) -> tuple[int, ...]:
        """Positions of the known concepts among ``concept_ids`` (unknown ones dropped)."""
        return tuple(sorted({self.concept_pos[c] for c in concept_ids if c in self.concept_pos}))

    def with_item(
        self,
        item_id: str,
        title: str | None,
        concept_ids: Sequence[str],
        links: Sequence[tuple[str, str, float]] = (),
    ) -> tuple[Catalog, tuple[str, ...]]:
        """A new catalog with one more item (last position), creating unknown concepts.
        ``links`` are its ``(concept id, relation, weight)`` links, kept when this catalog
        keeps links.

        Returns the catalog and the concept ids that were new to it.
        """
        if item_id in self.item_pos:
            raise ValueError(f"item {item_id!r} is already in the catalog")
        new_concepts = tuple(dict.fromkeys(c for c in concept_ids if c not in self.concept_pos))
        all_concepts = self.concept_ids + new_concepts
        positions = {c: i for i, c in enumerate(all_concepts)}
        memberships = tuple(sorted({positions[c] for c in concept_ids}))
        grown = Catalog(
            item_ids=self.item_ids + (item_id,),
            titles=self.titles + (title,),
            item_concepts=self.item_concepts + (memberships,),
            concept_ids=all_concepts,
            concept_ancestors=self.concept_ancestors + tuple((positions[c],) for c in new_concepts),
            item_links=self.item_links
            + (
                (tuple((positions[c], r, float(w)) for c, r, w in links),)
                if self.item_links
                else ()
            ),
        )
        cached = self.__dict__.get("_members_cache")
        if cached is not None:  # extend the concept filter's buckets instead of recomputing them
            buckets = list(cached) + [np.empty(0, dtype=np.int64) for _ in new_concepts]
            position = len(self.item_ids)
            for concept in {a for c in memberships for a in grown.concept_ancestors[c]}:
                buckets[concept] = np.append(buckets[concept], position)
            object.__setattr__(grown, "_members_cache", tuple(buckets))
        return grown, new_concepts

    def without_item(self, item_id: str) -> tuple[Catalog, int]:
        """A new catalog without ``item_id``; later items move down one position.

        Returns the catalog and the position the item had. Concepts stay.

        Raises:
            UnknownItemError: ``item_id`` is not in the catalog.
        """
        position = self.position(item_id)

        def drop(values: tuple) -> tuple:
            return values[:position] + values[position + 1 :]

        return (
            Catalog(
                item_ids=drop(self.item_ids),
                titles=drop(self.titles),
                item_concepts=drop(self.item_concepts),
                concept_ids=self.concept_ids,
                concept_ancestors=self.concept_ancestors,
                item_links=drop(self.item_links) if self.item_links else (),
            ),
            position,
        )
