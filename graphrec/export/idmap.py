"""The map from business ids to contiguous indices per node type, saved with every export."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class IdMap:
    """Business ids per node type, in index order (``users[i]`` is user index ``i``)."""

    users: list[str]
    items: list[str]
    concepts: list[str] = field(default_factory=list)
    item_titles: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index: dict[str, dict[str, int]] = {}

    def index(self, node_type: str, business_id: str) -> int:
        """The index of ``business_id`` among ``node_type`` (``"user"``, ``"item"``, ``"concept"``)."""
        lookup = self._index.get(node_type)
        if lookup is None:
            ids = {"user": self.users, "item": self.items, "concept": self.concepts}[node_type]
            lookup = self._index[node_type] = {value: i for i, value in enumerate(ids)}
        return lookup[business_id]

    def save(self, path: str | Path) -> None:
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        Path(path).write_text(json.dumps(data, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> IdMap:
        return cls(**json.loads(Path(path).read_text()))
