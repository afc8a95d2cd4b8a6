"""Bounded explanation work: a fixed number of explanations at once per process.

An explanation is a handful of graph queries (one per path kind). The pool runs
at most ``api_explain_concurrency`` of them at a time, on threads of its own (so
they never occupy the threads other requests need); the others wait. A request
waits for at most ``api_explain_timeout`` seconds in all: an explanation that has
not started by then is not started, and the answer says which items were left
unexplained. So once the last request has been answered nothing is queued; the
queries still running are those of at most ``api_explain_concurrency``
explanations, each bounded by the explanation timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphrec.explain import PathSearch, explain
from graphrec.serving import degree_lookup, vector_lookup

if TYPE_CHECKING:
    from .state import Index, ServiceState


@dataclass(frozen=True)
class ManyExplained:
    """Explanations of several items: ``found[item]`` is ``None`` where the item was skipped."""

    found: dict[str, PathSearch | None]

    @property
    def skipped(self) -> list[str]:
        return [item for item, search in self.found.items() if search is None]


class ExplainPool:
    """At most ``concurrency`` explanations at once; :meth:`stats` tells what is running."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._threads = ThreadPoolExecutor(concurrency, thread_name_prefix="graphrec-explain")
        self.running = 0
        self.waiting = 0

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)

    async def run(
        self,
        state: ServiceState,
        index: Index,
        model: str,
        user_id: str,
        item_id: str,
        *,
        max_paths: int,
        max_hops: int,
        wait: float | None = None,
    ) -> PathSearch | None:
        """One explanation, or ``None`` when no slot came free within ``wait`` seconds."""
        if self._slots.locked():  # else a slot is free: take it without waiting
            self.waiting += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), wait)
            except TimeoutError:
                return None
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()
        self.running += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._threads,
                lambda: _explain(state, index, model, user_id, item_id, max_paths, max_hops),
            )
        finally:
            self.running -= 1
            self._slots.release()

    async def many(
        self,
        state: ServiceState,
        index: Index,
        model: str,
        user_id: str,
        item_ids: Sequence[str],
        *,
        max_paths: int = 1,
        max_hops: int = 3,
    ) -> ManyExplained:
        """Explanations of ``item_ids``, all waiting within one ``api_explain_timeout``."""
        # The requests start together, so one wait (the timeout) is every request's deadline.
        wait = state.settings.api_explain_timeout
        found = await asyncio.gather(
            *(
                self.run(
                    state,
                    index,
                    model,
                    user_id,
                    item,
                    max_paths=max_paths,
                    max_hops=max_hops,
                    wait=wait,
                )  # fmt: skip
                for item in item_ids
            )
        )
        return ManyExplained(dict(zip(item_ids, found, strict=True)))


def _explain(
    state: ServiceState,
    index: Index,
    model: str,
    user_id: str,
    item_id: str,
    max_paths: int,
    max_hops: int,
) -> PathSearch:
    catalog, state_now = index.snapshot.catalog, index.state
    vectors = vector_lookup(index.snapshot.model(model), catalog, state_now)
    # Graph failures propagate to the app's handlers (503).
    return explain(
        state.reader,
        user_id,
        item_id,
        vectors,
        max_paths=max_paths,
        max_hops=max_hops,
        timeout=state.settings.api_explain_timeout,
        degree=degree_lookup(catalog, state_now),  # from memory: no extra query
    )
