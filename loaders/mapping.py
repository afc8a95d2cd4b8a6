"""The TOML mapping file of the generic ``csv``/``jsonl`` format, read and validated.

A mapping names the files of a catalog, an optional user table and an
interaction log, and which of their columns mean what::

    [catalog]
    file = "products.csv"         # .csv, .tsv, .jsonl/.ndjson (or set format=)
    id = "product_id"
    title = "name"                # optional
    properties = ["price"]        # optional: copied onto the item

    [[catalog.concepts]]
    column = "category"
    kind = "category"             # a graphrec.schema.ConceptKind value
    relation = "has_category"      # lower_snake
    hierarchy = ">"               # optional: "A > B > C" is a SUBCONCEPT_OF chain

    [[catalog.concepts]]
    column = "tags"
    kind = "tag"
    relation = "has_tag"
    separator = "|"               # optional: the cell is a list

    [users]                       # optional; same keys as [catalog] minus title
    file = "users.csv"
    id = "user_id"

    [log]
    file = "events.csv"
    user = "user_id"
    item = "product_id"
    timestamp = "ts"              # optional: epoch seconds or ISO 8601
    weight = "quantity"           # optional (default weight 1.0)
    kind = "event"                # optional column (else default_kind)
    default_kind = "interacted"   # optional
    rating = "stars"              # optional

A knowledge graph comes in through two more optional sections, any CSV, TSV or
JSON lines KG (the KGCN/RippleNet files, a Freebase or Wikidata dump)::

    [entities]                    # which KG entity stands for an item
    file = "item_index2entity_id.txt"
    format = "tsv"
    header = false                # the file has no header line ...
    columns = ["item", "entity"]  # ... so name its columns, in order
    item = "item"
    entity = "entity"

    [kg]                          # triples between entities
    file = "kg.txt"
    format = "tsv"
    header = false
    columns = ["head", "relation", "tail"]
    head = "head"                 # the three keys name columns
    relation = "relation"
    tail = "tail"

``[catalog]`` is optional: without it, items are created the first time the
entity links or the log name them (and no item is "unknown").

Every file section also takes ``format`` (``csv``, ``tsv``, ``jsonl``),
``delimiter`` (CSV and TSV), ``encoding`` (default ``utf-8``), ``header``
(CSV and TSV: the first line names the columns; default ``true``),
``columns`` (required when ``header = false``: the column names in order)
and ``quoting`` (CSV and TSV: honour double-quote quoting; default ``true``
for CSV, ``false`` for TSV, where a ``"`` is an ordinary character). Relative
file names are relative to the data folder (the ``PATH`` of ``graphrec ingest
csv PATH --mapping FILE``), or to the mapping file's folder when the mapping
file itself is the path. Every problem is a
:class:`~graphrec.loaders.errors.LoaderError` whose message starts with the
mapping file's path and names the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphrec.schema import DEFAULT_INTERACTION_KIND, ConceptKind

from .errors import LoaderError

__all__ = [
    "ConceptSpec",
    "EntityLinkSpec",
    "FileSpec",
    "KGSpec",
    "LogSpec",
    "Mapping",
    "TableSpec",
    "read_mapping",
]

FILE_FORMATS = ("csv", "tsv", "jsonl")
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_RELATION = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

_FILE_KEYS = {"file", "format", "delimiter", "encoding", "header", "columns", "quoting"}
_TABLE_KEYS = _FILE_KEYS | {"id", "title", "properties", "concepts"}
_CONCEPT_KEYS = {"column", "kind", "relation", "separator", "hierarchy"}
_LOG_KEYS = _FILE_KEYS | {"user", "item", "timestamp", "weight", "kind", "default_kind", "rating"}
_ENTITY_KEYS = _FILE_KEYS | {"item", "entity"}
_KG_KEYS = _FILE_KEYS | {"head", "relation", "tail"}


@dataclass(frozen=True, slots=True)
class FileSpec:
    """Where a table is and how to read it."""

    path: Path
    format: str  # csv | tsv | jsonl
    delimiter: str
    encoding: str
    section: str  # "catalog", "users", "log", "entities" or "kg", for messages
    header: bool = True  # csv/tsv: the first line names the columns
    columns: tuple[str, ...] = ()  # csv/tsv without a header: the column names in order
    quoting: bool = True  # csv/tsv: honour double-quote quoting


@dataclass(frozen=True, slots=True)
class ConceptSpec:
    """A column whose values become concepts."""

    column: str
    kind: ConceptKind
    relation: str
    separator: str | None = None
    hierarchy: str | None = None
    key: str = ""  # e.g. "catalog.concepts[1]", for messages


@dataclass(frozen=True, slots=True)
class TableSpec:
    """The item catalog or the user table."""

    source: FileSpec
    id: str
    title: str | None
    properties: tuple[str, ...]
    concepts: tuple[ConceptSpec, ...]


@dataclass(frozen=True, slots=True)
class LogSpec:
    """The interaction log."""

    source: FileSpec
    user: str
    item: str
    timestamp: str | None = None
    weight: str | None = None
    kind: str | None = None
    rating: str | None = None
    default_kind: str = DEFAULT_INTERACTION_KIND


@dataclass(frozen=True, slots=True)
class EntityLinkSpec:
    """Item -> KG entity links: each becomes ``HAS_CONCEPT {relation: "linked_entity"}``."""

    source: FileSpec
    item: str
    entity: str


@dataclass(frozen=True, slots=True)
class KGSpec:
    """KG triples: each becomes ``(:Concept)-[:RELATED {relation}]->(:Concept)``."""

    source: FileSpec
    head: str
    relation: str
    tail: str


@dataclass(frozen=True, slots=True)
class Mapping:
    path: Path
    catalog: TableSpec | None
    log: LogSpec
    users: TableSpec | None = None
    entities: EntityLinkSpec | None = None
    kg: KGSpec | None = None


def read_mapping(
    path: Path, *, default_format: str = "csv", data_dir: Path | None = None
) -> Mapping:
    """Read and validate a mapping file.

    Args:
        path: The TOML file.
        default_format: File format for a file whose extension does not say
            (default: ``"csv"``).
        data_dir: The folder relative file names are resolved against
            (default: the mapping file's folder).

    Raises:
        LoaderError: the file is missing or not TOML, a section or key is
            missing, unknown or of the wrong type. Column names are checked
            later, against the data files' headers.
    """
    if not path.is_file():
        raise LoaderError(f"{path}: mapping file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LoaderError(f"{path}: invalid TOML: {exc}") from None
    checker = _Checker(path, default_format, data_dir or path.parent)
    checker.keys(data, "", {"catalog", "users", "log", "entities", "kg"})
    catalog = None
    if "catalog" in data:
        catalog = checker.table(checker.section(data, "catalog"), "catalog", title=True)
    users = None
    if "users" in data:
        users = checker.table(checker.section(data, "users"), "users", title=False)
    log = checker.log(checker.section(data, "log"))
    entities = checker.entities(checker.section(data, "entities")) if "entities" in data else None
    kg = checker.kg(checker.section(data, "kg")) if "kg" in data else None
    return Mapping(path=path, catalog=catalog, log=log, users=users, entities=entities, kg=kg)


class _Checker:
    """Validates the raw TOML dict piece by piece with messages naming the key."""

    def __init__(self, path: Path, default_format: str, data_dir: Path) -> None:
        self.path = path
        self.default_format = default_format
        self.data_dir = data_dir

    def fail(self, message: str) -> LoaderError:
        return LoaderError(f"{self.path}: {message}")

    def section(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        if name not in data:
            raise self.fail(f"missing section [{name}]")
        value = data[name]
        if not isinstance(value, dict):
            raise self.fail(f"[{name}] must be a table")
        return value

    def keys(self, data: dict[str, Any], where: str, known: set[str]) -> None:
        unknown = sorted(set(data) - known)
        if unknown:
            place = f"in [{where}]" if where else "at the top level"
            raise self.fail(
                f"unknown key {unknown[0]!r} {place} (known: {', '.join(sorted(known))})"
            )

    def string(self, data: dict[str, Any], key: str, where: str, *, required: bool) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}.{key} is required")
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(f"{where}.{key} must be a non-empty string, got {value!r}")
        return value

    def source(self, data: dict[str, Any], where: str) -> FileSpec:
        name = self.string(data, "file", where, required=True)
        assert name is not None
        file = (self.data_dir / name) if not Path(name).is_absolute() else Path(name)
        fmt = self.string(data, "format", where, required=False)
        fmt = fmt or _EXTENSIONS.get(file.suffix.lower(), self.default_format)
        if fmt not in FILE_FORMATS:
            raise self.fail(f"{where}.format {fmt!r} is not one of {', '.join(FILE_FORMATS)}")
        delimiter = self.string(data, "delimiter", where, required=False)
        delimiter = delimiter or ("\t" if fmt == "tsv" else ",")
        if len(delimiter) != 1:
            raise self.fail(f"{where}.delimiter must be one character, got {delimiter!r}")
        encoding = self.string(data, "encoding", where, required=False) or "utf-8"
        try:
            "".encode(encoding)
        except LookupError:
            raise self.fail(f"{where}.encoding {encoding!r} is not a known encoding") from None
        if fmt == "jsonl":
            for key in ("header", "columns", "quoting", "delimiter"):
                if key in data:
                    raise self.fail(f"{where}.{key} does not apply to JSON lines files")
        header = self.boolean(data, "header", where, default=True)
        quoting = self.boolean(data, "quoting", where, default=fmt == "csv")
        columns = self.columns(data, where, header=header)
        return FileSpec(file, fmt, delimiter, encoding, where, header, columns, quoting)

    def boolean(self, data: dict[str, Any], key: str, where: str, *, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key} must be true or false, got {value!r}")
        return value

    def columns(self, data: dict[str, Any], where: str, *, header: bool) -> tuple[str, ...]:
        if "columns" not in data:
            if not header:
                raise self.fail(f"{where}.columns is required when {where}.header = false")
            return ()
        if header:
            raise self.fail(f"{where}.columns needs {where}.header = false (the header names them)")
        names = data["columns"]
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and n for n in names)
        ):
            raise self.fail(f"{where}.columns must be a list of column names")
        if len(set(names)) != len(names):
            raise self.fail(f"{where}.columns names a column twice: {names}")
        return tuple(names)

    def table(self, data: dict[str, Any], where: str, *, title: bool) -> TableSpec:
        self.keys(data, where, _TABLE_KEYS if title else _TABLE_KEYS - {"title"})
        properties = data.get("properties", [])
        if not isinstance(properties, list) or not all(
            isinstance(p, str) and p for p in properties
        ):
            raise self.fail(f"{where}.properties must be a list of column names")
        concepts = data.get("concepts", [])
        if not isinstance(concepts, list) or not all(isinstance(c, dict) for c in concepts):
            raise self.fail(f"{where}.concepts must be an array of tables ([[{where}.concepts]])")
        id_column = self.string(data, "id", where, required=True)
        assert id_column is not None
        return TableSpec(
            source=self.source(data, where),
            id=id_column,
            title=self.string(data, "title", where, required=False) if title else None,
            properties=tuple(properties),
            concepts=tuple(
                self.concept(c, f"{where}.concepts[{i}]") for i, c in enumerate(concepts, 1)
            ),
        )

    def concept(self, data: dict[str, Any], where: str) -> ConceptSpec:
        self.keys(data, where, _CONCEPT_KEYS)
        column = self.string(data, "column", where, required=True)
        kind = self.string(data, "kind", where, required=True)
        relation = self.string(data, "relation", where, required=True)
        assert column is not None and kind is not None and relation is not None
        try:
            concept_kind = ConceptKind(kind)
        except ValueError:
            known = ", ".join(k.value for k in ConceptKind)
            raise self.fail(
                f"{where}.kind {kind!r} is not a concept kind (known: {known})"
            ) from None
        if not _RELATION.fullmatch(relation):
            raise self.fail(f"{where}.relation {relation!r} must be lower_snake, like 'has_brand'")
        return ConceptSpec(
            column=column,
            kind=concept_kind,
            relation=relation,
            separator=self.string(data, "separator", where, required=False),
            hierarchy=self.string(data, "hierarchy", where, required=False),
            key=where,
        )

    def entities(self, data: dict[str, Any]) -> EntityLinkSpec:
        self.keys(data, "entities", _ENTITY_KEYS)
        item = self.string(data, "item", "entities", required=True)
        entity = self.string(data, "entity", "entities", required=True)
        assert item is not None and entity is not None
        return EntityLinkSpec(self.source(data, "entities"), item, entity)

    def kg(self, data: dict[str, Any]) -> KGSpec:
        self.keys(data, "kg", _KG_KEYS)
        head = self.string(data, "head", "kg", required=True)
        relation = self.string(data, "relation", "kg", required=True)
        tail = self.string(data, "tail", "kg", required=True)
        assert head is not None and relation is not None and tail is not None
        return KGSpec(self.source(data, "kg"), head, relation, tail)

    def log(self, data: dict[str, Any]) -> LogSpec:
        self.keys(data, "log", _LOG_KEYS)
        user = self.string(data, "user", "log", required=True)
        item = self.string(data, "item", "log", required=True)
        assert user is not None and item is not None
        default_kind = self.string(data, "default_kind", "log", required=False)
        if default_kind is not None and not _RELATION.fullmatch(default_kind):
            raise self.fail(f"log.default_kind {default_kind!r} must be lower_snake")
        return LogSpec(
            source=self.source(data, "log"),
            user=user,
            item=item,
            timestamp=self.string(data, "timestamp", "log", required=False),
            weight=self.string(data, "weight", "log", required=False),
            kind=self.string(data, "kind", "log", required=False),
            rating=self.string(data, "rating", "log", required=False),
            default_kind=default_kind or DEFAULT_INTERACTION_KIND,
        )
