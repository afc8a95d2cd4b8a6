from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from graphrec.loaders import LoaderError, parse, parse_movielens
from graphrec.loaders.rows import (
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    Reject,
    UserConceptRow,
    UserRow,
)

# ml-latest layout, CRLF line endings as in the GroupLens files.
LATEST = {
    "movies.csv": (
        "movieId,title,genres\r\n"
        "1,Toy Story (1995),Adventure|Animation|Children\r\n"
        '2,"Shawshank Redemption, The (1994)",Crime|Drama\r\n'
        "3,Babylon 5,(no genres listed)\r\n"
        "4,Death Note: Desu nôto (2006–2007) ,Animation\r\n"
    ),
    "ratings.csv": (
        "userId,movieId,rating,timestamp\r\n"
        "1,1,4.0,964982703\r\n"
        "1,2,5.0,964982704\r\n"
        "2,1,3.5,1445714994\r\n"
    ),
    "tags.csv": (
        "userId,movieId,tag,timestamp\r\n"
        "1,1,Pixar,1445714990\r\n"
        "2,1,  pixar ,1445714991\r\n"
        "2,1,Funny,1445714992\r\n"
        "2,2,prison,1445714993\r\n"
    ),
    "links.csv": "movieId,imdbId,tmdbId\r\n1,0114709,862\r\n2,0111161,\r\n",
}


def make(folder: Path, files: dict[str, str | bytes], encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode(encoding)
        (folder / name).write_bytes(data)
    return folder


def rejects(rows) -> list[tuple[str, int, str]]:
    return [(Path(r.file).name, r.line, r.reason) for r in rows if isinstance(r, Reject)]


def test_latest_exact_rows(tmp_path, contract):
    rows = contract(parse_movielens(make(tmp_path / "ml", LATEST)))
    g = "genre:"
    assert rows == [
        ItemRow("1", "Toy Story (1995)", {"imdb_id": "0114709", "tmdb_id": "862", "year": 1995}),
        ConceptRow(g + "adventure", "genre", "Adventure"),
        ItemConceptRow("1", g + "adventure", "has_genre"),
        ConceptRow(g + "animation", "genre", "Animation"),
        ItemConceptRow("1", g + "animation", "has_genre"),
        ConceptRow(g + "children", "genre", "Children"),
        ItemConceptRow("1", g + "children", "has_genre"),
        ConceptRow("decade:1990s", "decade", "1990s"),
        ItemConceptRow("1", "decade:1990s", "has_decade"),
        ItemRow("2", "Shawshank Redemption, The (1994)", {"imdb_id": "0111161", "year": 1994}),
        ConceptRow(g + "crime", "genre", "Crime"),
        ItemConceptRow("2", g + "crime", "has_genre"),
        ConceptRow(g + "drama", "genre", "Drama"),
        ItemConceptRow("2", g + "drama", "has_genre"),
        ItemConceptRow("2", "decade:1990s", "has_decade"),
        ItemRow("3", "Babylon 5", {}),
        ItemRow("4", "Death Note: Desu nôto (2006–2007)", {"year": 2006}),
        ItemConceptRow("4", g + "animation", "has_genre"),
        ConceptRow("decade:2000s", "decade", "2000s"),
        ItemConceptRow("4", "decade:2000s", "has_decade"),
        ConceptRow("tag:pixar", "tag", "Pixar"),
        ItemConceptRow("1", "tag:pixar", "has_tag", 2.0),  # "Pixar" and " pixar " aggregate
        ConceptRow("tag:funny", "tag", "Funny"),
        ItemConceptRow("1", "tag:funny", "has_tag", 1.0),
        ConceptRow("tag:prison", "tag", "prison"),
        ItemConceptRow("2", "tag:prison", "has_tag", 1.0),
        UserRow("1"),
        InteractionRow("1", "1", "rating", 1.0, 4.0, 964982703),
        InteractionRow("1", "2", "rating", 1.0, 5.0, 964982704),
        UserRow("2"),
        InteractionRow("2", "1", "rating", 1.0, 3.5, 1445714994),
    ]


def test_latest_options_turn_off_tags_and_decades(tmp_path):
    rows = list(parse_movielens(make(tmp_path / "ml", LATEST), tags=False, decades=False))
    relations = {r.relation for r in rows if isinstance(r, ItemConceptRow)}
    assert relations == {"has_genre"}


def test_latest_bad_rows_become_rejects(tmp_path, contract):
    files = dict(LATEST)
    files["movies.csv"] = LATEST["movies.csv"] + (
        '5,"Broken "quote,Drama\r\n'  # line 6
        "1,Toy Story again (1995),Comedy\r\n"  # line 7: duplicate id
        ",No id (2000),Drama\r\n"  # line 8
        "9,Fine (2001),Comedy\r\n"  # line 9
    )
    files["ratings.csv"] = (
        b"userId,movieId,rating,timestamp\n"
        b"1,1,4.0,964982703\n"
        b"1,1,4.0\n"
        b"1,2,five,964982704\n"
        b"1,2,5.0,yesterday\n"
        b",2,5.0,964982704\n"
        b"1,99,5.0,964982704\n"
        b"1,2,5.0,96498\xff2704\n"
        b"3,9,3.0,964982705\n"
    )
    files["tags.csv"] = "userId,movieId,tag,timestamp\n1,1,fun,1\n1,77,lost,2\n1,1,   ,3\n"
    rows = contract(parse_movielens(make(tmp_path / "ml", files)))
    assert rejects(rows) == [
        ("movies.csv", 6, "malformed CSV quoting: ',' expected after '\"'"),
        ("movies.csv", 7, "duplicate item id '1'"),
        ("movies.csv", 8, "item id is empty"),
        ("tags.csv", 3, "unknown item '77' (not in movies.csv)"),
        ("tags.csv", 4, "concept name is empty (kind tag)"),
        ("ratings.csv", 3, "expected 4 columns, found 3"),
        ("ratings.csv", 4, "rating is not a number: 'five'"),
        ("ratings.csv", 5, "timestamp is neither epoch seconds nor ISO 8601: 'yesterday'"),
        ("ratings.csv", 6, "user id is empty"),
        ("ratings.csv", 7, "unknown item '99' (not in movies.csv)"),
        ("ratings.csv", 8, "undecodable bytes for utf-8 at byte 14"),
    ]
    reject = next(r for r in rows if isinstance(r, Reject))
    assert reject.file == str(tmp_path / "ml" / "movies.csv")
    assert [r for r in rows if isinstance(r, InteractionRow)] == [
        InteractionRow("1", "1", "rating", 1.0, 4.0, 964982703),
        InteractionRow("3", "9", "rating", 1.0, 3.0, 964982705),
    ]
    assert [r.id for r in rows if isinstance(r, ItemRow)] == ["1", "2", "3", "4", "9"]


ML100K_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)"
    "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "2|Misérables, Les (1995)|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|1|0|0|0|0|0|0\n"
    "3|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "4|Old Film|05-May-1962||http://y|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
)
ML100K = {
    "u.item": ML100K_ITEM,
    "u.user": "1|24|M|technician|85711\n2|53|F|other|94043\n3|15|M|student|55106\n",
    "u.data": "1\t1\t5\t874965758\n2\t2\t3\t876893171\n4\t1\t4\t880000000\n",
}


