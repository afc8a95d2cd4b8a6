"""What an explanation is: a real path from a user to an item, as nodes and relationships.

Five kinds of path, each found by Cypher in ``cypher/explain/`` (one statement per kind;
the knowledge-graph kind takes a few bounded steps, :mod:`graphrec.explain.kg_search`):

- **collaborative**: you ─INTERACTED→ *anchor* ←INTERACTED─ N other users ─INTERACTED→ *item*
- **content**: you ─INTERACTED→ *anchor* ─HAS_CONCEPT→ concept ←HAS_CONCEPT─ *item*
- **knowledge_graph**: you → *anchor* → concept ─RELATED─ … ─RELATED─ concept ← *item*
- **co_engagement**: you ─INTERACTED→ *anchor* ─CO_ENGAGED─ *item*
- **attribute**: you ─HAS_ATTRIBUTE→ concept ←HAS_ATTRIBUTE─ users ─INTERACTED→ *item*
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Other users' ids a collaborative path keeps at most (shown only where asked for).
MAX_USER_IDS = 25

#: Path kinds, in the order they are queried.
PATH_KINDS = ("co_engagement", "content", "collaborative", "knowledge_graph", "attribute")


@dataclass(frozen=True)
class PathNode:
    id: str
    label: str
    name: str | None = None


@dataclass(frozen=True)
class PathRelationship:
    type: str
    relation: str | None = None


@dataclass
class Explanation:
    kind: str
    nodes: list[PathNode]
    relationships: list[PathRelationship]
    score: float
    sentence: str
    anchor_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def people(self) -> int | None:
        """How many other users the path goes through (collaborative and attribute paths)."""
        count = self.details.get("people", self.details.get("others"))
        return None if count is None else int(count)

    def as_dict(self, *, include_user_ids: bool = False) -> dict[str, Any]:
        """The public form (what the API and ``--json`` return): no ranking internals, and
        other users only as a count (``people``); their ids only with ``include_user_ids``
        (at most :data:`MAX_USER_IDS`, for collaborative paths)."""
        data = asdict(self)
        out = {key: data[key] for key in ("kind", "score", "sentence", "nodes", "relationships")}
        out["people"] = self.people
        ids = self.details.get("user_ids")
        out["user_ids"] = list(ids) if include_user_ids and ids is not None else None
        return out


@dataclass
class PathSearch:
    """What a path search found: the paths, and the kinds whose query ran out of time.

    With ``timed_out`` non-empty the answer is partial: the paths are those of
    the kinds that answered within the deadline.
    """

    paths: list[Explanation]
    timed_out: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        return bool(self.timed_out)
