"""The KGAT / KGIN benchmark layout (amazon-book, last-fm, yelp2018 ...).

Files, all space-separated integers (remapped ids):

* ``train.txt`` (required), ``test.txt``: ``user item item ...`` per line.
* ``kg_final.txt``: ``head relation tail``. Entities ``0 .. n_items-1`` *are*
  the items.
* ``item_list.txt`` (``org_id remap_id freebase_id``), ``entity_list.txt``
  (``org_id remap_id``), ``relation_list.txt`` (``org_id remap_id``),
  ``user_list.txt`` (``org_id remap_id``): optional names, each with a header
  line.

The same train/test files without a KG (the LightGCN gowalla/yelp2018 layout)
parse too.

What becomes what:

* items -> :class:`ItemRow` with id ``str(remap_id)`` for every id below
  ``n_items`` that appears in ``item_list.txt``, train/test or the KG;
  properties ``org_id`` and ``freebase_id`` from ``item_list.txt``.
  ``n_items`` is the largest remap id of ``item_list.txt`` plus one, else the
  largest item id in train/test plus one (as KGAT computes it). Only ids that
  appear become items, so one line with a huge id cannot make the parser
  emit a row per number below it.
* non-item entities -> ``entity`` concepts named by ``entity_list.txt``'s
  ``org_id`` (e.g. a Freebase mid), else by the remap id.
* relation names come from ``relation_list.txt`` with the
  ``http://rdf.freebase.com/ns/`` prefix removed (``film.film.actor``), else
  ``relation_<id>``.
* a triple whose head is an item -> :class:`ItemConceptRow` (item, tail
  concept, relation); between two non-items -> :class:`ConceptRelationRow`.
* an item as the *tail* of a triple (or as head and tail at once) is
  represented by its own entity concept (named by its Freebase id when known),
  linked from the item by an :class:`ItemConceptRow` with relation
  :data:`~graphrec.loaders.rows.LINKED_ENTITY`, exactly like a RecBole
  ``.link`` file; the triple then points at that concept. KGAT's inverse
  relations are not added: the graph is directed and queries can walk both ways.
* each ``user item`` pair -> :class:`InteractionRow` with kind
  ``"interacted"`` and ``split`` ``"train"`` or ``"test"``; users are
  ``str(remap_id)`` with property ``org_id`` from ``user_list.txt``.

Rows come out items, KG, then train and test interactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from graphrec.schema import DEFAULT_INTERACTION_KIND, ConceptKind

from ._io import DelimitedFile, RowError, parse_int, require_dir, require_file
from ._nodes import Seen, check_concepts
from .rows import (
    LINKED_ENTITY,
    ConceptRelationRow,
    InteractionRow,
    ItemConceptRow,
    Reject,
    Row,
)

__all__ = ["FREEBASE_PREFIX", "parse_kgat"]

FREEBASE_PREFIX = "http://rdf.freebase.com/ns/"

SPLITS = (("train.txt", "train"), ("test.txt", "test"))


@dataclass(slots=True)
class _Names:
    """Names from the optional ``*_list.txt`` files, keyed by remap id."""

    items: dict[int, tuple[str, str]] = field(default_factory=dict)  # org_id, freebase_id
    entities: dict[int, str] = field(default_factory=dict)
    relations: dict[int, str] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)


def parse_kgat(path: Path, *, test: bool = True, kg: bool = True) -> Iterator[Row]:
    """Parse a KGAT/KGIN dataset folder.

    Args:
        path: The folder holding ``train.txt`` (and ``test.txt``, ``kg_final.txt``...).
        test: Also read ``test.txt`` when present (default: ``True``).
        kg: Read ``kg_final.txt`` when present (default: ``True``).

    Raises:
        LoaderError: the folder or ``train.txt`` is missing. Raised by this
            call, before any row is produced.
    """
    folder = require_dir(path, "kgat")
    require_file(folder / "train.txt")
    logs = [
        (DelimitedFile(folder / name, sep=None), split)
        for name, split in SPLITS
        if name == "train.txt" or (test and (folder / name).is_file())
    ]
    kg_file = folder / "kg_final.txt"
    kg_triples = DelimitedFile(kg_file, sep=None) if kg and kg_file.is_file() else None
    return _emit(folder, logs, kg_triples)


def _emit(
    folder: Path, logs: list[tuple[DelimitedFile, str]], kg: DelimitedFile | None
) -> Iterator[Row]:
    names = _Names()
    yield from _read_names(folder, names)
    logged = set().union(*(_item_ids(log) for log, _ in logs))
    n_items = max(names.items) + 1 if names.items else max(logged, default=-1) + 1

    seen = Seen()
    for remap in sorted(set(names.items) | {i for i in logged if i < n_items}):
        yield _item_row(remap, names, seen)

    if kg is not None:
        yield from _kg_rows(kg, n_items, names, seen)

    for log, split in logs:
        yield from _log_rows(log, split, n_items, names, seen)


def _kg_rows(kg: DelimitedFile, n_items: int, names: _Names, seen: Seen) -> Iterator[Row]:
    def entity(remap: int) -> tuple[str, list[Row]]:
        """The concept standing for an entity, and its new rows."""
        new: list[Row] = []
        if remap < n_items:
            if str(remap) not in seen.items:
                new.append(_item_row(remap, names, seen))
            name = names.entities.get(remap) or names.items.get(remap, ("", ""))[1] or str(remap)
            cid, concept = seen.concept(ConceptKind.ENTITY, name)
            if concept:
                new += [concept, ItemConceptRow(str(remap), cid, LINKED_ENTITY)]
        else:
            cid, concept = seen.concept(ConceptKind.ENTITY, names.entities.get(remap, str(remap)))
            if concept:
                new.append(concept)
        return cid, new

    for record in kg.rows(columns=3):
        if isinstance(record, Reject):
            yield record
            continue
        number, fields = record
        try:
            head, relation_id, tail = (int(f) for f in fields)
            if min(head, relation_id, tail) < 0:
                raise ValueError
        except ValueError:
            yield kg.reject(number, f"expected three non-negative integers, found {fields}")
            continue
        relation = names.relations.get(relation_id, f"relation_{relation_id}")
        tail_id, new = entity(tail)
        yield from new
        if head < n_items:
            if str(head) not in seen.items:
                yield _item_row(head, names, seen)
            yield ItemConceptRow(str(head), tail_id, relation)
        else:
            head_id, new = entity(head)
            yield from new
            yield ConceptRelationRow(head_id, relation, tail_id)


def _log_rows(
    log: DelimitedFile, split: str, n_items: int, names: _Names, seen: Seen
) -> Iterator[Row]:
    kind = DEFAULT_INTERACTION_KIND
    for record in log.rows():
        if isinstance(record, Reject):
            yield record
            continue
        number, fields = record
        try:
            ids = [int(f) for f in fields]
        except ValueError:
            yield log.reject(number, "expected space-separated integers")
            continue
        if not ids:  # only Unicode whitespace, which bytes.isspace() does not skip
            yield log.reject(number, "expected a user id and item ids")
            continue
        bad = [i for i in ids[1:] if not 0 <= i < n_items]
        if ids[0] < 0 or bad:
            if bad:
                reason = f"unknown item {bad[0]} (items are 0..{n_items - 1})"
            else:
                reason = f"user id {ids[0]} is negative"
            yield log.reject(number, reason)
            continue
        user_id = str(ids[0])
        if user_id not in seen.users:
            org_id = names.users.get(ids[0])
            user = seen.user(user_id, {"org_id": org_id} if org_id else None)
            if user:
                yield user
        for item in ids[1:]:
            yield InteractionRow(user_id, str(item), kind, 1.0, None, None, split)


def _item_row(remap: int, names: _Names, seen: Seen) -> Row:
    """The :class:`ItemRow` of a remap id not yet seen, with its names from item_list.txt."""
    properties = {}
    if remap in names.items:
        org_id, freebase_id = names.items[remap]
        properties = {"org_id": org_id, "freebase_id": freebase_id}
    row = seen.item(str(remap), None, {k: v for k, v in properties.items() if v})
    assert row is not None, f"item {remap} yielded twice"
    return row


def _item_ids(log: DelimitedFile) -> set[int]:
    """Every non-negative item id in a log; bad lines are skipped here and rejected later."""
    ids: set[int] = set()
    for record in log.rows():
        if isinstance(record, Reject):
            continue
        try:
            items = [int(f) for f in record[1][1:]]
        except ValueError:
            continue
        ids.update(i for i in items if i >= 0)
    return ids


def _read_names(folder: Path, names: _Names) -> Iterator[Reject]:
    """Fill ``names`` from the optional list files; yields rejects for bad lines."""
    targets = (
        ("item_list.txt", 3, names.items),
        ("entity_list.txt", 2, names.entities),
        ("relation_list.txt", 2, names.relations),
        ("user_list.txt", 2, names.users),
    )
    for filename, columns, into in targets:
        path = folder / filename
        if not path.is_file():
            continue
        file = DelimitedFile(path, sep=None, header=True)
        for record in file.rows(columns=columns):
            if isinstance(record, Reject):
                yield record
                continue
            number, fields = record
            try:
                remap = parse_int(fields[1], "remap_id")
                if remap < 0:
                    raise RowError(f"remap_id {remap} is negative")
                if filename != "relation_list.txt":
                    check_concepts(ConceptKind.ENTITY, fields[2:] + fields[:1])
            except ValueError as exc:
                yield file.reject(number, str(exc))
                continue
            if filename == "item_list.txt":
                into[remap] = (fields[0], fields[2])  # type: ignore[assignment]
            elif filename == "relation_list.txt":
                into[remap] = fields[0].removeprefix(FREEBASE_PREFIX)
            else:
                into[remap] = fields[0]
