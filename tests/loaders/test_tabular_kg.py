"""The csv/jsonl mapping's knowledge-graph sections: [entities], [kg], header-less files."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest
from graphrec.loaders import LoaderError, parse, parse_csv
from graphrec.loaders.rows import (
    LINKED_ENTITY,
    ConceptRelationRow,
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    Reject,
    UserRow,
)

KG_TSV = Path(__file__).parents[1] / "fixtures" / "kg-tsv"


def rejects(rows) -> list[tuple[str, int, str]]:
    return [(Path(r.file).name, r.line, r.reason) for r in rows if isinstance(r, Reject)]


def make(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def test_kgcn_layout_fixture_exact_rows(contract):
    # Items come from the links, then from the log (no [catalog]): item 13 first
    # appears in the log, so this stream is not catalog-first.
    rows = contract(parse_csv(KG_TSV), catalog_first=False)
    good = [r for r in rows if not isinstance(r, Reject)]
    e = "entity:"
    assert good == [
        ItemRow("10"),
        ConceptRow(f"{e}100", "entity", "100"),
        ItemConceptRow("10", f"{e}100", LINKED_ENTITY),
        ItemRow("11"),
        ConceptRow(f"{e}101", "entity", "101"),
        ItemConceptRow("11", f"{e}101", LINKED_ENTITY),
        ItemRow("12"),
        ConceptRow(f"{e}102", "entity", "102"),
        ItemConceptRow("12", f"{e}102", LINKED_ENTITY),
        ConceptRow(f"{e}200", "entity", "200"),
        ConceptRelationRow(f"{e}100", "music.artist.origin", f"{e}200"),
        ConceptRelationRow(f"{e}101", "music.artist.origin", f"{e}200"),
        ConceptRow(f"{e}201", "entity", "201"),
        ConceptRelationRow(f"{e}102", "music.artist.genre", f"{e}201"),
        ConceptRelationRow(f"{e}100", "music.artist.genre", f"{e}201"),
        ConceptRow(f"{e}202", "entity", "202"),
        ConceptRelationRow(f"{e}200", "location.location.containedby", f"{e}202"),
        # TSV has no quoting by default: the quotes are part of the name.
        ConceptRow(f'{e}"weird" records', "entity", '"Weird" Records'),
        ConceptRelationRow(f"{e}102", "music.artist.label", f'{e}"weird" records'),
        UserRow("1"),
        InteractionRow("1", "10", "listened", 250.0),
        InteractionRow("1", "11", "listened", 3.0),
        UserRow("2"),
        InteractionRow("2", "10", "listened", 40.0),
        InteractionRow("2", "12", "listened", 7.0),
        ItemRow("13"),
        UserRow("3"),
        InteractionRow("3", "13", "listened", 1.0),
    ]
    slash = "contains '/', which cannot appear in a URL path"
    assert rejects(rows) == [
        ("links.txt", 4, f"item id {slash}: 'x/y'"),
        ("links.txt", 5, "expected 2 columns, found 1"),
        ("kg.txt", 6, "relation is empty"),
        ("kg.txt", 7, "expected 3 columns, found 2"),
        ("plays.tsv", 7, "weight is not a number: 'abc'"),
        ("plays.tsv", 8, f"item id {slash}: 'a/b'"),
        ("plays.tsv", 9, "weight -2000000.0 is out of range (|weight| <= 1e+06)"),
        ("plays.tsv", 10, "weight is not finite: '1e400'"),
    ]


WIKI = {
    "mapping.toml": """
[catalog]
file = "items.csv"
id = "sku"
title = "name"

[entities]
file = "links.jsonl"
item = "sku"
entity = "qid"

[kg]
file = "triples.csv"
head = "s"
relation = "p"
tail = "o"

