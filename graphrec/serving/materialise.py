"""Recommendations materialised in the graph, for readers that only speak Cypher.

``graphrec recommend --all --k 20 --write`` ranks every user of the graph with the
service's code (:func:`graphrec.serving.recommend` over :func:`load_index`'s
index: trained vectors, fold-in, the popularity fallback, seen items left out) and
writes

    ``(:User)-[:RECOMMENDED {model, version, rank, score}]->(:Item)``

**Versions and the switch.** One ``(:Recommendations {model})`` node per model
name points at the version readers should follow (``version``, ``k``,
``users``, ``published_at``). A run writes the model version's edges while the
pointer still names the previous version (``pending_version`` records the
run), then one transaction moves the pointer, and only then are the previous
version's edges deleted, in batches. Readers filter by the pointer, so they see
the old version's edges or the new one's, never a mix:

.. code-block:: cypher

    MATCH (p:Recommendations {model: $model})
    MATCH (:User {id: $user})-[r:RECOMMENDED]->(i:Item)
    WHERE r.model = p.model AND r.version = p.version
    RETURN i.id AS item_id, r.rank AS rank, r.score AS score ORDER BY r.rank

**Resuming.** Each batch of users is one transaction, so a user holds all of
their edges of a version or none. A re-run skips users who hold their rank-1
edge of the version being written and writes the rest: an interrupted run
completes without duplicates, and a repeated run writes only users added
since. Edges of versions that are neither published nor being written (left
by an interrupted clean-up or an abandoned run) are deleted at the start.
A version already published with another ``k`` is refused: its edges are
visible, and rewriting them in place would not be atomic. Run one materialisation
per model at a time: two concurrent runs of the same version would both write
the users neither had finished.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tqdm import tqdm

from graphrec.graph.client import GraphClient
from graphrec.serving.index import LoadedIndex
from graphrec.serving.ranking import check_k, recommend

#: Users per write transaction (default).
BATCH_USERS = 500
#: Old edges deleted per transaction during the clean-up.
DELETE_BATCH = 20_000


class MaterialiseConflictError(ValueError):
    """The model version is already published with another ``k``."""


@dataclass(frozen=True)
class MaterialiseResult:
    """What one ``recommend --all --write`` run did."""

    model: str
    version: int
    k: int
    users: int  # users of the graph ranked or skipped in this run
    written: int  # users whose edges this run wrote
    skipped: int  # users who already held them (an earlier, interrupted run)
    edges: int  # RECOMMENDED edges this run wrote
    removed: int  # edges of other versions deleted
    seconds: float

    @property
    def users_per_second(self) -> float:
        """Users handled per second over the whole run (ranking, writing, switch, clean-up)."""
        return self.users / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "users_per_second": self.users_per_second}


def _pointer(graph: GraphClient, model: str) -> dict[str, Any] | None:
    rows = graph.read("recommend/recommendation_set", model=model)
    return rows[0] if rows else None


def delete_versions(graph: GraphClient, model: str, keep: list[int]) -> int:
    """Delete ``model``'s RECOMMENDED edges whose version is not in ``keep``; how many."""
    removed = 0
    while True:
        rows = graph.write_rows(
            "recommend/delete_recommended_versions", model=model, keep=keep, limit=DELETE_BATCH
        )
        deleted = int(rows[0]["deleted"]) if rows else 0
        removed += deleted
        if deleted == 0:
            return removed


def _user_ids(graph: GraphClient) -> Iterator[list[str]]:
    for page in graph.pages("export/user_ids_page", page_size=10_000):
        yield [row["id"] for row in page]


def materialise(
    graph: GraphClient,
    index: LoadedIndex,
    *,
    model: str | None = None,
    k: int = 20,
    batch_users: int = BATCH_USERS,
    progress: bool = True,
) -> MaterialiseResult:
    """Write every user's top-``k`` of one model version as ``RECOMMENDED`` edges and publish
    them (see the module docstring for the switch and resuming).

    Args:
        graph: An open sync client on the graph ``index`` was loaded from.
        index: What :func:`graphrec.serving.load_index` read.
        model: Model name (default: the index's default model).
        k: Items per user, 1 to :data:`~graphrec.serving.ranking.MAX_K` (default: 20).
        batch_users: Users per write transaction (default: 500).
        progress: Show a progress bar (default: True).

    Raises:
        MaterialiseConflictError: this version is already published with another ``k``.
        UnknownModelError: ``model`` is not loaded.
    """
    check_k(k)
    if batch_users < 1:
        raise ValueError(f"batch_users must be at least 1, got {batch_users}")
    start = time.perf_counter()
    snapshot, state = index.snapshot, index.state
    vectors = snapshot.model(model)
    name, version = vectors.name, vectors.version
    pointer = _pointer(graph, name)
    published = pointer["version"] if pointer else None
    if published == version and pointer is not None and pointer["k"] != k:
        raise MaterialiseConflictError(
            f"{name} v{version} is already materialised with k={pointer['k']}; "
            f"k={k} needs a new model version (or the same k)"
        )
    removed = 0
    if pointer and pointer["pending_version"] == version and pointer["pending_k"] != k:
        removed += delete_versions(graph, name, [v for v in (published,) if v is not None])
    removed += delete_versions(graph, name, [v for v in (published, version) if v is not None])
    graph.write("recommend/begin_recommendation_set", model=name, version=version, k=k)
    done = {
        row["id"] for row in graph.read("recommend/recommended_users", model=name, version=version)
    }

    users = written = skipped = edges = 0
    total = int(graph.read("export/count_users")[0]["n"])
    with tqdm(
        total=total, desc=f"recommend {name} v{version}", unit=" user", disable=not progress
    ) as bar:
        for page in _user_ids(graph):
            for at in range(0, len(page), batch_users):
                batch = page[at : at + batch_users]
                rows = []
                for user_id in batch:
                    if user_id in done:
                        skipped += 1
                        continue
                    ranking = recommend(snapshot, state, user_id, k=k, model=name, known_user=True)
                    items = [
                        {"item_id": i.item_id, "rank": i.rank, "score": i.score}
                        for i in ranking.items
                    ]
                    if items:
                        rows.append({"user_id": user_id, "items": items})
                        edges += len(items)
                    written += 1
                if rows:
                    graph.write(
                        "recommend/write_recommended", model=name, version=version, users=rows
                    )
                users += len(batch)
                bar.update(len(batch))
                bar.set_postfix(edges=f"{edges:,}")
    graph.write(
        "recommend/publish_recommendation_set",
        model=name,
        version=version,
        k=k,
        users=users,
        published_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    removed += delete_versions(graph, name, [version])
    return MaterialiseResult(
        model=name,
        version=version,
        k=k,
        users=users,
        written=written,
        skipped=skipped,
        edges=edges,
        removed=removed,
        seconds=time.perf_counter() - start,
    )


def read_recommended(graph: GraphClient, model: str, user_id: str) -> list[dict[str, Any]]:
    """A user's materialised recommendations of ``model``, current version, best first."""
    return graph.read("recommend/read_recommended", model=model, user=user_id)
