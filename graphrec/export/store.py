"""The on-disk format of an export, and reading it back.

An export folder (format version 1), written by :func:`graphrec.export.export_to_disk`:

- ``manifest.json``: ``format`` (``"graphrec-export"``), ``version``, the
  filters, node and edge counts, ``concept_kinds``, ``relation_names`` and, for
  each tensor, its file, dtype (numpy notation, little-endian) and shape;
- ``ids.json``: the :class:`IdMap` (as :meth:`IdMap.save` writes it);
- one raw little-endian array per tensor, no header: ``<edge>.edge_index.bin``
  (int64, shape ``[2, E]``: sources, then targets), ``<edge>.<attr>.bin``, and
  ``concept.kind.bin``. Dtypes are those of the tensors, so :func:`load_export`
  memory-maps every file and copies nothing.

It is written into a hidden sibling folder that is renamed into place at the
end: an interrupted export leaves no folder that looks complete.

:func:`save_export` writes the older single-file form (``graph.pt`` + ``ids.json``);
:func:`load_export` reads either.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import HeteroData

from graphrec.export.idmap import IdMap

#: ``format`` and ``version`` of the folders :func:`export_to_disk` writes.
EXPORT_FORMAT = "graphrec-export"
EXPORT_FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
IDS_FILE = "ids.json"

#: Edge types by store name, with their attributes besides ``edge_index``, in export order.
EDGE_STORES: dict[str, tuple[tuple[str, str, str], tuple[str, ...]]] = {
    "interacted": (("user", "interacted", "item"), ("weight", "ts", "split")),
    "has_concept": (("item", "has_concept", "concept"), ("relation", "weight")),
    "related": (("concept", "related", "concept"), ("relation",)),
    "subconcept_of": (("concept", "subconcept_of", "concept"), ()),
    "co_engaged": (("item", "co_engaged", "item"), ("weight",)),
}
#: Dtype of each column, on disk and as a tensor (``src`` and ``dst`` become ``edge_index``).
COLUMN_DTYPES = {
    "edge_index": np.dtype("<i8"),
    "src": np.dtype("<i8"),
    "dst": np.dtype("<i8"),
    "weight": np.dtype("<f4"),
    "ts": np.dtype("<i8"),
    "split": np.dtype("<i8"),
    "relation": np.dtype("<i8"),
    "kind": np.dtype("<i8"),
}
#: Called after each page is written with the edge store's name and the page's edge count.
PageCallback = Callable[[str, int], None]


class ExportError(Exception):
    """An export folder that cannot be written or read; the message names the path."""


@dataclass
class Layout:
    """What an export holds besides its columns: the id map, vocabularies, edge stores."""

    id_map: IdMap
    concept_kinds: list[str]
    relation_names: list[str]
    stores: list[str]  # edge stores, in EDGE_STORES order


def assemble(layout: Layout, array: Callable[[str, str], np.ndarray]) -> HeteroData:
    """Assemble ``HeteroData`` from the columns ``array(store, attr)`` of an export."""
    ids = layout.id_map
    data = HeteroData()
    data["user"].num_nodes = len(ids.users)
    data["item"].num_nodes = len(ids.items)

    def add_edges(store: str) -> None:
        edge_type, attrs = EDGE_STORES[store]
        for attr in ("edge_index", *attrs):
            setattr(data[edge_type], attr, torch.from_numpy(array(store, attr)))

    knowledge = [store for store in layout.stores if store != "interacted"]
    add_edges("interacted")
    data["concept"].num_nodes = len(ids.concepts)
    data["concept"].kind = torch.from_numpy(array("concept", "kind"))
    data.concept_kinds = list(layout.concept_kinds)
    for store in knowledge:
        add_edges(store)
    data.relation_names = list(layout.relation_names)
    return data


def check_replaceable(folder: Path) -> None:
    """Refuse to overwrite anything but nothing, an empty folder or an earlier export."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ExportError(f"{folder}: exists and is not a folder; choose another export folder")
    is_export = (folder / MANIFEST_FILE).is_file() or (folder / "graph.pt").is_file()
    if not is_export and any(folder.iterdir()):
        raise ExportError(
            f"{folder}: exists and holds no graphrec export ({MANIFEST_FILE} or graph.pt); "
            "refusing to replace it: choose a new or empty folder"
        )


