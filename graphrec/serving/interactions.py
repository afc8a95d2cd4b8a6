"""The mutable part of the index: each user's seen items, item popularity, and when a user
last interacted through the service (which decides fold-in) and with which new items."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np


class InteractionState:
    """Users' seen items and item popularity, updated as interactions arrive.

    Positions refer to the catalog this state was loaded with; catalogs grown
    by :meth:`Catalog.with_item` keep them (call :meth:`grow` after adding an item).

    Args:
        seen: Per user, the positions of their items.
        popularity: Interactions per item position.
    """

    def __init__(self, seen: Mapping[str, np.ndarray], popularity: np.ndarray) -> None:
        self._base = dict(seen)
        self._extra: dict[str, set[int]] = {}
        self._popularity = np.asarray(popularity, dtype=np.float64).copy()
        self._interacted_at: dict[str, float] = {}
        #: Per user, items that were new to them when posted through :meth:`add`, and when.
        self._posted: dict[str, dict[int, float]] = {}

    @property
    def popularity(self) -> np.ndarray:
        return self._popularity

    @property
    def num_users(self) -> int:
        """Users with at least one interaction."""
        return len(self._base) + sum(1 for user in self._extra if user not in self._base)

    def users(self) -> list[str]:
        """Ids of the users with interactions: those loaded first, then those added since."""
        return [*self._base, *(user for user in self._extra if user not in self._base)]

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._base or user_id in self._extra

    def seen(self, user_id: str) -> np.ndarray:
        """Positions of the items ``user_id`` has interacted with (unsorted, distinct)."""
        base = self._base.get(user_id)
        extra = self._extra.get(user_id)
        if extra is None:
            return base if base is not None else np.empty(0, dtype=np.int64)
        added = np.fromiter(extra, dtype=np.int64, count=len(extra))
        return added if base is None else np.concatenate([base, added])

    def interacted_at(self, user_id: str) -> float | None:
        """When ``user_id`` last interacted through :meth:`add` (seconds since the epoch)."""
        return self._interacted_at.get(user_id)

    def posted_since(self, user_id: str, since: float) -> np.ndarray:
        """Positions of the items that were new to ``user_id`` when posted through :meth:`add`
        after ``since`` (seconds since the epoch); kept across reloads by :meth:`carry_over`."""
        posted = self._posted.get(user_id, {})
        return np.asarray(sorted(p for p, at in posted.items() if at > since), dtype=np.int64)

    def add(self, user_id: str, positions: Iterable[int], at: float) -> None:
        """Record that ``user_id`` interacted with the items at ``positions`` at time ``at``.

        Idempotent: an item already seen changes nothing but the time.
        """
        base = self._base.get(user_id)
        extra = self._extra.setdefault(user_id, set())
        for position in positions:
            if position in extra or (base is not None and position in base):
                continue
            extra.add(position)
            self._popularity[position] += 1
            self._posted.setdefault(user_id, {})[position] = at
        self._interacted_at[user_id] = max(at, self._interacted_at.get(user_id, at))

    def grow(self, num_items: int) -> None:
        """Make room for items appended to the catalog."""
        missing = num_items - len(self._popularity)
        if missing > 0:
            self._popularity = np.concatenate([self._popularity, np.zeros(missing)])

    def remove_user(self, user_id: str) -> bool:
        """Forget ``user_id``: their seen items, their share of popularity, their fold-in time.

        Returns whether anything was held for them.
        """
        held = user_id in self or user_id in self._interacted_at
        seen = self.seen(user_id)
        if seen.size:
            self._popularity[seen] -= 1
        self._base.pop(user_id, None)
        self._extra.pop(user_id, None)
        self._interacted_at.pop(user_id, None)
        self._posted.pop(user_id, None)
        return held

    def without_item(self, position: int) -> InteractionState:
        """A copy with the item at ``position`` gone and later positions shifted down by one
        (as :meth:`Catalog.without_item` shifts them); fold-in times are kept."""

        def shifted(positions: np.ndarray) -> np.ndarray:
            kept = positions[positions != position]
            return np.where(kept > position, kept - 1, kept)

        extra: dict[str, set[int]] = {}
        for user_id, positions in self._extra.items():
            extra[user_id] = {p - 1 if p > position else p for p in positions if p != position}
        state = InteractionState(
            {user_id: shifted(positions) for user_id, positions in self._base.items()},
            np.delete(self._popularity, position),
        )
        state._extra = extra
        state._interacted_at = dict(self._interacted_at)
        state._posted = {
            user_id: {p - 1 if p > position else p: at for p, at in posted.items() if p != position}
            for user_id, posted in self._posted.items()
        }
        return state

    def carry_over(
        self, older: InteractionState, remap: np.ndarray | None = None, since: float = 0.0
    ) -> None:
        """Keep ``older``'s interaction times and posted items (a reload rebuilds seen items
        from the graph, where posted items are no longer told apart).

        Args:
            older: the state this one replaces.
            remap: for each of ``older``'s item positions, its position here (-1: gone);
                :obj:`None` when both states share one catalog.
            since: posted items from before this time are not kept (the oldest served
                version's training time: no rule looks further back).
        """
        for user_id, at in older._interacted_at.items():
            self._interacted_at[user_id] = max(at, self._interacted_at.get(user_id, at))
        for user_id, posted in older._posted.items():
            mine = self._posted.setdefault(user_id, {})
            for position, at in posted.items():
                if at <= since:
                    continue
                if remap is None:
                    new = position
                else:
                    new = int(remap[position]) if position < len(remap) else -1
                if new >= 0:
                    mine[new] = max(at, mine.get(new, at))
