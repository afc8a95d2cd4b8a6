"""Telling running API processes about writes made outside the API.

Every ``graphrec serve`` process follows a change feed in the graph (``(:Change)`` nodes,
graphrec/api/replicas.py): each write through the API adds an entry, and every process applies
the entries it has not applied yet. The writes graphrec's commands make directly in the graph
(``graphrec ingest``, ``graphrec train`` writing a new model version, ``graphrec users delete``,
``graphrec items delete``) add entries here too, so that the processes serving that graph pick
them up within one sync interval instead of waiting for ``POST /admin/reload``:

- after an ingest or a new model version: a ``reload`` entry (each process reloads its catalog,
  seen items and models from the graph);
- after an erasure: the same entry as the API's ``DELETE`` (a user is named only by a keyed hash,
  and the feed's earlier entries that name the user are deleted).

A graph no API process has ever served has no feed (no ``(:ChangeFeed)`` node): then nothing is
written. Each entry is written after the change it announces, in its own transaction, so a
failure to announce never undoes the change; the caller reports it and a reload still works.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from graphrec.graph.client import GraphClient

#: The ``origin`` of entries written by graphrec's commands (API processes apply entries
#: from every origin but their own).
ORIGIN = "graphrec-cli"


def user_hash(key: str, user_id: str) -> str:
    """The keyed hash an erasure entry names its user by."""
    return hashlib.sha256(f"{key}\x00{user_id}".encode()).hexdigest()


def entry(
    kind: str, origin: str, payload: dict[str, Any], users: Sequence[str] = ()
) -> tuple[str, dict[str, Any]]:
    """The ``(statement, params)`` that adds one entry to the feed."""
    params = {
        "id": uuid.uuid4().hex,
        "kind": kind,
        "origin": origin,
        "users": list(users),
        "payload": json.dumps(payload),
    }
    return ("api/log_change", params)


def feed_key(graph: GraphClient) -> str | None:
    """The feed's hash key, or ``None`` when no API process has set up a feed on this graph."""
    rows = graph.read("api/feed_key")
    return rows[0]["key"] if rows else None


def announce_reload(graph: GraphClient) -> bool:
    """Ask every API process on ``graph`` to reload; ``False`` when the graph has no feed."""
    if feed_key(graph) is None:
        return False
    name, params = entry("reload", ORIGIN, {})
    graph.write(name, **params)
    return True


def announce_item_deleted(graph: GraphClient, item_id: str) -> bool:
    """Tell every API process that ``item_id`` was erased; ``False`` when there is no feed."""
    if feed_key(graph) is None:
        return False
    name, params = entry("item_deleted", ORIGIN, {"id": item_id})
    graph.write(name, **params)
    return True


def announce_user_erased(graph: GraphClient, user_id: str) -> bool:
    """Tell every API process that ``user_id`` was erased, and delete the feed's earlier entries
    that name the user; ``False`` when there is no feed."""
    key = feed_key(graph)
    if key is None:
        return False
    graph.write("api/forget_user_changes", id=user_id)
    name, params = entry("user_erased", ORIGIN, {"hash": user_hash(key, user_id)})
    graph.write(name, **params)
    return True
