from __future__ import annotations

from pathlib import Path

import pytest

from graphrec.loaders import LoaderError, parse, parse_kgat
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

NAMED = {
    "item_list.txt": "org_id remap_id freebase_id\n0553092626 0 m.045wq1q\n0393316041 1 m.03_28m\n",
    "entity_list.txt": "org_id remap_id\nm.045wq1q 0\nm.03_28m 1\nm.0h2q1cq 2\nm.04y5x 3\n",
    "relation_list.txt": (
        "org_id remap_id\n"
        "http://rdf.freebase.com/ns/book.book.genre 0\n"
        "http://rdf.freebase.com/ns/common.topic.related 1\n"
    ),
    "user_list.txt": "org_id remap_id\nA3RTKL9KB8KLID 0\nA38LAIK2N83NH0 1\n",
    "kg_final.txt": "0 0 2\n2 1 3\n3 1 1\n0 1 1\n",
    "train.txt": "0 0 1\n1 1\n",
    "test.txt": "0 1\n1\n",
}


def make(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def test_kgat_exact_rows_with_names(tmp_path, contract):
    rows = contract(parse_kgat(make(tmp_path / "book", NAMED)))
    genre, related = "book.book.genre", "common.topic.related"
    assert rows == [
        ItemRow("0", None, {"org_id": "0553092626", "freebase_id": "m.045wq1q"}),
        ItemRow("1", None, {"org_id": "0393316041", "freebase_id": "m.03_28m"}),
        # item head -> item edge to the tail entity
        ConceptRow("entity:m.0h2q1cq", "entity", "m.0h2q1cq"),
        ItemConceptRow("0", "entity:m.0h2q1cq", genre),
        # entity -> entity
        ConceptRow("entity:m.04y5x", "entity", "m.04y5x"),
        ConceptRelationRow("entity:m.0h2q1cq", related, "entity:m.04y5x"),
        # entity -> item: the item's own entity concept, linked from the item
        ConceptRow("entity:m.03_28m", "entity", "m.03_28m"),
        ItemConceptRow("1", "entity:m.03_28m", LINKED_ENTITY),
        ConceptRelationRow("entity:m.04y5x", related, "entity:m.03_28m"),
        # item -> item
        ItemConceptRow("0", "entity:m.03_28m", related),
        UserRow("0", {"org_id": "A3RTKL9KB8KLID"}),
        InteractionRow("0", "0", "interacted", split="train"),
        InteractionRow("0", "1", "interacted", split="train"),
        UserRow("1", {"org_id": "A38LAIK2N83NH0"}),
        InteractionRow("1", "1", "interacted", split="train"),
        InteractionRow("0", "1", "interacted", split="test"),
    ]


def test_kgat_without_names_counts_items_from_the_logs(tmp_path, contract):
    # n_items = 5 (largest logged item + 1); items are the ids below it that appear:
    # 0, 2, 4 in the logs, 3 as a KG head (an item, since 3 < n_items).
    files = {"train.txt": "0 0 4\n", "test.txt": "1 2\n", "kg_final.txt": "4 3 7\n7 0 8\n3 0 8\n"}
    rows = contract(parse("kgat", make(tmp_path / "plain", files)))
    assert [r.id for r in rows if isinstance(r, ItemRow)] == ["0", "2", "4", "3"]
    assert [r for r in rows if isinstance(r, ItemConceptRow | ConceptRelationRow)] == [
        ItemConceptRow("4", "entity:7", "relation_3"),
        ConceptRelationRow("entity:7", "relation_0", "entity:8"),
        ItemConceptRow("3", "entity:8", "relation_0"),
    ]
    assert {(r.user_id, r.item_id, r.split) for r in rows if isinstance(r, InteractionRow)} == {
        ("0", "0", "train"),
        ("0", "4", "train"),
        ("1", "2", "test"),
    }


def test_kgat_options_skip_test_and_kg(tmp_path):
    rows = list(parse_kgat(make(tmp_path / "book", NAMED), test=False, kg=False))
    assert {r.split for r in rows if isinstance(r, InteractionRow)} == {"train"}
    assert not [r for r in rows if isinstance(r, ConceptRow)]


def test_kgat_bad_lines_become_rejects(tmp_path, contract):
    files = dict(NAMED)
    files["train.txt"] = "0 0 1\n0 x 1\n1 7\n-1 0\n1 1\n\u3000\n"
    files["kg_final.txt"] = "0 0 2\n1 2\na b c\n0 0 -3\n"
    files["entity_list.txt"] = NAMED["entity_list.txt"] + "m.zz notanint\n"
    rows = contract(parse_kgat(make(tmp_path / "book", files)))
    assert [(Path(r.file).name, r.line, r.reason) for r in rows if isinstance(r, Reject)] == [
        ("entity_list.txt", 6, "remap_id is not an integer: 'notanint'"),
        ("kg_final.txt", 2, "expected 3 columns, found 2"),
        ("kg_final.txt", 3, "expected three non-negative integers, found ['a', 'b', 'c']"),
        ("kg_final.txt", 4, "expected three non-negative integers, found ['0', '0', '-3']"),
        ("train.txt", 2, "expected space-separated integers"),
        ("train.txt", 3, "unknown item 7 (items are 0..1)"),
        ("train.txt", 4, "user id -1 is negative"),
        ("train.txt", 6, "expected a user id and item ids"),
    ]
    train = [(r.user_id, r.item_id) for r in rows if isinstance(r, InteractionRow)]
    assert train == [("0", "0"), ("0", "1"), ("1", "1"), ("0", "1")]


def test_kgat_huge_item_id_does_not_enumerate_the_id_space(tmp_path, contract):
    files = {"train.txt": "0 0 1\n1 99999999999999999999\n"}
    rows = contract(parse_kgat(make(tmp_path / "huge", files)))
    assert [r.id for r in rows if isinstance(r, ItemRow)] == ["0", "1", "99999999999999999999"]
    assert len(rows) == 3 + 2 + 3  # items, users, interactions


def test_kgat_needs_train(tmp_path):
    with pytest.raises(LoaderError, match=r"train\.txt: required file not found"):
        parse_kgat(make(tmp_path / "x", {"test.txt": "0 1\n"}))
