"""Replicas that agree: a change feed in the graph that every API process follows.

Each write through the API also creates a ``(:Change)`` node, in the same transaction as the
write (``api/log_change``), stamped with the graph server's clock. The writes are
interactions, a new item, an item or user erasure, and a reload. Every API process reads the
feed every ``api_sync_interval`` seconds (``api/changes_since``). It applies to its memory
each change it has not applied yet, its own included. So a write whose commit succeeded but
whose answer was lost (the request got 503) reaches memory as well. Applying a change twice
changes nothing: seen items are a set, and a created item already in the catalog or an erased
one already gone is skipped. An erasure is applied only while the graph still lacks the item
or user: one re-ingested after it (and loaded back by a reload before this process read the
entry) stays. A reload is applied by the other processes only.

- **Ordering and gaps.** A transaction stamped earlier can commit later, so each read goes
  back :data:`WINDOW_MS` behind the newest change applied, and skips the ids it has already
  applied. A change that commits more than that after its statement began is missed until the
  process's next reload picks its effect up from the graph.
- **Retention.** Entries older than :data:`RETENTION_MS` are deleted by whichever process
  prunes first (every :data:`PRUNE_EVERY` seconds). A process that cannot read the feed for
  longer than the retention misses changes until its next reload. It logs that.
- **Erasure.** An erasure's entry names the user only by a keyed hash (SHA-256 over a random
  key kept in the graph's ``(:ChangeFeed)`` node and the id). The erasure also deletes the
  feed's earlier entries that name the user. So once it commits, no feed entry holds the id.
  Anyone who can read the graph can still test a guessed id against the hash until the entry
  is pruned.
- **Writes outside the API.** ``graphrec ingest``, ``graphrec train`` (a new model version),
  ``graphrec users delete`` and ``graphrec items delete`` add feed entries too
  (:mod:`graphrec.feed`): a reload after the first two, the API's erasure entries after the
  others. Other writes to the graph (a library call, plain Cypher) need ``POST /admin/reload``
  on one process, which reloads them all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from graphrec.feed import entry, user_hash

from .writes import GRAPH_FAILURES, read_once

if TYPE_CHECKING:
    from .state import ServiceState

log = logging.getLogger("graphrec.api")

#: How far behind the newest applied change each read of the feed starts (milliseconds).
WINDOW_MS = 30_000
#: How long feed entries are kept (milliseconds).
RETENTION_MS = 600_000
#: Seconds between two prunes of old entries by one process.
PRUNE_EVERY = 60.0
#: Entries read at most per poll; the next poll goes on from the last one read.
PAGE = 2_000

Statement = tuple[str, dict[str, Any]]


class ChangeLog:
    """The feed statements that go into this process's write transactions.

    ``enabled=False`` (``api_sync_interval`` 0) writes nothing to the feed.
    """

    def __init__(self, origin: str, *, enabled: bool) -> None:
        self.origin = origin
        self.enabled = enabled
        self.key: str | None = None  # the feed's hash key, read at start-up

    def _entry(self, kind: str, payload: dict[str, Any], users: Sequence[str] = ()) -> Statement:
        return entry(kind, self.origin, payload, users)

    def interactions(self, rows: Sequence[dict[str, Any]]) -> list[Statement]:
        if not self.enabled:
            return []
        pairs = [[row["user_id"], row["item_id"]] for row in rows]
        users = sorted({row["user_id"] for row in rows})
        return [self._entry("interactions", {"pairs": pairs}, users)]

    def item_created(
        self, item_id: str, title: str | None, concepts: Sequence[dict[str, Any]]
    ) -> list[Statement]:
        if not self.enabled:
            return []
        links = [[c["id"], c["relation"], c.get("weight", 1.0)] for c in concepts]
        return [self._entry("item_created", {"id": item_id, "title": title, "links": links})]

    def item_deleted(self, item_id: str) -> list[Statement]:
        return [self._entry("item_deleted", {"id": item_id})] if self.enabled else []

    def user_erased(self, user_id: str) -> list[Statement]:
        if not self.enabled or self.key is None:
            return []
        hashed = user_hash(self.key, user_id)
        return [
            ("api/forget_user_changes", {"id": user_id}),
            self._entry("user_erased", {"hash": hashed}),
        ]

    def reloaded(self) -> list[Statement]:
        return [self._entry("reload", {})] if self.enabled else []


class ChangeFeed:
    """Follow the feed: read it every ``interval`` seconds and apply what is new."""

    def __init__(self, state: ServiceState, log_: ChangeLog, interval: float) -> None:
        self.state = state
        self.log = log_
        self.interval = interval
        self.applied = 0  # changes applied so far (a /metrics gauge)
        self._newest = 0  # server ms of the newest change applied
        self._seen: dict[str, int] = {}  # change id -> its stamp, within the window
        self._task: asyncio.Task[None] | None = None
        self._last_prune = 0.0
        self._last_read = time.monotonic()

    def start(self, since: int) -> None:
        """Start following from ``since`` (server ms: taken before the index was loaded)."""
        self._newest = since
        self._task = asyncio.create_task(self._run(), name="graphrec-change-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.poll()
            except GRAPH_FAILURES as exc:
                behind = time.monotonic() - self._last_read
                level = logging.ERROR if behind * 1000 > RETENTION_MS else logging.WARNING
                log.log(level, "change feed not read for %.0f s: %s", behind, exc)
            except Exception:  # a bad entry must not stop the feed
                log.exception("change feed")

    async def poll(self) -> int:
        """Read the feed once and apply what is new; how many changes were applied."""
        state = self.state
        since, after_id, applied = self._newest - WINDOW_MS, "", 0
        while True:
            rows = await read_once(
                state.graph,
                "api/changes_since",
                state.options.graph_timeout,
                since=since,
                after_id=after_id,
                limit=PAGE,
            )
            for row in rows:
                if row["id"] in self._seen:
                    continue
                await self._apply(row["kind"], row["origin"], json.loads(row["payload"]))
                self._seen[row["id"]] = row["at"]
                self._newest = max(self._newest, row["at"])
                applied += 1
            if len(rows) < PAGE:
                break
            since, after_id = rows[-1]["at"], rows[-1]["id"]  # the next page
        self._last_read = time.monotonic()
        horizon = self._newest - 2 * WINDOW_MS
        self._seen = {key: at for key, at in self._seen.items() if at >= horizon}
        self.applied += applied
        if time.monotonic() - self._last_prune > PRUNE_EVERY:
            self._last_prune = time.monotonic()
            await state.prune_feed(self._newest - RETENTION_MS)
        return applied

    async def _apply(self, kind: str, origin: str, payload: dict[str, Any]) -> None:
        state = self.state
        if kind == "interactions":
            state.apply_interactions(
                [{"user_id": user, "item_id": item} for user, item in payload["pairs"]]
            )
        elif kind == "item_created":
            await state.apply_item_created(payload["id"], payload["title"], payload["links"])
        elif kind == "item_deleted":
            await state.apply_item_deleted(payload["id"])
        elif kind == "user_erased":
            await state.apply_user_erased(lambda ids: matching(ids, self.log.key, payload["hash"]))
        elif kind == "reload" and origin != self.log.origin:
            await state.reload()


def matching(user_ids: Iterable[str], key: str | None, hashed: str) -> list[str]:
    """The ids among ``user_ids`` whose keyed hash is ``hashed``."""
    if key is None:
        return []
    return [user for user in user_ids if user_hash(key, user) == hashed]
