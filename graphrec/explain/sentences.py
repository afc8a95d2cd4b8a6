"""Turning the rows of a path query into :class:`~graphrec.explain.paths.Explanation` objects,
each with one human sentence."""

from __future__ import annotations

from graphrec.explain.paths import Explanation, PathNode, PathRelationship
from graphrec.schema import NodeLabel, RelType

_VERBS = {
    "rating": "rated",
    "view": "viewed",
    "click": "clicked",
    "purchase": "bought",
    "play": "played",
}


def _verb(kind: str | None) -> str:
    return _VERBS.get(kind or "", "interacted with")


def _title(title: str | None, item_id: str) -> str:
    return f"*{title}*" if title else f"item {item_id}"


class PathBuilder:
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
            people = int(row["people"])
            group = "1 person" if people == 1 else f"{people} people"
            nodes += [PathNode(group, NodeLabel.USER), self.item]
            rels += [PathRelationship(RelType.INTERACTED), PathRelationship(RelType.INTERACTED)]
            sentence = f"{group} who interacted with {anchor} also interacted with {item_name}"
            details = {
                "weight": row["weight"],
                "ts": row["ts"],
                "people": people,
                "user_ids": list(row["other_ids"]),
            }
            return Explanation(kind, nodes, rels, 0.0, sentence, row["anchor_id"], details)
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