[log]
file = "log.csv"
user = "who"
item = "sku"
""",
    "items.csv": "sku,name\nA,Alpha\nB,Beta\n",
    "links.jsonl": (
        '{"sku": "A", "qid": "Q1"}\n'
        '{"sku": "Z", "qid": "Q2"}\n'
        '{"sku": "B", "qid": ["Q3"]}\n'
        '{"sku": "B", "qid": "Q3"}\n'
    ),
    "triples.csv": 's,p,o\nQ1,P31,Q5\nQ3,P31,Q5\nQ1,P31,\nQ1,"instance of, really",Q3\n',
    "log.csv": "who,sku\nu1,A\nu1,Z\n",
}


def test_catalog_with_jsonl_links_and_csv_triples(tmp_path, contract):
    rows = contract(parse("csv", make(tmp_path / "wiki", WIKI)))
    assert [r for r in rows if isinstance(r, ItemConceptRow)] == [
        ItemConceptRow("A", "entity:q1", LINKED_ENTITY),
        ItemConceptRow("B", "entity:q3", LINKED_ENTITY),
    ]
    assert [r for r in rows if isinstance(r, ConceptRelationRow)] == [
        ConceptRelationRow("entity:q1", "P31", "entity:q5"),
        ConceptRelationRow("entity:q3", "P31", "entity:q5"),
        ConceptRelationRow("entity:q1", "instance of, really", "entity:q3"),
    ]
    assert rejects(rows) == [
        ("links.jsonl", 2, "unknown item 'Z' (not in items.csv)"),
        ("links.jsonl", 3, "qid must be a single value, got list"),
        ("triples.csv", 4, "concept name is empty (kind entity)"),
        ("log.csv", 3, "unknown item 'Z' (not in items.csv)"),
    ]


def test_tsv_quoting_can_be_turned_on(tmp_path):
    mapping = (KG_TSV / "mapping.toml").read_text()
    mapping = mapping.replace(
        'columns = ["h", "r", "t"]', 'columns = ["h", "r", "t"]\nquoting = true'
    )
    folder = make(tmp_path / "q", {"mapping.toml": mapping})
    for name in ("links.txt", "plays.tsv"):
        (folder / name).write_bytes((KG_TSV / name).read_bytes())
    (folder / "kg.txt").write_text('1\tr\t"a\tb"\n', encoding="utf-8")
    relations = [r for r in parse_csv(folder) if isinstance(r, ConceptRelationRow)]
    assert relations == [ConceptRelationRow("entity:1", "r", "entity:a b")]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('columns = ["h", "r", "t"]\n', ""), r"kg.columns is required when kg.header = false"),
        (("header = false\ncolumns = [\"h\"", "columns = [\"h\""), r"kg.columns needs kg.header"),
        (('["h", "r", "t"]', '["h", "h", "t"]'), r"kg.columns names a column twice"),
        (('["h", "r", "t"]', '"h r t"'), r"kg.columns must be a list of column names"),
        (('head = "h"', 'head = "x"'), r"kg.head column 'x' not found in kg.txt kg.columns"),
        (('tail = "t"', ""), r"kg.tail is required"),
        (("header = false\ncolumns = [\"artist\"", "header = 0\ncolumns = [\"artist\""),
         r"entities.header must be true or false, got 0"),
        (('entity = "entity"', 'entity = "entity"\nrelation = "x"'),
         r"unknown key 'relation' in \[entities\]"),
        (('format = "tsv"\nheader = false\ncolumns = ["h"', 'format = "jsonl"\nheader = false\ncolumns = ["h"'),
         r"kg.header does not apply to JSON lines files"),
    ],
)  # fmt: skip
def test_kg_mapping_errors_name_the_key(tmp_path, edit, message):
    old, new = edit
    mapping = (KG_TSV / "mapping.toml").read_text()
    assert old in mapping
    folder = make(tmp_path / "m", {"mapping.toml": mapping.replace(old, new, 1)})
    for name in ("links.txt", "kg.txt", "plays.tsv"):
        (folder / name).write_bytes((KG_TSV / name).read_bytes())
    with pytest.raises(LoaderError, match=message):
        parse_csv(folder)


def test_mapping_elsewhere_reads_files_from_the_data_folder(tmp_path):
    mapping = make(tmp_path / "mappings", {"kg.toml": (KG_TSV / "mapping.toml").read_text()})
    rows = list(parse_csv(KG_TSV, mapping=mapping / "kg.toml"))
    assert rows == list(parse_csv(KG_TSV))


def test_kg_fixture_into_the_graph_is_idempotent(graph: GraphClient) -> None:
    first = ingest(graph, parse_csv(KG_TSV), batch_size=4, progress=False)
    assert first.rejected == 8
    nodes = {row["label"]: row["n"] for row in graph.read("graph/count_nodes")}
    rels = {row["type"]: row["n"] for row in graph.read("graph/count_relationships")}
    assert nodes == {"User": 3, "Item": 4, "Concept": 7}
    assert rels == {"HAS_CONCEPT": 3, "INTERACTED": 5, "RELATED": 6}
    related = graph.run(
        "MATCH (:Item {id: '10'})-[l:HAS_CONCEPT]->(a:Concept)-[r:RELATED]->(b:Concept) "
        "RETURN l.relation AS link, a.kind AS kind, r.relation AS relation, b.id AS tail "
        "ORDER BY relation"
    )
    assert related == [
        {"link": LINKED_ENTITY, "kind": "entity", "relation": "music.artist.genre",
         "tail": "entity:201"},
        {"link": LINKED_ENTITY, "kind": "entity", "relation": "music.artist.origin",
         "tail": "entity:200"},
    ]  # fmt: skip
    plays = graph.run(
        "MATCH (:User {id: '1'})-[r:INTERACTED]->(:Item {id: '10'}) RETURN r.weight AS w"
    )
    assert plays == [{"w": 250.0}]

    second = ingest(graph, parse_csv(KG_TSV), batch_size=4, progress=False)
    assert all(c.created == 0 for c in second.nodes.values())
    assert all(c.created == 0 for c in second.relationships.values())
    again = {row["type"]: row["n"] for row in graph.read("graph/count_relationships")}
    assert again == rels