def test_ml100k_latin1_users_genres_and_dates(tmp_path, contract):
    rows = contract(parse_movielens(make(tmp_path / "ml-100k", ML100K, "latin-1")))
    items = {r.id: r for r in rows if isinstance(r, ItemRow)}
    assert items["2"].title == "Misérables, Les (1995)"
    assert items["1"].properties == {
        "year": 1995,
        "release_date": "01-Jan-1995",
        "imdb_url": "http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)",
    }
    assert items["3"] == ItemRow("3", "unknown", {})
    assert items["4"].properties["year"] == 1962  # from the release date, not the title
    edges = {(r.item_id, r.concept_id) for r in rows if isinstance(r, ItemConceptRow)}
    assert edges == {
        ("1", "genre:animation"),
        ("1", "genre:children's"),
        ("1", "genre:comedy"),
        ("1", "decade:1990s"),
        ("2", "genre:drama"),
        ("2", "genre:musical"),
        ("2", "decade:1990s"),
        ("4", "genre:drama"),
        ("4", "decade:1960s"),
    }  # item 3 only has the "unknown" flag, which means no genre
    users = {r.id: r.properties for r in rows if isinstance(r, UserRow)}
    assert users == {
        "1": {"age": 24, "zip_code": "85711"},
        "2": {"age": 53, "zip_code": "94043"},
        "3": {"age": 15, "zip_code": "55106"},
        "4": {},
    }
    attributes = {
        (r.user_id, r.concept_id, r.relation) for r in rows if isinstance(r, UserConceptRow)
    }
    assert ("1", "age_group:25-34", "has_age_group") not in attributes
    assert {
        ("1", "age_group:18-24", "has_age_group"),
        ("1", "gender:male", "has_gender"),
        ("1", "occupation:technician", "has_occupation"),
        ("2", "age_group:50-55", "has_age_group"),
        ("3", "age_group:under 18", "has_age_group"),
    } <= attributes
    assert [r for r in rows if isinstance(r, InteractionRow)][0] == InteractionRow(
        "1", "1", "rating", 1.0, 5.0, 874965758
    )
    assert Counter(type(r).__name__ for r in rows)["Reject"] == 0


