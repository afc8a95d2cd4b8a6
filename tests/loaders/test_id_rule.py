"""Issue 13 item 3 on the ingest side: every loader applies the one id rule
(:func:`graphrec.schema.normalize_id`) to every user and item id.

For each format, one line names a user ``a/b``, one an item ``a/b``, one an
item ``..``; each is a ``file:line`` reject. A user written ``2\u200b`` (a
zero-width space) is the user ``2``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graphrec.loaders import parse
from graphrec.loaders.rows import InteractionRow, Reject, UserRow

SLASH = "contains '/', which cannot appear in a URL path"
DOTS = "'..' is a URL dot segment"
ZW = "\u200b"


def tsv(*lines: str) -> str:
    return "".join(line.replace("|", "\t") + "\n" for line in lines)


# format -> (files, {file name: {line: expected reason}})
CASES: dict[str, tuple[str, dict[str, str], dict[str, dict[int, str]]]] = {
    "movielens-latest": (
        "movielens",
        {
            "movies.csv": "movieId,title,genres\n1,A (1995),Comedy\na/b,B (1996),Drama\n..,C,Drama\n",
            "ratings.csv": f"userId,movieId,rating,timestamp\n1,1,4,1\na/b,1,4,1\n1,..,4,1\n2{ZW},1,3,1\n",
            "tags.csv": "userId,movieId,tag,timestamp\n1,a/b,fun,1\n",
        },
        {
            "movies.csv": {3: f"item id {SLASH}: 'a/b'", 4: f"item id {DOTS}"},
            "ratings.csv": {3: f"user id {SLASH}: 'a/b'", 4: f"item id {DOTS}"},
            "tags.csv": {2: f"movieId {SLASH}: 'a/b'"},
        },
    ),
    "ml-100k": (
        "movielens",
        {
            "u.item": "1|A (1995)|01-Jan-1995||x" + "|0" * 19 + "\n"
            "a/b|B|||x" + "|0" * 19 + "\n",
            "u.data": tsv("1|1|4|1", "a/b|1|4|1", "1|..|4|1"),
            "u.user": "1|24|M|writer|1\na/b|30|F|artist|2\n",
        },
        {
            "u.item": {2: f"item id {SLASH}: 'a/b'"},
            "u.data": {2: f"user id {SLASH}: 'a/b'", 3: f"item id {DOTS}"},
            "u.user": {2: f"user id {SLASH}: 'a/b'"},
        },
    ),
    "ml-1m": (
        "movielens",
        {
            "movies.dat": "1::A (1995)::Comedy\na/b::B::Drama\n",
            "ratings.dat": "1::1::4::1\na/b::1::4::1\n1::..::4::1\n",
            "users.dat": "1::M::25::1::1\na/b::F::18::2::2\n",
        },
        {
            "movies.dat": {2: f"item id {SLASH}: 'a/b'"},
            "ratings.dat": {2: f"user id {SLASH}: 'a/b'", 3: f"item id {DOTS}"},
            "users.dat": {2: f"user id {SLASH}: 'a/b'"},
        },
    ),
    "recbole": (
        "recbole",
        {
            "d.item": tsv("item_id:token|genre:token_seq", "1|Comedy", "a/b|Drama"),
            "d.inter": tsv(
                "user_id:token|item_id:token", "1|1", "a/b|1", "1|..", f"2{ZW}|1"
            ),
            "d.user": tsv("user_id:token|gender:token", "1|M", "a/b|F"),
            "d.link": tsv("item_id:token|entity_id:token", "a/b|m.1"),
        },
        {
            "d.item": {3: f"item id {SLASH}: 'a/b'"},
            "d.inter": {3: f"user id {SLASH}: 'a/b'", 4: f"item id {DOTS}"},
            "d.user": {3: f"user id {SLASH}: 'a/b'"},
            "d.link": {2: f"item id {SLASH}: 'a/b'"},
        },
    ),
    "kgat": (
        "kgat",
        # KGAT ids are remapped integers: anything else is not an id at all.
        {"train.txt": "0 0\na/b 0\n0 ..\n", "kg_final.txt": "0 0 1\n0 0 a/b\n"},
        {
            "train.txt": {2: "expected space-separated integers", 3: "expected space-separated integers"},
            "kg_final.txt": {2: "expected three non-negative integers, found ['0', '0', 'a/b']"},
        },
    ),
    "csv": (
        "csv",
        {
            "mapping.toml": (
                '[catalog]\nfile = "items.csv"\nid = "sku"\n'
                '[users]\nfile = "users.csv"\nid = "uid"\n'
                '[entities]\nfile = "links.csv"\nitem = "sku"\nentity = "e"\n'
                '[log]\nfile = "log.csv"\nuser = "uid"\nitem = "sku"\n'
            ),
            "items.csv": "sku\n1\na/b\n..\n",
            "users.csv": "uid\n1\na/b\n",
            "links.csv": "sku,e\na/b,Q1\n",
            "log.csv": f"uid,sku\n1,1\na/b,1\n1,..\n2{ZW},1\n",
        },
        {
            "items.csv": {3: f"item id {SLASH}: 'a/b'", 4: f"item id {DOTS}"},
            "users.csv": {3: f"user id {SLASH}: 'a/b'"},
            "links.csv": {2: f"item id {SLASH}: 'a/b'"},
            "log.csv": {3: f"user id {SLASH}: 'a/b'", 4: f"item id {DOTS}"},
        },
    ),
    "jsonl": (
        "jsonl",
        {
            "mapping.toml": (
                '[catalog]\nfile = "items.jsonl"\nid = "sku"\n'
                '[log]\nfile = "log.jsonl"\nuser = "uid"\nitem = "sku"\n'
            ),
            "items.jsonl": '{"sku": 1}\n{"sku": "a/b"}\n{"sku": ".."}\n',
            "log.jsonl": (
                '{"uid": 1, "sku": "1"}\n{"uid": "a/b", "sku": 1}\n{"uid": 1, "sku": ".."}\n'
                f'{{"uid": "2{ZW}", "sku": 1}}\n{{"uid": true, "sku": 1}}\n'
            ),
        },
        {
            "items.jsonl": {2: f"item id {SLASH}: 'a/b'", 3: f"item id {DOTS}"},
            "log.jsonl": {
                2: f"user id {SLASH}: 'a/b'",
                3: f"item id {DOTS}",
                5: "user id is not an id: True (uid)",
            },
        },
    ),
}  # fmt: skip


#: Latin-1 files cannot hold U+200B, and KGAT ids are integers.
WITHOUT_TEXT_IDS = {"ml-100k", "ml-1m", "kgat"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_format_applies_the_id_rule(tmp_path: Path, contract, case: str) -> None:
    fmt, files, expected = CASES[case]
    folder = tmp_path / case
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    rows = contract(parse(fmt, folder), catalog_first=False)
    found: dict[str, dict[int, str]] = {}
    for r in rows:
        if isinstance(r, Reject):
            found.setdefault(Path(r.file).name, {})[r.line] = r.reason
    assert found == expected
    users = {r.id for r in rows if isinstance(r, UserRow)}
    assert all("/" not in u and ZW not in u for u in users)
    if case not in WITHOUT_TEXT_IDS:  # zero-width characters are removed: "2\u200b" is "2"
        assert "2" in users
        assert ("2", "1") in {(r.user_id, r.item_id) for r in rows if isinstance(r, InteractionRow)}
