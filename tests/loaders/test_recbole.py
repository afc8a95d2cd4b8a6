from __future__ import annotations

from pathlib import Path

import pytest

from graphrec.loaders import LoaderError, parse, parse_recbole
from graphrec.loaders.rows import (
    LINKED_ENTITY,
    ConceptRelationRow,
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    Reject,
    UserConceptRow,
    UserRow,
)


def tsv(*lines: str) -> str:
    return "".join(line.replace("|", "\t") + "\n" for line in lines)


DEMO = {
    "demo.item": tsv(
        "item_id:token|movie_title:token_seq|release_year:token|class:token_seq|price:float"
        "|keywords:token_seq|brand:token",
        "1|Toy Story|1995|Animation Comedy|9.5|toys friendship|Pixar",
        "2|Heat|1995|Action||heist|",
    ),
    "demo.user": tsv(
        "user_id:token|age:token|gender:token|occupation:token|zip_code:token",
        "1|24|M|technician|85711",
    ),
    "demo.kg": tsv(
        "head_id:token|relation_id:token|tail_id:token",
        "m.01|film.film.genre|m.02",
        "m.01|film.film.director|m.03",
    ),
    "demo.link": tsv("item_id:token|entity_id:token", "1|m.01"),
    "demo.inter": tsv(
        "user_id:token|item_id:token|rating:float|timestamp:float",
        "1|1|5|881250949",
        "2|2|3.5|891717742.0",
    ),
}