def test_ml100k_uses_u_genre_names_and_rejects_bad_lines(tmp_path, contract):
    files = dict(ML100K)
    files["u.genre"] = "none|0\nFunny|1\n\n"
    files["u.item"] = "1|Tiny (1999)|||u|0|1\n2|Bad flags (1999)|||u|0|2\n3|Short|x\n"
    files["u.data"] = "1\t1\t5\t874965758\n1\t2\t5\t874965758\n1\t1\tx\t1\n"
    files["u.user"] = "1|old|M|x|1\n2|30|F|writer|1\n"
    rows = contract(parse_movielens(make(tmp_path / "ml-100k", files, "latin-1")))
    assert rejects(rows) == [
        ("u.item", 2, "genre flags must be 0 or 1"),
        ("u.item", 3, "expected 7 columns, found 3"),
        ("u.user", 1, "age is not an integer: 'old'"),
        ("u.data", 2, "unknown item '2' (not in u.item)"),
        ("u.data", 3, "rating is not a number: 'x'"),
    ]
    assert [r for r in rows if isinstance(r, ItemConceptRow) and r.relation == "has_genre"] == [
        ItemConceptRow("1", "genre:funny", "has_genre")
    ]


ML1M = {
    "movies.dat": "1::Toy Story (1995)::Animation|Children's|Comedy\n2::Città aperta (1945)::Drama\n",
    "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n3::M::99::1::1\n4::M::25::42::1\n",
    "ratings.dat": "1::1::5::978300760\n2::2::3::978302109\n5::1::4::978301968\n1::3::4::1\n",
}


def test_ml1m_latin1_codes_and_rejects(tmp_path, contract):
    rows = contract(parse_movielens(make(tmp_path / "ml-1m", ML1M, "latin-1")))
    items = {r.id: r for r in rows if isinstance(r, ItemRow)}
    assert items["2"] == ItemRow("2", "Città aperta (1945)", {"year": 1945})
    users = [r for r in rows if isinstance(r, UserRow)]
    assert users == [
        UserRow("1", {"zip_code": "48067"}),
        UserRow("2", {"zip_code": "70072"}),
        UserRow("5"),
    ]
    attributes = [(r.user_id, r.concept_id) for r in rows if isinstance(r, UserConceptRow)]
    assert attributes == [
        ("1", "age_group:under 18"),
        ("1", "gender:female"),
        ("1", "occupation:k-12 student"),
        ("2", "age_group:56+"),
        ("2", "gender:male"),
        ("2", "occupation:self-employed"),
    ]
    names = {r.id: r.name for r in rows if isinstance(r, ConceptRow)}
    assert names["occupation:k-12 student"] == "K-12 student"
    assert rejects(rows) == [
        ("users.dat", 3, "unknown age code '99'"),
        ("users.dat", 4, "unknown occupation code '42'"),
        ("ratings.dat", 4, "unknown item '3' (not in movies.dat)"),
    ]
    assert len([r for r in rows if isinstance(r, InteractionRow)]) == 3


def test_layout_detection_descends_into_a_single_subfolder(tmp_path):
    make(tmp_path / "download" / "ml-1m", ML1M, "latin-1")
    rows = list(parse("movielens", tmp_path / "download"))
    assert sum(isinstance(r, InteractionRow) for r in rows) == 3


def test_missing_required_file_and_bad_layouts_raise(tmp_path):
    folder = make(tmp_path / "ml", {"movies.csv": LATEST["movies.csv"]})
    with pytest.raises(LoaderError, match=r"ratings\.csv: required file not found"):
        parse_movielens(folder)  # raises on the call, before iteration
    with pytest.raises(LoaderError, match="no MovieLens files found"):
        parse_movielens(make(tmp_path / "empty", {"README": "hi"}))
    with pytest.raises(LoaderError, match="unknown MovieLens layout '25m'"):
        parse_movielens(folder, layout="25m")
    with pytest.raises(LoaderError, match="not a folder"):
        parse_movielens(tmp_path / "missing")
    with pytest.raises(LoaderError, match=r"ml/u\.item: required file not found"):
        parse_movielens(folder, layout="100k")
