"""Where the streamed columns of an export go: numpy chunks in memory, or raw files on disk."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from graphrec.export.filters import ExportFilters
from graphrec.export.store import (
    COLUMN_DTYPES,
    EDGE_STORES,
    EXPORT_FORMAT,
    EXPORT_FORMAT_VERSION,
    IDS_FILE,
    MANIFEST_FILE,
    Layout,
)

#: Rows per chunk when the interactions are filtered and renumbered after the k-core.
_REWRITE_ROWS = 1 << 20


class MemorySink:
    """Append-only columns, grouped by store (an edge store of :data:`EDGE_STORES`, or
    ``"concept"``), kept in memory as numpy chunks.

    ``src`` and ``dst`` columns are read back together as ``edge_index``.
    """

    def __init__(self) -> None:
        self.lengths: dict[str, int] = {}
        self.attrs: dict[str, tuple[str, ...]] = {}
        self._parts: dict[tuple[str, str], list[np.ndarray]] = {}

    def append(self, store: str, columns: dict[str, np.ndarray]) -> None:
        """Append one page of equally long columns, cast to their :data:`COLUMN_DTYPES`."""
        arrays = {a: np.ascontiguousarray(v, dtype=COLUMN_DTYPES[a]) for a, v in columns.items()}
        lengths = {len(array) for array in arrays.values()}
        if len(lengths) != 1:
            raise ValueError(f"{store}: columns of one page differ in length: {lengths}")
        self.attrs.setdefault(store, tuple(arrays))
        for attr, array in arrays.items():
            self._write(store, attr, array)
        self.lengths[store] = self.lengths.get(store, 0) + lengths.pop()

    def column(self, store: str, attr: str) -> np.ndarray:
        """The whole column (empty when nothing was appended)."""
        parts = self._parts.get((store, attr), [])
        if not parts:
            return np.empty(0, COLUMN_DTYPES[attr])
        whole = parts[0] if len(parts) == 1 else np.concatenate(parts)
        self._parts[(store, attr)] = [whole]
        return whole

    def array(self, store: str, attr: str) -> np.ndarray:
        """``column``, or for ``"edge_index"`` the ``src`` and ``dst`` columns as one ``[2, E]``."""
        if attr == "edge_index":
            return np.stack([self.column(store, "src"), self.column(store, "dst")])
        return self.column(store, attr)

    def rewrite(
        self, store: str, transform: Callable[[int, dict[str, np.ndarray]], dict[str, np.ndarray]]
    ) -> None:
        """Replace ``store`` by ``transform(start, chunk)`` applied to consecutive row chunks."""
        staged = f"{store}~"
        sources = {attr: self.column(store, attr) for attr in self.attrs.get(store, ())}
        for start in range(0, self.lengths.get(store, 0), _REWRITE_ROWS):
            chunk = {
                attr: values[start : start + _REWRITE_ROWS] for attr, values in sources.items()
            }
            self.append(staged, transform(start, chunk))
        del sources
        for attr in self.attrs.pop(store, ()):
            self._drop(store, attr)
        self.lengths.pop(store, None)
        if staged in self.attrs:
            self.attrs[store] = self.attrs.pop(staged)
            self.lengths[store] = self.lengths.pop(staged)
            for attr in self.attrs[store]:
                self._move(staged, store, attr)

    # storage: overridden on disk
    def _write(self, store: str, attr: str, array: np.ndarray) -> None:
        self._parts.setdefault((store, attr), []).append(array)

    def _drop(self, store: str, attr: str) -> None:
        self._parts.pop((store, attr), None)

    def _move(self, source: str, target: str, attr: str) -> None:
        self._parts[(target, attr)] = self._parts.pop((source, attr))


class DiskSink(MemorySink):
    """The same columns as raw little-endian files ``<store>.<attr>.bin`` in ``folder``."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def path(self, store: str, attr: str) -> Path:
        return self.folder / f"{store}.{attr}.bin"

    def column(self, store: str, attr: str) -> np.ndarray:
        length = self.lengths.get(store, 0)
        if length == 0:
            return np.empty(0, COLUMN_DTYPES[attr])
        return np.memmap(self.path(store, attr), COLUMN_DTYPES[attr], mode="r", shape=(length,))

    def _write(self, store: str, attr: str, array: np.ndarray) -> None:
        with self.path(store, attr).open("ab") as out:
            array.tofile(out)

    def _drop(self, store: str, attr: str) -> None:
        self.path(store, attr).unlink(missing_ok=True)

    def _move(self, source: str, target: str, attr: str) -> None:
        os.replace(self.path(source, attr), self.path(target, attr))

    def finish(self, layout: Layout, filters: ExportFilters, page_size: int) -> None:
        """Join each ``src`` and ``dst`` into ``edge_index``, then write ids and manifest."""
        edges: dict[str, Any] = {}
        for store in layout.stores:
            joined = self.path(store, "edge_index")
            if self.lengths.get(store, 0):
                os.replace(self.path(store, "src"), joined)
                with joined.open("ab") as out, self.path(store, "dst").open("rb") as dst:
                    shutil.copyfileobj(dst, out, 1 << 24)
                self.path(store, "dst").unlink()
            edge_type, attrs = EDGE_STORES[store]
            n = self.lengths.get(store, 0)
            edges[store] = {
                "type": list(edge_type),
                "tensors": {
                    "edge_index": self._spec(store, "edge_index", [2, n]),
                    **{attr: self._spec(store, attr, [n]) for attr in attrs},
                },
            }
        ids = layout.id_map
        concept_kind = self._spec("concept", "kind", [len(ids.concepts)])
        for path in self.folder.iterdir():  # the data is on disk before the folder is renamed
            with path.open("rb+") as handle:
                os.fsync(handle.fileno())
        ids.save(self.folder / IDS_FILE)
        manifest = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "page_size": page_size,
            "filters": asdict(filters),
            "ids": IDS_FILE,
            "counts": {
                "user": len(ids.users),
                "item": len(ids.items),
                "concept": len(ids.concepts),
                **{store: self.lengths.get(store, 0) for store in layout.stores},
            },
            "concept_kinds": layout.concept_kinds,
            "relation_names": layout.relation_names,
            "nodes": {"concept": {"kind": concept_kind}},
            "edges": edges,
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        (self.folder / MANIFEST_FILE).write_text(text, encoding="utf-8")

    def _spec(self, store: str, attr: str, shape: list[int]) -> dict[str, Any]:
        path = self.path(store, attr)
        path.touch()  # an empty tensor still has its (empty) file
        return {"file": path.name, "dtype": COLUMN_DTYPES[attr].str, "shape": shape}