def make(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def rejects(rows) -> list[tuple[str, int, str]]:
    return [(Path(r.file).name, r.line, r.reason) for r in rows if isinstance(r, Reject)]


def test_recbole_exact_rows(tmp_path, contract):
    rows = contract(parse_recbole(make(tmp_path / "demo", DEMO)))
    assert rows == [
        ItemRow("1", "Toy Story", {"price": 9.5, "year": 1995}),
        ConceptRow("genre:animation", "genre", "Animation"),
        ItemConceptRow("1", "genre:animation", "has_genre"),
        ConceptRow("genre:comedy", "genre", "Comedy"),
        ItemConceptRow("1", "genre:comedy", "has_genre"),
        ConceptRow("entity:toys", "entity", "toys"),
        ItemConceptRow("1", "entity:toys", "has_keywords"),
        ConceptRow("entity:friendship", "entity", "friendship"),
        ItemConceptRow("1", "entity:friendship", "has_keywords"),
        ConceptRow("brand:pixar", "brand", "Pixar"),
        ItemConceptRow("1", "brand:pixar", "has_brand"),
        ConceptRow("decade:1990s", "decade", "1990s"),
        ItemConceptRow("1", "decade:1990s", "has_decade"),
        ItemRow("2", "Heat", {"year": 1995}),
        ConceptRow("genre:action", "genre", "Action"),
        ItemConceptRow("2", "genre:action", "has_genre"),
        ConceptRow("entity:heist", "entity", "heist"),
        ItemConceptRow("2", "entity:heist", "has_keywords"),
        ItemConceptRow("2", "decade:1990s", "has_decade"),
        ConceptRow("entity:m.01", "entity", "m.01"),
        ConceptRow("entity:m.02", "entity", "m.02"),
        ConceptRelationRow("entity:m.01", "film.film.genre", "entity:m.02"),
        ConceptRow("entity:m.03", "entity", "m.03"),
        ConceptRelationRow("entity:m.01", "film.film.director", "entity:m.03"),
        ItemConceptRow("1", "entity:m.01", LINKED_ENTITY),
        UserRow("1", {"zip_code": "85711", "age": 24}),
        ConceptRow("age_group:18-24", "age_group", "18-24"),
        UserConceptRow("1", "age_group:18-24", "has_age_group"),
        ConceptRow("gender:male", "gender", "male"),
        UserConceptRow("1", "gender:male", "has_gender"),
        ConceptRow("occupation:technician", "occupation", "technician"),
        UserConceptRow("1", "occupation:technician", "has_occupation"),
        InteractionRow("1", "1", "rating", 1.0, 5.0, 881250949),
        UserRow("2"),
        InteractionRow("2", "2", "rating", 1.0, 3.5, 891717742),
    ]


def test_recbole_bad_rows_become_rejects(tmp_path, contract):
    files = dict(DEMO)
    files["demo.item"] = DEMO["demo.item"] + tsv("1|Dup|2000|Drama|1||", "3|Cheap|2001|Drama|x||")
    files["demo.kg"] = DEMO["demo.kg"] + tsv("m.04||m.05", "m.04|r")
    files["demo.link"] = DEMO["demo.link"] + tsv("9|m.09")
    files["demo.inter"] = DEMO["demo.inter"] + tsv(
        "1|9|4|881250949", "1|2|great|881250949", "|2|4|1", "1|2|4|soon"
    )
    rows = contract(parse_recbole(make(tmp_path / "demo", files)))
    assert rejects(rows) == [
        ("demo.item", 4, "duplicate item id '1'"),
        ("demo.item", 5, "price is not a number: 'x'"),
        ("demo.kg", 4, "relation is empty"),
        ("demo.kg", 5, "expected 3 columns, found 2"),
        ("demo.link", 3, "unknown item '9' (not in demo.item)"),
        ("demo.inter", 4, "unknown item '9' (not in demo.item)"),
        ("demo.inter", 5, "rating is not a number: 'great'"),
        ("demo.inter", 6, "user id is empty"),
        ("demo.inter", 7, "timestamp is neither epoch seconds nor ISO 8601: 'soon'"),
    ]
    assert sum(isinstance(r, InteractionRow) for r in rows) == 2
    assert "entity:m.04" not in {r.id for r in rows if isinstance(r, ConceptRow)}


def test_recbole_without_item_file_creates_items_on_sight(tmp_path, contract):
    files = {
        "kg.inter": tsv("user_id:token|item_id:token", "u1|i1", "u1|i2", "u2|i1"),
        "kg.link": tsv("item_id:token|entity_id:token", "i3|m.3"),
    }
    rows = contract(parse("recbole", make(tmp_path / "kg", files)), catalog_first=False)
    assert rows == [
        ItemRow("i3"),
        ConceptRow("entity:m.3", "entity", "m.3"),
        ItemConceptRow("i3", "entity:m.3", LINKED_ENTITY),
        ItemRow("i1"),
        UserRow("u1"),
        InteractionRow("u1", "i1", "interacted"),
        ItemRow("i2"),
        InteractionRow("u1", "i2", "interacted"),
        UserRow("u2"),
        InteractionRow("u2", "i1", "interacted"),
    ]


@pytest.mark.parametrize(
    ("files", "options", "message"),
    [
        ({}, {}, "expected exactly one .inter file, found none"),
        ({"a.inter": "x\n", "b.inter": "x\n"}, {}, "found a, b"),
        (
            {"a.inter": tsv("user_id|item_id:token")},
            {},
            "header field 'user_id' is not 'name:type'",
        ),
        ({"a.inter": tsv("user_id:int|item_id:token")}, {}, "unknown type 'int'"),
        (
            {"a.inter": tsv("uid:token|item_id:token")},
            {},
            "no field 'user_id' in the header (fields: uid, item_id; pick another with user_field",
        ),
        ({"a.inter": tsv("user_id:token|item_id:token")}, {"dataset": "b"}, r"b\.inter"),
    ],
)
def test_recbole_unusable_folders_raise(tmp_path, files, options, message):
    folder = make(tmp_path / "rb", files)
    with pytest.raises(LoaderError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_recbole(folder, **options)


def test_recbole_custom_field_names(tmp_path):
    folder = make(tmp_path / "rb", {"a.inter": tsv("uid:token|iid:token|ts:float", "1|2|3")})
    rows = list(parse_recbole(folder, user_field="uid", item_field="iid", time_field="ts"))
    assert rows[-1] == InteractionRow("1", "2", "interacted", 1.0, None, 3)