def move_into_place(staging: Path, folder: Path) -> None:
    if not folder.exists():
        os.rename(staging, folder)
        return
    check_replaceable(folder)
    retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
    os.replace(folder, retired / "export")
    try:
        os.rename(staging, folder)
    except BaseException:
        os.rename(retired / "export", folder)
        raise
    finally:
        shutil.rmtree(retired, ignore_errors=True)


def save_export(folder: str | Path, data: HeteroData, id_map: IdMap) -> Path:
    """Save tensors (``graph.pt``) and the id map (``ids.json``) side by side."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(data, folder / "graph.pt")
    id_map.save(folder / IDS_FILE)
    return folder


def load_export(folder: str | Path) -> tuple[HeteroData, IdMap]:
    """Read an export folder: one :func:`export_to_disk` wrote (memory-mapped, nothing is
    copied) or one :func:`save_export` wrote (``graph.pt``, read into memory).

    Raises:
        ExportError: no export in ``folder``, or a damaged one (the message names the file).
    """
    folder = Path(folder)
    if (folder / MANIFEST_FILE).is_file():
        return _load_streamed(folder)
    if (folder / "graph.pt").is_file():
        data = torch.load(folder / "graph.pt", weights_only=False)
        return data, IdMap.load(folder / IDS_FILE)
    raise ExportError(
        f"{folder}: no export here (no {MANIFEST_FILE} or graph.pt); "
        "write one with `graphrec export FOLDER`"
    )


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of an :func:`export_to_disk` folder, its format and version checked."""
    path = Path(folder) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"{path}: not found; is {folder} an export folder?") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path}: unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise ExportError(f"{path}: format is not {EXPORT_FORMAT!r}")
    if manifest.get("version") != EXPORT_FORMAT_VERSION:
        raise ExportError(
            f"{path}: version {manifest.get('version')!r} is not supported "
            f"(this graphrec reads version {EXPORT_FORMAT_VERSION}); export again"
        )
    return manifest


def _load_streamed(folder: Path) -> tuple[HeteroData, IdMap]:
    manifest = read_manifest(folder)
    path = folder / MANIFEST_FILE
    try:
        id_map = IdMap.load(folder / manifest["ids"])
        counts = manifest["counts"]
        tensors = {store: entry["tensors"] for store, entry in manifest["edges"].items()}
        tensors["concept"] = manifest["nodes"]["concept"]
        layout = Layout(
            id_map, manifest["concept_kinds"], manifest["relation_names"], list(manifest["edges"])
        )
    except (OSError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path}: incomplete or damaged ({type(exc).__name__}: {exc})") from None
    for node, ids in (("user", id_map.users), ("item", id_map.items), ("concept", id_map.concepts)):
        if counts.get(node) != len(ids):
            raise ExportError(
                f"{path}: counts.{node} is {counts.get(node)!r} but {manifest['ids']} "
                f"has {len(ids)} {node} ids"
            )
    for store in layout.stores:
        if store not in EDGE_STORES:
            raise ExportError(f"{path}: unknown edge store {store!r} in edges")

    def array(store: str, attr: str) -> np.ndarray:
        spec = tensors[store].get(attr)
        if spec is None:
            raise ExportError(f"{path}: edges.{store}.tensors has no {attr!r}")
        return _mapped(folder, spec, COLUMN_DTYPES[attr], where=f"{store}.{attr}")

    return assemble(layout, array), id_map


def _mapped(folder: Path, spec: dict[str, Any], dtype: np.dtype, *, where: str) -> np.ndarray:
    """Memory-map one tensor file (copy-on-write: the file is never changed)."""
    name = spec.get("file")
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise ExportError(f"{folder / MANIFEST_FILE}: {where}: bad file name {name!r}")
    if np.dtype(spec.get("dtype")) != dtype:
        raise ExportError(
            f"{folder / MANIFEST_FILE}: {where}: dtype {spec.get('dtype')!r}, expected {dtype.str!r}"
        )
    shape = tuple(int(n) for n in spec["shape"])
    path = folder / name
    expected = int(np.prod(shape)) * dtype.itemsize
    actual = path.stat().st_size if path.is_file() else None
    if actual != expected:
        found = "missing" if actual is None else f"{actual:,} bytes"
        raise ExportError(
            f"{path}: expected {expected:,} bytes ({dtype.str} {list(shape)}), {found}"
        )
    if expected == 0:
        return np.empty(shape, dtype)
    return np.memmap(path, dtype=dtype, mode="c", shape=shape)
