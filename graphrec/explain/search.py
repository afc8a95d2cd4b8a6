r"""Explanations: real paths in the graph from a user to a recommended item, ranked by the model.

Five kinds of path, one Cypher file each in ``cypher/explain/``:

- **collaborative**: you ─INTERACTED→ *anchor* ←INTERACTED─ other user ─INTERACTED→ *item*
- **content**: you ─INTERACTED→ *anchor* ─HAS_CONCEPT→ concept ←HAS_CONCEPT─ *item*
- **knowledge_graph**: you → *anchor* → concept ─RELATED─ … ─RELATED─ concept ← *item*
- **co_engagement**: you ─INTERACTED→ *anchor* ─CO_ENGAGED─ *item*
- **attribute**: you ─HAS_ATTRIBUTE→ concept ←HAS_ATTRIBUTE─ users ─INTERACTED→ *item*

Ranking. A path is as good as the share of the item's score that its anchor
item accounts for in the model. With :math:`e` the model's final embeddings
(the same ones that scored the item) and :math:`d_a` the anchor's number of
interactions:

.. math::
    \text{score}(p) = \frac{\max(0,\; e_{\text{anchor}}^\top e_{\text{item}})}{\sqrt{d_{\text{anchor}}}}

This is the anchor's term in LightGCN's user rule,
:math:`e_u \propto \sum_{j \in N_u} e_j / \sqrt{d_j}`, which is also how the
service folds users in: the best path is the one whose anchor the user's score
of the item leans on most. Measured on ml-latest-small (bench/explain.py):
removing the best path's anchor lowers the folded-in score more than removing
~94% of the user's other items would, where an earlier cosine x rating x
recency x kind formula picked anchors at the 40th percentile (worse than a
random path). Among paths with the same anchor, a small preference for tighter
kinds decides (co-engagement 1.0, content 0.9, collaborative 0.8, knowledge
graph 0.7 minus 0.1 per extra hop). The interaction's weight is not used (the
models train on implicit feedback and ignore it); recency is opt-in
(``half_life_days``), since the models ignore time too. Attribute paths have no
anchor item: they score :math:`\max(0, \cos(e_{\text{user}}, e_{\text{item}}))`
times the share of the supporting users and come after the anchored paths.
Paths whose anchor has no embedding score 0 and come last. Relation attention
weights are not used yet: no serving path exposes them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import wait
from dataclasses import asdict, dataclass, field
from typing import Any

import neo4j
import numpy as np

from graphrec.graph.client import GraphClient
from graphrec.schema import NodeLabel, RelType

#: Path kinds, in the order they are queried.
PATH_KINDS = ("co_engagement", "content", "collaborative", "knowledge_graph", "attribute")

KIND_PRIOR = {
    "co_engagement": 1.0,
    "content": 0.9,
    "collaborative": 0.8,
    "knowledge_graph": 0.7,
    "attribute": 0.5,
}

_VERBS = {
    "rating": "rated",
    "view": "viewed",
    "click": "clicked",
    "purchase": "bought",
    "play": "played",
}

#: ``vector(label, id)``: the model's embedding of a node, or None.
VectorLookup = Callable[[str, str], "np.ndarray | None"]

#: ``degree(item_id)``: the item's number of interactions.
DegreeLookup = Callable[[str], float]


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

    def as_dict(self) -> dict[str, Any]:
        """The public form (what the API and ``--json`` return): no ranking internals."""
        data = asdict(self)
        return {key: data[key] for key in ("kind", "score", "sentence", "nodes", "relationships")}


def _cosine(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None:
        return 0.0
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / denominator if denominator else 0.0


def _verb(kind: str | None) -> str:
    return _VERBS.get(kind or "", "interacted with")


def _title(title: str | None, item_id: str) -> str:
    return f"*{title}*" if title else f"item {item_id}"


class _Builder:
    """Turns the rows of one path query into :class:`Explanation` objects."""

    def __init__(self, user_id: str, item_id: str, item_title: str | None) -> None:
        self.user = PathNode(user_id, NodeLabel.USER)
        self.item = PathNode(item_id, NodeLabel.ITEM, item_title)

    def anchor_part(self, row: dict) -> tuple[list[PathNode], list[PathRelationship]]:
        anchor = PathNode(row["anchor_id"], NodeLabel.ITEM, row["anchor_title"])
        return [self.user, anchor], [PathRelationship(RelType.INTERACTED, row["kind"])]

    def build(self, kind: str, row: dict) -> Explanation:
        nodes: list[PathNode]
        rels: list[PathRelationship]
        item_name = _title(self.item.name, self.item.id)
        if kind == "attribute":
            concept = PathNode(row["concept_id"], NodeLabel.CONCEPT, row["concept_name"])
            nodes = [
                self.user,
                concept,
                PathNode(f"{row['others']} users", NodeLabel.USER),
                self.item,
            ]
            rels = [
                PathRelationship(RelType.HAS_ATTRIBUTE, row["relation"]),
                PathRelationship(RelType.HAS_ATTRIBUTE, row["relation"]),
                PathRelationship(RelType.INTERACTED),
            ]
            sentence = (
                f"Because {row['others']} other users with your {row['concept_kind'].replace('_', ' ')} "
                f"*{row['concept_name']}* liked {item_name}"
            )
            return Explanation(kind, nodes, rels, 0.0, sentence, None, {"others": row["others"]})

        nodes, rels = self.anchor_part(row)
        anchor = _title(row["anchor_title"], row["anchor_id"])
        because = f"Because you {_verb(row['kind'])} {anchor}"
        if kind == "collaborative":
            nodes += [PathNode(row["other_id"], NodeLabel.USER), self.item]
            rels += [PathRelationship(RelType.INTERACTED), PathRelationship(RelType.INTERACTED)]
            sentence = f"{because}, and people who did that also liked {item_name}"
        elif kind == "content":
            nodes += [
                PathNode(row["concept_id"], NodeLabel.CONCEPT, row["concept_name"]),
                self.item,
            ]
            rels += [
                PathRelationship(RelType.HAS_CONCEPT, row["relation"]),
                PathRelationship(RelType.HAS_CONCEPT, row["relation2"]),
            ]
            what = row["concept_kind"].replace("_", " ")
            sentence = (
                f"{because}, which also has the {what} *{row['concept_name']}*, like {item_name}"
            )
        elif kind == "co_engagement":
            nodes.append(self.item)
            rels.append(PathRelationship(RelType.CO_ENGAGED))
            sentence = f"{because}, and {row['shared']} people who engaged with it also engaged with {item_name}"
        elif kind == "knowledge_graph":
            concepts = [PathNode(c["id"], NodeLabel.CONCEPT, c["name"]) for c in row["concepts"]]
            nodes += [*concepts, self.item]
            rels.append(PathRelationship(RelType.HAS_CONCEPT, row["relation"]))
            rels += [PathRelationship(RelType.RELATED, hop) for hop in row["hops"]]
            rels.append(PathRelationship(RelType.HAS_CONCEPT, row["relation2"]))
            chain = " → ".join(f"*{c.name or c.id}*" for c in concepts)
            sentence = f"{because}, which links to {item_name} through {chain}"
        else:
            raise ValueError(f"unknown path kind {kind!r}")
        details = {"weight": row["weight"], "ts": row["ts"]}
        return Explanation(kind, nodes, rels, 0.0, sentence, row["anchor_id"], details)


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


def find_paths(
    graph: GraphClient,
    user_id: str,
    item_id: str,
    *,
    max_hops: int = 3,
    per_kind: int = 25,
    kinds: Sequence[str] = PATH_KINDS,
    timeout: float | None = None,
) -> PathSearch:
    """Every candidate path (up to ``per_kind`` of each kind), unscored.

    The kinds' queries run concurrently. With a ``timeout`` (seconds), the
    search returns when it has passed, with the paths of the kinds that
    answered and the others named in :attr:`PathSearch.timed_out`; the timeout
    is also sent as each query's transaction timeout, so Neo4j stops the
    abandoned queries (engines that ignore it let them finish in the background).
    A kind whose rows arrive after the deadline is left out even if they arrive
    before the search returns.
    """
    if not 1 <= max_hops <= 4:
        raise ValueError(f"max_hops must be between 1 and 4, got {max_hops}")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be positive seconds, got {timeout}")
    deadline = None if timeout is None else time.monotonic() + timeout
    titles = graph.submit_read("explain/titles", timeout_=timeout, ids=[item_id])
    queries = {}
    for kind in kinds:
        params: dict[str, Any] = {"user": user_id, "item": item_id, "limit": per_kind}
        if kind == "knowledge_graph":
            params["max_hops"] = max_hops
        queries[kind] = graph.submit_read(f"explain/{kind}", timeout_=timeout, **params)
    answered: dict[str, float] = {}  # kind -> when its rows arrived
    for kind, future in queries.items():
        future.add_done_callback(lambda _, kind=kind: answered.setdefault(kind, time.monotonic()))
    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
    wait([titles, *queries.values()], timeout=remaining)
    title_rows = titles.result() if titles.done() else []
    builder = _Builder(user_id, item_id, title_rows[0]["title"] if title_rows else None)
    paths: list[Explanation] = []
    timed_out: list[str] = []
    for kind, future in queries.items():
        # Rows that came in after the deadline count as late too, so the answer depends on
        # the deadline alone, not on how soon this thread got to look.
        late = deadline is not None and answered.get(kind, math.inf) > deadline
        if not future.done() or late:
            future.cancel()  # a query still queued never starts
            timed_out.append(kind)
            continue
        try:
            rows = future.result()
        except neo4j.exceptions.ClientError as exc:
            if "TransactionTimedOut" not in (exc.code or ""):
                raise
            timed_out.append(kind)  # Neo4j enforced the transaction timeout
            continue
        paths.extend(builder.build(kind, row) for row in rows)
    return PathSearch(paths, tuple(timed_out))


def rank_paths(
    paths: list[Explanation],
    vector: VectorLookup,
    *,
    user_id: str,
    item_id: str,
    degree: DegreeLookup | None = None,
    half_life_days: float | None = None,
) -> list[Explanation]:
    """Score ``paths`` with the model's embeddings (see the module docstring), best first.

    Args:
        degree: ``degree(item_id)``, an item's number of interactions (default: 1 for
            every item, i.e. the plain dot product).
        half_life_days: Also weigh each anchor by :math:`2^{-\\Delta t / h}`, its
            interaction's age relative to the user's latest (default: off).
    """
    item_vec = vector(NodeLabel.ITEM, item_id)
    latest = max((p.details.get("ts") or 0 for p in paths if p.anchor_id), default=0)
    total_others = sum(p.details.get("others", 0) for p in paths if p.kind == "attribute") or 1
    for path in paths:
        if path.anchor_id is None:  # attribute paths
            similarity = _cosine(vector(NodeLabel.USER, user_id), item_vec)
            path.score = max(similarity, 0.0) * path.details["others"] / total_others
            continue
        anchor_vec = vector(NodeLabel.ITEM, path.anchor_id)
        dot = (
            float(anchor_vec @ item_vec) if anchor_vec is not None and item_vec is not None else 0.0
        )
        count = degree(path.anchor_id) if degree is not None else 1.0
        path.score = max(dot, 0.0) / math.sqrt(max(count, 1.0))
        if half_life_days:
            ts = path.details.get("ts")
            age_days = (latest - ts) / 86_400 if ts and latest else 0.0
            path.score *= math.pow(2.0, -age_days / half_life_days)
    return sorted(paths, key=_rank_key, reverse=True)


def _rank_key(path: Explanation) -> tuple[bool, float, float]:
    prior = KIND_PRIOR[path.kind]
    if path.kind == "knowledge_graph":
        prior -= 0.1 * (sum(r.type == RelType.RELATED for r in path.relationships) - 1)
    return (path.anchor_id is not None, path.score, prior)


def graph_degrees(graph: GraphClient, item_ids: Sequence[str]) -> DegreeLookup:
    """A :data:`DegreeLookup` over ``item_ids``, counted in the graph (one query)."""
    rows = graph.read("explain/item_degrees", ids=sorted(set(item_ids)))
    counts = {row["id"]: float(row["degree"]) for row in rows}
    return lambda item_id: counts.get(item_id, 1.0)


def explain(
    graph: GraphClient,
    user_id: str,
    item_id: str,
    vector: VectorLookup,
    *,
    max_paths: int = 3,
    max_hops: int = 3,
    timeout: float | None = None,
    degree: DegreeLookup | None = None,
) -> PathSearch:
    """The ``max_paths`` best explanations of recommending ``item_id`` to ``user_id``.

    Different anchors are preferred: the same anchor item appears at most once
    unless there are not enough other paths. ``timeout`` bounds the path search
    (see :func:`find_paths`); the result says which kinds it had to leave out.
    ``degree`` gives items' interaction counts (default: counted in the graph
    for the paths' anchors, one more query).
    """
    search = find_paths(graph, user_id, item_id, max_hops=max_hops, timeout=timeout)
    if degree is None and search.paths:
        degree = graph_degrees(graph, [p.anchor_id for p in search.paths if p.anchor_id])
    ranked = rank_paths(search.paths, vector, user_id=user_id, item_id=item_id, degree=degree)
    chosen: list[Explanation] = []
    anchors: set[str | None] = set()
    for path in ranked:
        if len(chosen) == max_paths:
            break
        if path.anchor_id is None or path.anchor_id not in anchors:
            chosen.append(path)
            anchors.add(path.anchor_id)
    chosen += [p for p in ranked if p not in chosen][: max_paths - len(chosen)]
    return PathSearch(chosen, search.timed_out)


def model_vectors(graph: GraphClient, model: str | None = None) -> tuple[str, VectorLookup]:
    """A :data:`VectorLookup` over the active version of ``model`` (default: the newest active model).

    Returns the model's ``"<name>@<version>"`` and the lookup. Raises ``LookupError``
    when no model has been written back yet.
    """
    from graphrec.writeback import list_models, read_embeddings

    active = [r for r in list_models(graph, model) if r.active]
    if not active:
        wanted = f"model {model!r}" if model else "any model"
        raise LookupError(f"no active {wanted} in the graph: train one first (graphrec train)")
    record = max(active, key=lambda r: r.trained_at)
    table: dict[tuple[str, str], np.ndarray] = {}
    for label in record.labels:
        if label in (NodeLabel.USER, NodeLabel.ITEM):
            embeddings = read_embeddings(graph, record, label)
            table.update(
                ((label, i), v) for i, v in zip(embeddings.ids, embeddings.vectors, strict=True)
            )
    return record.id, lambda label, node_id: table.get((str(label), node_id))
