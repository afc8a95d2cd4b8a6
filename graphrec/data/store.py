"""A split kept with its run: :class:`~graphrec.data.RecData` saved to one file and read back,
and a fingerprint that says whether two runs saw the same split."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch

from graphrec.data.knowledge import KnowledgeGraph
from graphrec.data.recdata import RecData
from graphrec.data.types import DataError

#: The file a run keeps its split in.
SPLIT_FILE = "split.pt"
_FORMAT = "graphrec-split/1"


def fingerprint(data: RecData) -> str:
    """SHA-256 (hex, first 16 characters) of the split's edges, knowledge graph and counts.

    Equal fingerprints mean the same train, validation and test pairs in the same
    index space; the recipe (``split_config``) is not part of it.
    """
    digest = hashlib.sha256()
    digest.update(f"{data.num_users}:{data.num_items}".encode())
    for tensor in (data.train, data.val, data.test):
        digest.update(tensor.long().contiguous().cpu().numpy().tobytes())
        digest.update(b"|")
    if data.kg is not None:
        kg = data.kg
        digest.update(f"kg:{kg.num_concepts}:{','.join(kg.relation_names)}".encode())
        digest.update(kg.edge_index.long().contiguous().cpu().numpy().tobytes())
        digest.update(kg.edge_type.long().contiguous().cpu().numpy().tobytes())
        digest.update(kg.weights().float().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


def save_split(data: RecData, path: str | Path) -> Path:
    """Write ``data`` (edges, knowledge graph, recipe, fingerprint) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kg = data.kg
    payload: dict[str, Any] = {
        "format": _FORMAT,
        "fingerprint": fingerprint(data),
        "num_users": data.num_users,
        "num_items": data.num_items,
        "train": data.train,
        "val": data.val,
        "test": data.test,
        "split_config": data.split_config,
        "kg": None
        if kg is None
        else {
            "num_items": kg.num_items,
            "num_concepts": kg.num_concepts,
            "edge_index": kg.edge_index,
            "edge_type": kg.edge_type,
            "relation_names": list(kg.relation_names),
            "edge_weight": kg.edge_weight,
        },
    }
    partial = path.with_suffix(".tmp")
    torch.save(payload, partial)
    partial.replace(path)
    return path


def load_split(path: str | Path) -> RecData:
    """Read a split :func:`save_split` wrote; its fingerprint is checked.

    Raises:
        DataError: missing, unreadable or altered file (the message names it).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no saved split (runs trained before splits were kept have none)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same one line
        raise DataError(f"{path}: unreadable split file ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise DataError(f"{path}: not a graphrec split file")
    kg = payload["kg"]
    data = RecData(
        num_users=payload["num_users"],
        num_items=payload["num_items"],
        train=payload["train"],
        val=payload["val"],
        test=payload["test"],
        kg=None if kg is None else KnowledgeGraph(**kg),
        split_config=payload["split_config"],
    )
    if fingerprint(data) != payload["fingerprint"]:
        raise DataError(f"{path}: the split does not match its fingerprint; the file was altered")
    return data
