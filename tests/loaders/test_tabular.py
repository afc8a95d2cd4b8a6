from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

import graphrec.loaders
from graphrec.loaders import LoaderError, parse, parse_csv, parse_jsonl
from graphrec.loaders.rows import (
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    Reject,
    SubconceptRow,
    UserConceptRow,
    UserRow,
)

EXAMPLE = Path(graphrec.loaders.__file__).parent / "examples" / "ecommerce"

MAPPING = """
[catalog]
file = "items.csv"
id = "sku"
title = "name"
properties = ["Price"]

[[catalog.concepts]]
column = "path"
kind = "category"
relation = "has_category"
hierarchy = ">"

[[catalog.concepts]]
column = "tags"
kind = "tag"
relation = "has_tag"
separator = ";"

[log]
file = "log.csv"
user = "who"
item = "sku"
timestamp = "when"
weight = "w"
kind = "what"
"""


def make(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode()
        (folder / name).write_bytes(data)
    return folder


def small(tmp_path: Path, **overrides: str | bytes) -> Path:
    files: dict[str, str | bytes] = {
        "mapping.toml": MAPPING,
        "items.csv": "sku,name,path,tags,Price\n"
        'A,"Lamp, desk",Home > Lighting,warm;led,19.5\n'
        "B,Bulb,Home > Lighting > Bulbs,,3\n"
        "D,Desk,Home,,0042\n"
        "C,Rug,Home,,\n",
        "log.csv": "who,sku,when,w,what\n"
        "u1,A,2024-01-01T00:00:00Z,1,View\n"
        "u1,B,1704067260,2.5,Add to cart\n"
        "u2,A,,,\n",
    }
    files.update(overrides)
    return make(tmp_path / "shop", files)


def test_small_mapping_exact_rows(tmp_path, contract):
    rows = contract(parse_csv(small(tmp_path)))
    assert rows == [
        ItemRow("A", "Lamp, desk", {"price": 19.5}),
        ConceptRow("category:home", "category", "Home"),
        ConceptRow("category:home > lighting", "category", "Home > Lighting"),
        SubconceptRow("category:home > lighting", "category:home"),
        ItemConceptRow("A", "category:home > lighting", "has_category"),
        ConceptRow("tag:warm", "tag", "warm"),
        ItemConceptRow("A", "tag:warm", "has_tag"),
        ConceptRow("tag:led", "tag", "led"),
        ItemConceptRow("A", "tag:led", "has_tag"),
        ItemRow("B", "Bulb", {"price": 3}),
        ConceptRow("category:home > lighting > bulbs", "category", "Home > Lighting > Bulbs"),
        SubconceptRow("category:home > lighting > bulbs", "category:home > lighting"),
        ItemConceptRow("B", "category:home > lighting > bulbs", "has_category"),
        ItemRow("D", "Desk", {"price": "0042"}),  # leading zeros: kept as text
        ItemConceptRow("D", "category:home", "has_category"),
        ItemRow("C", "Rug", {}),
        ItemConceptRow("C", "category:home", "has_category"),
        UserRow("u1"),
        InteractionRow("u1", "A", "view", 1.0, None, 1704067200),
        InteractionRow("u1", "B", "add_to_cart", 2.5, None, 1704067260),
        UserRow("u2"),
        InteractionRow("u2", "A", "interacted", 1.0, None, None),
    ]


def test_bad_rows_become_rejects(tmp_path, contract):
    log = (
        b"who,sku,when,w,what\n"
        b"u1,A,1704067200,1,view\n"
        b"u1,Z,1704067200,1,view\n"  # 3 unknown item
        b"u1,A,later,1,view\n"  # 4 bad time
        b"u1,A,1704067200,heavy,view\n"  # 5 bad weight
        b",A,1704067200,1,view\n"  # 6 empty user
        b"u1,A,1704067200\n"  # 7 column count
        b"u\xe9,A,1704067200,1,view\n"  # 8 not utf-8
        b"u3,B,1704067200,1,view\n"
    )
    items = (
        "sku,name,path,tags,Price\nA,Lamp,Home,,1\nA,Again,Home,,1\n,Nameless,Home,,1\nB,Bulb,,,\n"
    )
    rows = contract(parse_csv(small(tmp_path, **{"log.csv": log, "items.csv": items})))
    assert [(Path(r.file).name, r.line, r.reason) for r in rows if isinstance(r, Reject)] == [
        ("items.csv", 3, "duplicate item id 'A'"),
        ("items.csv", 4, "item id is empty"),
        ("log.csv", 3, "unknown item 'Z' (not in items.csv)"),
        ("log.csv", 4, "timestamp is neither epoch seconds nor ISO 8601: 'later'"),
        ("log.csv", 5, "weight is not a number: 'heavy'"),
        ("log.csv", 6, "user id is empty"),
        ("log.csv", 7, "expected 5 columns, found 3"),
        ("log.csv", 8, "undecodable bytes for utf-8 at byte 2"),
    ]
    assert [(r.user_id, r.item_id) for r in rows if isinstance(r, InteractionRow)] == [
        ("u1", "A"),
        ("u3", "B"),
    ]


def test_jsonl_log_and_its_bad_lines(tmp_path, contract):
    mapping = MAPPING.replace('file = "log.csv"', 'file = "log.txt"')
    log = (
        '{"who": "u1", "sku": "A", "when": 1704067200, "w": 2, "what": "buy", "extra": [1]}\n'
        "{not json}\n"
        '["a", "list"]\n'
        '{"who": "u1", "sku": ["A"]}\n'
        '{"who": "u2", "sku": "B"}\n'
    )
    folder = small(tmp_path, **{"mapping.toml": mapping, "log.txt": log})
    rows = contract(parse_jsonl(folder))  # .txt has no telling extension: jsonl is the default
    assert [(r.line, r.reason) for r in rows if isinstance(r, Reject)] == [
        (2, "invalid JSON: Expecting property name enclosed in double quotes at column 2"),
        (3, "expected a JSON object, found list"),
        (4, "sku must be a single value, got list"),
    ]
    assert [r for r in rows if isinstance(r, InteractionRow)] == [
        InteractionRow("u1", "A", "buy", 2.0, None, 1704067200),
        InteractionRow("u2", "B", "interacted", 1.0, None, None),
    ]


def test_example_dataset_csv_and_jsonl_agree(contract):
    rows = contract(parse("csv", EXAMPLE))
    assert Counter(type(r).__name__ for r in rows) == {
        "ItemRow": 20,
        "UserRow": 10,
        "InteractionRow": 60,
        "ItemConceptRow": 64,  # 20 categories + 20 brands + 24 tags
        "ConceptRow": 44,
        "SubconceptRow": 15,
        "UserConceptRow": 10,
    }
    subconcepts = {(r.child_id, r.parent_id) for r in rows if isinstance(r, SubconceptRow)}
    assert (
        "category:electronics > audio > headphones",
        "category:electronics > audio",
    ) in subconcepts
    assert ("category:electronics > audio", "category:electronics") in subconcepts
    leaf = [r for r in rows if isinstance(r, ItemConceptRow) and r.item_id == "P01"][0]
    assert leaf.concept_id == "category:electronics > audio > headphones"
    assert {r.kind for r in rows if isinstance(r, InteractionRow)} == {"view", "purchase"}
    assert UserConceptRow("U01", "gender:female", "has_gender") in rows
    jsonl_rows = list(parse("jsonl", EXAMPLE / "mapping-jsonl.toml"))
    assert jsonl_rows == rows


def test_path_may_be_the_mapping_file_or_given_as_option(tmp_path):
    folder = small(tmp_path)
    shutil.move(folder / "mapping.toml", folder / "shop.toml")
    by_path = list(parse_csv(folder / "shop.toml"))
    by_option = list(parse_csv(folder, mapping=folder / "shop.toml"))
    assert by_path == by_option and len(by_path) == 22


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('user = "who"', 'user = "uid"'),
            "mapping.toml: log.user column 'uid' not found in log.csv header",
        ),
        (('title = "name"', 'title = "label"'), "catalog.title column 'label' not found"),
        (
            ('column = "path"', 'column = "cat"'),
            r"catalog.concepts\[1\].column column 'cat' not found in items.csv header",
        ),
        (('kind = "tag"', 'kind = "colour"'), r"catalog.concepts\[2\].kind 'colour' is not a"),
        (('relation = "has_tag"', 'relation = "Has Tag"'), "must be lower_snake"),
        (('weight = "w"', 'wieght = "w"'), r"unknown key 'wieght' in \[log\]"),
        (("[log]", "[logs]"), "unknown key 'logs' at the top level"),
        (('item = "sku"\ntimestamp', "timestamp"), r"log.item is required"),
        (('file = "log.csv"', 'file = "nope.csv"'), r"nope.csv: log.file not found"),
        (('file = "log.csv"', 'file = "log.csv"\nformat = "xml"'), "log.format 'xml' is not"),
        (('id = "sku"', "id = 5"), "catalog.id must be a non-empty string, got 5"),
        (("[catalog]", "[catalog"), "invalid TOML"),
        (('properties = ["Price"]', 'properties = ["Cost"]'), "catalog.properties"),
    ],
)
def test_mapping_errors_name_the_key(tmp_path, edit, message):
    old, new = edit
    assert old in MAPPING
    folder = small(tmp_path, **{"mapping.toml": MAPPING.replace(old, new, 1)})
    with pytest.raises(LoaderError, match=message):
        parse_csv(folder)


