"""RecBole atomic files: ``<name>.inter``, ``.item``, ``.user``, ``.kg``, ``.link``.

Every file is tab-separated with a typed header (``user_id:token``,
``rating:float``, ``class:token_seq`` ...); types are ``token``,
``token_seq`` (space-separated list), ``float`` and ``float_seq``. Only
``.inter`` is required.

What becomes what:

* ``.item`` -> :class:`ItemRow`. A ``token``/``token_seq`` field named
  ``title``, ``movie_title``, ``name`` or ``item_name`` is the title.
  ``token_seq`` fields become concepts, one per value, with the kind taken from
  the field name (:data:`FIELD_KINDS`: ``genre``/``genres``/``class`` ->
  genre, ``category``/``categories`` -> category, ``brand`` -> brand,
  ``tag``/``tags`` -> tag, ``author``/``authors`` -> author) and relation
  ``has_<kind>``; any other ``token_seq`` field gives ``entity`` concepts with
  relation ``has_<field>``. A ``token`` field named like a concept kind above
  (e.g. Amazon's ``brand:token``) is one concept. ``year``/``release_year``
  becomes the integer property ``year`` plus a ``has_decade`` concept. Other
  ``token`` fields and all ``float``/``float_seq`` fields become properties.
* ``.user`` -> :class:`UserRow`; ``age`` (raw ages put into the ML-1M bins),
  ``gender`` and ``occupation`` become attribute concepts (``has_age_group``,
  ``has_gender``, ``has_occupation``); other fields become properties.
* ``.kg`` (``head_id``, ``relation_id``, ``tail_id``) -> entity concepts
  (``concept_id("entity", id)``) and :class:`ConceptRelationRow` with the
  relation as given.
* ``.link`` (``item_id``, ``entity_id``) -> :class:`ItemConceptRow` with
  relation :data:`~graphrec.loaders.rows.LINKED_ENTITY` to the entity concept.
* ``.inter`` -> :class:`InteractionRow` (``rating`` and ``timestamp`` fields
  when present; other fields are ignored). Kind is ``"rating"`` when there is
  a rating field, else ``"interacted"``.

Ids follow :func:`graphrec.schema.normalize_id`; a ``rating`` obeys
:func:`graphrec.schema.check_value` and a ``timestamp``
:func:`graphrec.schema.check_timestamp`; a bad value rejects its line.

When a ``.item`` file exists it is the catalog and any other file naming an
item outside it is rejected; without one, items are created on first sight.
Rows come out in the order ``.item``, ``.kg``, ``.link``, ``.user``, ``.inter``.
Other atomic files (``.net``, ``.sess``) are not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from graphrec.schema import DEFAULT_INTERACTION_KIND, ConceptKind, normalize_id

from ._io import DelimitedFile, RowError, parse_timestamp, parse_value, require_dir
from ._nodes import IdCache, Seen, check_concepts
from ._recbole_tables import FIELD_KINDS, AtomicFile, Field, ItemReader, UserReader
from .errors import LoaderError
from .rows import (
    LINKED_ENTITY,
    ConceptRelationRow,
    InteractionRow,
    ItemConceptRow,
    Reject,
    Row,
)

__all__ = ["FIELD_KINDS", "parse_recbole"]


def parse_recbole(
    path: Path,
    *,
    dataset: str | None = None,
    kind: str | None = None,
    user_field: str = "user_id",
    item_field: str = "item_id",
    rating_field: str = "rating",
    time_field: str = "timestamp",
) -> Iterator[Row]:
    """Parse a folder of RecBole atomic files.

    Args:
        path: The folder holding ``<dataset>.inter`` and friends.
        dataset: The file stem; needed only when the folder holds several
            ``.inter`` files (default: the only one there).
        kind: Interaction kind (default: ``"rating"`` when ``.inter`` has a
            rating field, else ``"interacted"``).
        user_field: User id field in ``.inter``/``.user`` (default: ``"user_id"``).
        item_field: Item id field in ``.inter``/``.item``/``.link``
            (default: ``"item_id"``).
        rating_field: Rating field in ``.inter`` (default: ``"rating"``).
        time_field: Timestamp field in ``.inter`` (default: ``"timestamp"``).

    Raises:
        LoaderError: no or ambiguous ``.inter`` file, a bad header, a missing
            id field. Raised by this call, before any row is produced.
    """
    folder = require_dir(path, "recbole")
    if dataset is None:
        stems = sorted(p.stem for p in folder.glob("*.inter"))
        if len(stems) != 1:
            found = ", ".join(stems) if stems else "none"
            raise LoaderError(
                f"{folder}: expected exactly one .inter file, found {found} "
                "(pick one with dataset=...)"
            )
        dataset = stems[0]
    files = {
        ext: AtomicFile(folder / f"{dataset}.{ext}")
        for ext in ("inter", "item", "user", "kg", "link")
        if ext == "inter" or (folder / f"{dataset}.{ext}").is_file()
    }
    inter = files["inter"]
    inter_cols = (
        inter.field(user_field, option="user_field"),
        inter.field(item_field, option="item_field"),
        inter.optional(rating_field),
        inter.optional(time_field),
    )
    if kind is None:
        kind = "rating" if inter_cols[2] is not None else DEFAULT_INTERACTION_KIND
    item_reader = ItemReader(files["item"], item_field) if "item" in files else None
    user_reader = UserReader(files["user"], user_field) if "user" in files else None
    kg_cols = None
    if "kg" in files:
        kg = files["kg"]
        kg_cols = tuple(kg.field(n) for n in ("head_id", "relation_id", "tail_id"))
    link_cols = None
    if "link" in files:
        link = files["link"]
        link_cols = (link.field(item_field, option="item_field"), link.field("entity_id"))
    return _emit(files, item_reader, user_reader, kg_cols, link_cols, inter_cols, kind)


def _emit(
    files: dict[str, AtomicFile],
    item_reader: ItemReader | None,
    user_reader: UserReader | None,
    kg_cols: tuple[Field, ...] | None,
    link_cols: tuple[Field, Field] | None,
    inter_cols: tuple[Field, Field, Field | None, Field | None],
    kind: str,
) -> Iterator[Row]:
    seen = Seen()
    catalog = f"{files['item'].file.path.name}" if item_reader else None
    if item_reader is not None:
        yield from item_reader.rows(seen)
    if kg_cols is not None:
        yield from _kg_rows(files["kg"].file, kg_cols, seen)
    if link_cols is not None:
        yield from _link_rows(files["link"].file, link_cols, seen, catalog)
    if user_reader is not None:
        yield from user_reader.rows(seen)
    yield from _inter_rows(files["inter"].file, inter_cols, kind, seen, catalog)


def _item_ref(raw: str, seen: Seen, catalog: str | None) -> tuple[str, Row | None]:
    """An item id from a non-catalog file: checked against the catalog, or created."""
    item_id = normalize_id(raw, field="item id")
    if catalog is not None:
        if item_id not in seen.items:
            raise RowError(f"unknown item {item_id!r} (not in {catalog})")
        return item_id, None
    return item_id, seen.item(item_id)


def _kg_rows(file: DelimitedFile, cols: tuple[Field, ...], seen: Seen) -> Iterator[Row]:
    head_col, relation_col, tail_col = (c.index for c in cols)
    for record in file.rows():
        if isinstance(record, Reject):
            yield record
            continue
        number, fields = record
        try:
            relation = normalize_id(fields[relation_col], field="relation", url_path=False)
            check_concepts(ConceptKind.ENTITY, [fields[head_col], fields[tail_col]])
            head, head_row = seen.concept(ConceptKind.ENTITY, fields[head_col])
            tail, tail_row = seen.concept(ConceptKind.ENTITY, fields[tail_col])
        except ValueError as exc:
            yield file.reject(number, str(exc))
            continue
        if head_row:
            yield head_row
        if tail_row:
            yield tail_row
        yield ConceptRelationRow(head, relation, tail)


def _link_rows(
    file: DelimitedFile, cols: tuple[Field, Field], seen: Seen, catalog: str | None
) -> Iterator[Row]:
    item_col, entity_col = (c.index for c in cols)
    for record in file.rows():
        if isinstance(record, Reject):
            yield record
            continue
        number, fields = record
        try:
            check_concepts(ConceptKind.ENTITY, [fields[entity_col]])
            item_id, item_row = _item_ref(fields[item_col], seen, catalog)
            entity, entity_row = seen.concept(ConceptKind.ENTITY, fields[entity_col])
        except ValueError as exc:
            yield file.reject(number, str(exc))
            continue
        if item_row:
            yield item_row
        if entity_row:
            yield entity_row
        yield ItemConceptRow(item_id, entity, LINKED_ENTITY)


def _inter_rows(
    file: DelimitedFile,
    cols: tuple[Field, Field, Field | None, Field | None],
    kind: str,
    seen: Seen,
    catalog: str | None,
) -> Iterator[Row]:
    user_col, item_col = cols[0].index, cols[1].index
    rating_col = cols[2].index if cols[2] else None
    time_col = cols[3].index if cols[3] else None
    user_ids = IdCache("user id")
    for record in file.rows():
        if isinstance(record, Reject):
            yield record
            continue
        number, fields = record
        try:
            user_id = user_ids[fields[user_col]]
            item_id, item_row = _item_ref(fields[item_col], seen, catalog)
            rating = None
            if rating_col is not None and fields[rating_col].strip():
                rating = parse_value(fields[rating_col], "rating")
            ts = None
            if time_col is not None and fields[time_col].strip():
                ts = parse_timestamp(fields[time_col])
        except ValueError as exc:
            yield file.reject(number, str(exc))
            continue
        if item_row:
            yield item_row
        user_row = seen.user(user_id)
        if user_row:
            yield user_row
        yield InteractionRow(user_id, item_id, kind, 1.0, rating, ts)
