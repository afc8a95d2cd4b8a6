"""What the running service holds: graph clients, the current index, the writer.

The index is one :class:`Index` object behind one reference: an immutable
snapshot of catalog and model versions, plus the interaction state, which
interactions update in place. A request
reads the reference once and ranks with that object only, so it sees one
model version however the reference changes meanwhile; ``POST /admin/reload``
and ``POST /items`` build a new object and swap the reference (serialised by
one lock). Interactions keep flowing during a reload: they are journalled and
replayed onto the new index before the swap. Other API processes' writes reach
this one through the change feed (:mod:`graphrec.api.replicas`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from graphrec.config import Settings
from graphrec.graph.async_client import AsyncGraphClient
from graphrec.graph.capabilities import probe, share_probe
from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.connect import resolve_target
from graphrec.graph.errors import GraphUnavailableError
from graphrec.schema import NodeLabel
from graphrec.serving import (
    InteractionState,
    LoadedIndex,
    Snapshot,
    UnknownItemError,
    UnknownUserError,
    ensure_item_vector_index,
    load_index,
)
from graphrec.writeback import ModelRecord

from .explaining import ExplainPool
from .metrics import Metrics
from .replicas import ChangeFeed, ChangeLog
from .writes import (
    InteractionWriter,
    ItemExistsError,
    create_item,
    erase,
    ping,
    read_once,
    write,
)

log = logging.getLogger("graphrec.api")


@dataclass(frozen=True)
class ServiceOptions:
    """How the service runs (the CLI's ``serve`` flags).

    Attributes:
        settings: graphrec settings (graph location, API key, body limit ...).
        dev: Allow writes without an API key (development only).
        read_only: Refuse writes (``POST /interactions`` and ``POST /items``).
        models: Models to serve (default: every model with an active version).
        default_model: Model used when a request names none.
        graph_timeout: Seconds a graph write or health check may take before 503.
        graph_retry_seconds: How long a write that failed transiently is retried, and the
            driver's retry budget for the (re)loads of the index. A request-time read is not
            retried, nor a write once the graph stops answering: those answer 503 at once.
    """

    settings: Settings
    dev: bool = False
    read_only: bool = False
    models: tuple[str, ...] | None = None
    default_model: str | None = None
    graph_timeout: float = 10.0
    graph_retry_seconds: float = 5.0


@dataclass(frozen=True)
class Index:
    """One consistent view: catalog and model versions, seen items, and where they came from."""

    snapshot: Snapshot
    state: InteractionState
    records: dict[str, ModelRecord]
    loaded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @classmethod
    def from_loaded(cls, loaded: LoadedIndex) -> Index:
        return cls(loaded.snapshot, loaded.state, loaded.records)


@dataclass(frozen=True)
class CreatedItem:
    item_id: str
    title: str | None
    concepts: list[str]
    embedded: dict[str, bool]  # model name -> whether it got a cold-start embedding


class ServiceState:
    """The live service. Build with :meth:`open` (in ``lifespan``), end with :meth:`close`."""

    def __init__(
        self,
        options: ServiceOptions,
        target: ConnectionTarget,
        loader: GraphClient,
        reader: GraphClient,
        graph: AsyncGraphClient,
        index: Index,
        vector_index: bool,
        metrics: Metrics,
    ) -> None:
        self.options = options
        self.target = target
        self.loader = loader  # sync client: (re)loads run in a worker thread
        self.reader = reader  # sync client without retries: request-time reads (explanations)
        self.graph = graph  # async client: per-request writes and health checks
        self.index = index
        self.vector_index = vector_index
        self.metrics = metrics
        interval = options.settings.api_sync_interval
        self.change_log = ChangeLog(uuid.uuid4().hex, enabled=interval > 0)
        self.feed = ChangeFeed(self, self.change_log, interval) if interval > 0 else None
        self.writer = InteractionWriter(
            graph,
            self.apply_interactions,
            timeout=options.graph_timeout,
            retry_seconds=options.graph_retry_seconds,
            ping_timeout=self.ping_timeout,
            log=self.change_log.interactions,
        )
        self.explainer = ExplainPool(options.settings.api_explain_concurrency)
        self._index_lock = asyncio.Lock()
        self._journal: list[tuple[str, list[str], float]] | None = None

    @property
    def settings(self) -> Settings:
        return self.options.settings

    @classmethod
    async def open(cls, options: ServiceOptions, metrics: Metrics) -> ServiceState:
        """Connect to the graph, probe it, load the index and start the writer.

        Three drivers: the loader retries (index loads are long and rare); the
        reader (explanations) and the async client (writes, pings, lookups) do
        not, so that a request meets an outage with 503 at once. They give up on
        getting a connection (pooled, or new with its handshake) after
        ``api_graph_connect_timeout`` seconds, the reader after the explanation
        timeout if that is longer: its reads are bounded by that deadline anyway
        (a kind not answered by then is flagged late), and on a busy server a new
        connection's handshake can take longer than the connect timeout. A graph
        that refuses connections fails at once either way.
        """
        connect = options.settings.api_graph_connect_timeout
        # The acquisition timeout is what bounds a new connection's Bolt handshake (a host that
        # accepts TCP but does not answer hangs there), as well as the wait for a pooled one.
        bounded: dict[str, Any] = {
            "connection_timeout": connect,
            "connection_acquisition_timeout": connect,
        }
        retrying = {**bounded, "max_transaction_retry_time": options.graph_retry_seconds}
        once = {**bounded, "max_transaction_retry_time": 0.0}
        target = await asyncio.to_thread(resolve_target, options.settings)
        loader = await asyncio.to_thread(GraphClient.open, target, **retrying)
        opened: list[GraphClient] = [loader]
        try:
            vector_index = (await asyncio.to_thread(probe, loader)).vector_index
            # The feed is followed from before the load: what commits meanwhile is applied
            # once more, which changes nothing.
            since = (await asyncio.to_thread(loader.read, "api/server_time"))[0]["now"]
            if options.settings.api_sync_interval > 0:
                await asyncio.to_thread(loader.write, "api/create_feed_key")
                key = (await asyncio.to_thread(loader.read, "api/feed_key"))[0]["key"]
            index = Index.from_loaded(
                await asyncio.to_thread(cls._load, loader, options, vector_index)
            )
            explain_wait = max(connect, options.settings.api_explain_timeout)
            reader = await asyncio.to_thread(
                GraphClient.open, target, **{**once, "connection_acquisition_timeout": explain_wait}
            )
            opened.append(reader)
            share_probe(loader, reader)  # explanations ask it; a request must not probe
            graph = await AsyncGraphClient.open(target, **once)
        except BaseException:
            for client in opened:
                client.close()
            raise
        state = cls(options, target, loader, reader, graph, index, vector_index, metrics)
        state.writer.start()
        if state.feed is not None:
            state.change_log.key = key
            state.feed.start(since)
        metrics.watch(state.gauges)
        log.info(
            "serving %s from %s (%d items)",
            ", ".join(r.id for r in index.records.values()),
            target.uri,
            index.snapshot.catalog.num_items,
        )
        return state

    @staticmethod
    def _load(loader: GraphClient, options: ServiceOptions, vector_index: bool) -> LoadedIndex:
        loaded = load_index(loader, models=options.models, default_model=options.default_model)
        if vector_index:
            for record in loaded.records.values():
                ensure_item_vector_index(loader, record)
        return loaded

    async def close(self) -> None:
        if self.feed is not None:
            await self.feed.stop()
        await self.writer.stop()
        await asyncio.to_thread(self.explainer.close)
        await self.graph.close()
        await asyncio.to_thread(self.reader.close)
        await asyncio.to_thread(self.loader.close)

    def gauges(self) -> dict[str, float | dict[str, float]]:
        """What ``/metrics`` reports about the service now (see :mod:`graphrec.api.metrics`)."""
        snapshot = self.index.snapshot
        return {
            "catalog_items": float(snapshot.catalog.num_items),
            "writer_queue": float(self.writer.queued),
            "explanations_running": float(self.explainer.running),
            "explanations_waiting": float(self.explainer.waiting),
            "feed_changes_applied": float(self.feed.applied if self.feed else 0),
            "model_version": {name: float(v.version) for name, v in snapshot.models.items()},
        }

    # -- reads ----------------------------------------------------------------------------------
    @property
    def ping_timeout(self) -> float:
        """Seconds a reachability check may take: a connection, then ``RETURN 1``."""
        return min(self.options.graph_timeout, 2 * self.settings.api_graph_connect_timeout)

    async def graph_error(self) -> str | None:
        """``None`` when the graph answers now, else why not."""
        return await ping(self.graph, self.ping_timeout)

    async def item_exists(self, item_id: str) -> bool:
        rows = await read_once(
            self.graph, "api/item_exists", self.options.graph_timeout, id=item_id
        )
        return bool(rows and rows[0]["n"])

    async def user_exists(self, user_id: str) -> bool:
        rows = await read_once(
            self.graph, "api/user_exists", self.options.graph_timeout, id=user_id
        )
        return bool(rows and rows[0]["n"])

    # -- interactions ---------------------------------------------------------------------------
    def apply_interactions(self, rows: list[dict[str, Any]]) -> None:
        """Record committed interactions in memory (and in the journal during a reload)."""
        now = time.time()
        by_user: dict[str, list[str]] = {}
        for row in rows:
            by_user.setdefault(row["user_id"], []).append(row["item_id"])
        index = self.index
        for user_id, item_ids in by_user.items():
            lookup = index.snapshot.catalog.item_pos
            index.state.add(user_id, [lookup[i] for i in item_ids if i in lookup], now)
            if self._journal is not None:
                self._journal.append((user_id, item_ids, now))

    # -- the index ------------------------------------------------------------------------------
    async def reload(self) -> tuple[Index, Index]:
        """Load the active model versions, catalog and seen items again; swap them in.

        Returns ``(before, after)``.

        Raises:
            GraphUnavailableError: the graph does not answer a ping (checked first, so
                that an outage answers at once instead of after the loader's retries).
        """
        reason = await self.graph_error()
        if reason is not None:
            raise GraphUnavailableError(reason)
        async with self._index_lock:
            before = self.index
            self._journal = []
            try:
                loaded = await asyncio.to_thread(
                    self._load, self.loader, self.options, self.vector_index
                )
                # Back on the event loop: nothing else runs until the swap.
                state = loaded.state
                catalog = loaded.snapshot.catalog
                remap = np.fromiter(
                    (catalog.item_pos.get(i, -1) for i in before.snapshot.catalog.item_ids),
                    dtype=np.int64,
                )
                oldest = min((m.trained_at for m in loaded.snapshot.models.values()), default=0.0)
                state.carry_over(before.state, remap, since=oldest)
                for user_id, item_ids, at in self._journal:
                    state.add(
                        user_id,
                        [catalog.item_pos[i] for i in item_ids if i in catalog.item_pos],
                        at,
                    )
                self.index = Index.from_loaded(loaded)
            finally:
                self._journal = None
            return before, self.index

    async def add_item(
        self, item_id: str, title: str | None, concepts: Sequence[dict[str, Any]]
    ) -> CreatedItem:
        """Create an item in the graph with cold-start embeddings, then make it servable.

        Raises:
            ItemExistsError: the id is taken (in memory or in the graph).
            GraphUnavailableError: the write failed.
        """
        async with self._index_lock:
            index = self.index
            if item_id in index.snapshot.catalog.item_pos:
                raise ItemExistsError(f"item {item_id!r} already exists")
            concept_ids = [c["id"] for c in concepts]
            links = [(c["id"], c["relation"], c.get("weight", 1.0)) for c in concepts]
            snapshot, vectors = index.snapshot.with_item(item_id, title, concept_ids, links)
            properties = {
                index.records[name].property: vector.astype(float).tolist()
                for name, vector in vectors.items()
                if vector is not None and NodeLabel.ITEM in index.records[name].labels
            }
            await create_item(
                self.graph,
                item_id=item_id,
                title=title,
                properties=properties,
                concepts=list(concepts),
                timeout=self.options.graph_timeout,
                retry_seconds=self.options.graph_retry_seconds,
                ping_timeout=self.ping_timeout,
                also=self.change_log.item_created(item_id, title, concepts),
            )
            index.state.grow(snapshot.catalog.num_items)
            self.index = replace(index, snapshot=snapshot)
        return CreatedItem(
            item_id,
            title,
            concept_ids,
            {name: vector is not None for name, vector in vectors.items()},
        )

    # -- erasure --------------------------------------------------------------------------------
    async def delete_user(self, user_id: str) -> None:
        """Erase a user from the graph (:mod:`graphrec.serving.erasure`), then from memory:
        their trained vectors in every model, seen items, popularity share and fold-in state.

        Holds the index lock (no reload or item creation meanwhile) and the writer's commit
        lock (no interaction batch commits between the graph write and the memory update).

        Raises:
            UnknownUserError: neither memory nor the graph knows the user.
            GraphUnavailableError: the graph write failed (memory is left as it was).
        """
        async with self._index_lock, self.writer.commit_lock:
            index = self.index
            in_memory = user_id in index.state or any(
                user_id in m.user_pos for m in index.snapshot.models.values()
            )
            if not in_memory and not await self.user_exists(user_id):
                raise UnknownUserError(f"unknown user {user_id!r}")
            await self._erase("erasure/delete_user", user_id, self.change_log.user_erased(user_id))
            self._forget_user(user_id)

    async def delete_item(self, item_id: str) -> None:
        """Erase an item from the graph, then from the catalog, every model and the seen
        items in memory: later requests can neither recommend it nor find it as similar.

        Raises:
            UnknownItemError: neither memory nor the graph knows the item.
            GraphUnavailableError: the graph write failed (memory is left as it was).
        """
        async with self._index_lock, self.writer.commit_lock:
            index = self.index
            if item_id not in index.snapshot.catalog.item_pos and not await self.item_exists(
                item_id
            ):
                raise UnknownItemError(f"unknown item {item_id!r}")
            await self._erase("erasure/delete_item", item_id, self.change_log.item_deleted(item_id))
            self._forget_item(item_id)

    async def _erase(self, name: str, node_id: str, also: list) -> None:
        await erase(
            self.graph,
            name,
            timeout=self.options.graph_timeout,
            retry_seconds=self.options.graph_retry_seconds,
            ping_timeout=self.ping_timeout,
            also=also,
            id=node_id,
        )

    def _forget_user(self, user_id: str) -> None:
        index = self.index
        index.state.remove_user(user_id)
        self.index = replace(index, snapshot=index.snapshot.without_user(user_id))

    def _forget_item(self, item_id: str) -> None:
        index = self.index
        if item_id in index.snapshot.catalog.item_pos:
            snapshot, position = index.snapshot.without_item(item_id)
            self.index = replace(index, snapshot=snapshot, state=index.state.without_item(position))

    # -- other processes' changes (graphrec.api.replicas) -----------------------------------
    async def announce_reload(self) -> None:
        """Tell the other API processes on this graph to reload (through the feed)."""
        for name, params in self.change_log.reloaded():
            await write(
                self.graph,
                name,
                retry_seconds=self.options.graph_retry_seconds,
                ping_timeout=self.ping_timeout,
                **params,
            )

    async def prune_feed(self, before: int) -> None:
        await write(
            self.graph,
            "api/prune_changes",
            retry_seconds=self.options.graph_retry_seconds,
            ping_timeout=self.ping_timeout,
            before=before,
            limit=10_000,
        )

    async def apply_item_created(self, item_id: str, title: str | None, links: list) -> None:
        """A new item from another process: cold-start embedded here as it was there."""
        async with self._index_lock:
            index = self.index
            if item_id in index.snapshot.catalog.item_pos:
                return
            links = [(concept, relation, float(weight)) for concept, relation, weight in links]
            concept_ids = [concept for concept, _, _ in links]
            snapshot, _ = index.snapshot.with_item(item_id, title, concept_ids, links)
            index.state.grow(snapshot.catalog.num_items)
            self.index = replace(index, snapshot=snapshot)

    async def apply_item_deleted(self, item_id: str) -> None:
        """An item erased through some process: forgotten here, unless the graph holds it
        again (re-ingested after the erasure; a reload may already have loaded it back)."""
        async with self._index_lock, self.writer.commit_lock:
            if item_id in self.index.snapshot.catalog.item_pos and not await self.item_exists(
                item_id
            ):
                self._forget_item(item_id)

    async def apply_user_erased(self, find: Callable[[Sequence[str]], list[str]]) -> None:
        """Forget the users among those in memory that ``find`` picks (by their hash) and
        the graph no longer holds."""
        async with self._index_lock, self.writer.commit_lock:
            index = self.index
            known = set(index.state.users())
            for model in index.snapshot.models.values():
                known.update(model.user_pos)
            for user_id in find(sorted(known)):
                if not await self.user_exists(user_id):  # else re-ingested since the erasure
                    self._forget_user(user_id)


__all__ = ["CreatedItem", "Index", "ItemExistsError", "ServiceOptions", "ServiceState"]