def test_mapping_errors_for_missing_mapping_and_jsonl_fields(tmp_path):
    with pytest.raises(LoaderError, match=r"mapping.toml: mapping file not found"):
        parse_csv(tmp_path)
    mapping = MAPPING.replace('file = "log.csv"', 'file = "log.jsonl"')
    log = '{"user": "u1", "sku": "A"}\n'
    folder = small(tmp_path, **{"mapping.toml": mapping, "log.jsonl": log})
    with pytest.raises(
        LoaderError, match=r"log.user field 'who' not found in the first record of log.jsonl"
    ):
        parse_csv(folder)


def test_property_names_are_made_safe_and_json_lists_kept(tmp_path, contract):
    mapping = MAPPING.replace('properties = ["Price"]', 'properties = ["id", "2nd", "Sizes (EU)"]')
    mapping = mapping.replace('file = "items.csv"', 'file = "items.jsonl"')
    items = (
        '{"sku": "A", "name": "Shoe", "id": 7, "2nd": true, "Sizes (EU)": [40, 41.5]}\n'
        '{"sku": "B", "name": "Sock", "Sizes (EU)": ["S", "M"], "tags": ["warm", "wool"]}\n'
        '{"sku": "C", "name": "Mix", "Sizes (EU)": ["S", 1]}\n'
    )
    folder = small(
        tmp_path,
        **{"mapping.toml": mapping, "items.jsonl": items, "log.csv": "who,sku,when,w,what\n"},
    )
    rows = contract(parse_csv(folder))
    items = {r.id: r.properties for r in rows if isinstance(r, ItemRow)}
    assert items == {
        "A": {"source_id": 7, "p_2nd": True, "sizes_eu": [40.0, 41.5]},
        "B": {"sizes_eu": ["S", "M"]},
    }
    tags = [r.concept_id for r in rows if isinstance(r, ItemConceptRow) and r.item_id == "B"]
    assert tags == ["tag:warm", "tag:wool"]
    assert [r.reason for r in rows if isinstance(r, Reject)] == [
        "Sizes (EU) must be a list of strings, numbers or booleans, not a mix"
    ]
