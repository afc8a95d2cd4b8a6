"""Fuzz every loader: generated lines are parsed or rejected, never raised out of the parser.

Each test writes files of one layout whose body lines are drawn by hypothesis
from a mix of nasty values (overflowing and negative numbers, NaN, ``a/b``,
dot segments, format characters, quotes, undecodable bytes ...) and random
text, then reads every row. A source may be refused as a whole with a
:class:`LoaderError` when the parser is *called* (a header it cannot use);
once rows flow, nothing may raise. Every row that comes out must also be
one the graph writer can store: ids under the one id rule, weights, ratings
and timestamps inside the shared ranges, properties Bolt can carry.

Bounded (``max_examples``, ``deadline=None``) so that the file runs in seconds.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest
from graphrec.loaders import DownloadError, LoaderError, parse
from graphrec.loaders.download import download_dataset
from graphrec.loaders.rows import (
    ConceptRelationRow,
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    Reject,
    Row,
    SubconceptRow,
    UserConceptRow,
    UserRow,
)
from graphrec.loaders.synthetic import EntityKG
from graphrec.schema import check_timestamp, check_value, normalize_id

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

NASTY = [
    "", " ", "0", "1", "2", "5", "0.5", "4.5", "7.5", "-1", "-3", "-5", "1e400", "-1e400",
    "nan", "NaN", "inf", "-Infinity", "1e308", "1e-400", "1e30", "0x10", "1_000", "²", "١٢",
    "99999999999999999999999", "-99999999999999999999999", "9223372036854775808",
    "a/b", "/", ".", "..", "\u200b", "\u202e", "a\u200bb", "\ufeff1", '"', '""', '"a,b"',
    "a,b", "a|b", "a\tb", "a::b", "\\", "(no genres listed)", "Comedy|Drama", "x y",
    "2024-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-14:00",
    "2024-13-45", "true", "false", "null", "m.0abc", "x" * 600, "M", "F", "25", "Title (1995)",
]  # fmt: skip

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)
FIELD = st.one_of(
    st.sampled_from(NASTY),
    TEXT,
    st.integers(-(10**25), 10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


#: Numbers that every rule accepts, and numbers just past (or far past) some rule.
GOOD_NUMBERS = ["1", "3", "4.0", "5", "0.5", "2.5", "964982703", "0"]
BAD_NUMBERS = [
    "-3", "-5", "7.5", "1e400", "-1e400", "nan", "inf", "1e30", "1000001", "-1000001",
    "253402300800", "99999999999999999999999", "9223372036854775808", "", "abc", "²", "0.4",
]  # fmt: skip
WORDS = ["Comedy", "Drama|Comedy", "Toy (1995)", "a b", "m.01", "film.genre", "M", "25", "x"]
FLAGS = ["0", "1"]
IDS = ["1", "2"]


def _mostly(good: list[str], *others: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pick = st.sampled_from(good)
    return st.one_of(pick, pick, pick, *others)


#: Column kinds: an id (mostly from a pool of two, so that rows join up), a number (as
#: often bad as good), a word, a 0/1 flag. Each is now and then any field at all.
COLUMN = {
    "i": _mostly(IDS, FIELD),
    "n": st.one_of(
        st.sampled_from(GOOD_NUMBERS), st.sampled_from(BAD_NUMBERS), st.sampled_from(BAD_NUMBERS),
        st.integers(-10, 10**12).map(str), FIELD,
    ),
    "t": _mostly(WORDS, FIELD),
    "f": _mostly(FLAGS, FIELD),
}  # fmt: skip


def lines(sep: str, columns: str) -> st.SearchStrategy[bytes]:
    """Body lines: one field per column kind in ``columns`` (``"iinn"``), or a line of
    random width now and then, or raw bytes."""
    exact = st.tuples(*(COLUMN[c] for c in columns)).map(sep.join)
    width = len(columns)
    ragged = st.lists(FIELD, min_size=max(width - 1, 1), max_size=width + 1).map(sep.join)
    text = st.one_of(exact, exact, exact, exact, ragged).map(lambda s: s.encode("utf-8"))
    return st.one_of(text, text, text, text, st.binary(max_size=16))


def body(sep: str, columns: str) -> st.SearchStrategy[bytes]:
    return st.lists(lines(sep, columns), max_size=10).map(lambda ls: b"\n".join(ls) + b"\n")


def write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


def storable(value: object) -> bool:
    if isinstance(value, list):
        return all(storable(v) for v in value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


def valid_id(value: str, *, url_path: bool = True) -> bool:
    return normalize_id(value, url_path=url_path) == value


Contract = Callable[..., list[Row]]


def check_rows(contract: Contract, rows: Iterable[Row]) -> list[Row]:
    """Consume the rows (nothing may raise) and check each is one the writer can store."""
    out = contract(rows, catalog_first=False)
    for row in out:
        if isinstance(row, UserRow | ItemRow):
            assert valid_id(row.id), row
            assert all(storable(v) for v in row.properties.values()), row
        elif isinstance(row, ConceptRow):
            assert valid_id(row.id, url_path=False), row
        elif isinstance(row, InteractionRow):
            assert valid_id(row.user_id) and valid_id(row.item_id), row
            assert check_value(row.weight, field="weight") == row.weight
            assert row.rating is None or check_value(row.rating, field="rating") == row.rating
            assert row.ts is None or check_timestamp(row.ts) == row.ts
        elif isinstance(row, ItemConceptRow):
            assert check_value(row.weight, field="weight") == row.weight
            assert row.relation, row
        elif isinstance(row, ConceptRelationRow | UserConceptRow):
            assert row.relation and valid_id(row.relation, url_path=False), row
        else:
            assert isinstance(row, Reject | SubconceptRow), row
            if isinstance(row, Reject):
                assert row.line >= 1 and row.reason, row
    return out


def parse_files(contract: Contract, fmt: str, files: dict[str, bytes]) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write(Path(tmp) / "data", files)
        try:
            rows = parse(fmt, folder)
        except LoaderError:
            return []  # refused as a whole, at the call: allowed
        return check_rows(contract, rows)


# -- MovieLens, all three layouts ---------------------------------------------------------------


@FUZZ
@given(
    movies=body(",", "itt"),
    ratings=body(",", "iinn"),
    tags=body(",", "iitn"),
    links=body(",", "inn"),
)
def test_movielens_latest(contract, movies, ratings, tags, links):
    parse_files(
        contract,
        "movielens",
        {
            "movies.csv": b"movieId,title,genres\n1,Toy Story (1995),Comedy\n" + movies,
            "ratings.csv": b"userId,movieId,rating,timestamp\n1,1,4.0,1\n" + ratings,
            "tags.csv": b"userId,movieId,tag,timestamp\n" + tags,
            "links.csv": b"movieId,imdbId,tmdbId\n" + links,
        },
    )


@FUZZ
@given(items=body("|", "ittnt" + "f" * 19), data=body("\t", "iinn"), users=body("|", "intti"))
def test_movielens_100k(contract, items, data, users):
    parse_files(contract, "movielens", {"u.item": items, "u.data": data, "u.user": users})


@FUZZ
@given(movies=body("::", "itt"), ratings=body("::", "iinn"), users=body("::", "itnni"))
def test_movielens_1m(contract, movies, ratings, users):
    parse_files(
        contract, "movielens", {"movies.dat": movies, "ratings.dat": ratings, "users.dat": users}
    )


# -- RecBole, KGAT ------------------------------------------------------------------------------


@FUZZ
@given(
    inter=body("\t", "iinn"),
    item=body("\t", "ittnn"),
    user=body("\t", "intt"),
    kg=body("\t", "iti"),
    link=body("\t", "ii"),
)
def test_recbole(contract, inter, item, user, kg, link):
    parse_files(
        contract,
        "recbole",
        {
            "f.inter": b"user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + inter,
            "f.item": b"item_id:token\ttitle:token_seq\tgenre:token_seq\tyear:token\tprice:float\n"
            + item,
            "f.user": b"user_id:token\tage:token\tgender:token\toccupation:token\n" + user,
            "f.kg": b"head_id:token\trelation_id:token\ttail_id:token\n" + kg,
            "f.link": b"item_id:token\tentity_id:token\n" + link,
        },
    )


@FUZZ
@given(
    train=body(" ", "iii"),
    test=body(" ", "iii"),
    kg=body(" ", "iii"),
    items=body(" ", "tit"),
    entities=body(" ", "ti"),
)
def test_kgat(contract, train, test, kg, items, entities):
    parse_files(
        contract,
        "kgat",
        {
            "train.txt": train,
            "test.txt": test,
            "kg_final.txt": kg,
            "item_list.txt": b"org_id remap_id freebase_id\n" + items,
            "entity_list.txt": b"org_id remap_id\n" + entities,
        },
    )


# -- the generic csv/jsonl mapping, with its KG sections ----------------------------------------

MAPPING = b"""
[catalog]
file = "items.csv"
id = "sku"
title = "name"
properties = ["price"]

[[catalog.concepts]]
column = "path"
kind = "category"
relation = "has_category"
hierarchy = ">"

[[catalog.concepts]]
column = "tags"
kind = "tag"
relation = "has_tag"
separator = "|"

[users]
file = "users.csv"
id = "uid"
properties = ["age"]

[entities]
file = "links.tsv"
header = false
columns = ["sku", "entity"]
item = "sku"
entity = "entity"

[kg]
file = "kg.tsv"
header = false
columns = ["h", "r", "t"]
head = "h"
relation = "r"
tail = "t"

[log]
file = "log.csv"
user = "uid"
item = "sku"
timestamp = "ts"
weight = "w"
rating = "stars"
kind = "what"
"""


@FUZZ
@given(
    items=body(",", "ittnn"),
    users=body(",", "in"),
    links=body("\t", "ii"),
    kg=body("\t", "iti"),
    log=body(",", "iinnnt"),
)
def test_csv_mapping(contract, items, users, links, kg, log):
    parse_files(
        contract,
        "csv",
        {
            "mapping.toml": MAPPING,
            "items.csv": b"sku,name,path,tags,price\nA,Lamp,Home > Light,a|b,3\n" + items,
            "users.csv": b"uid,age\n" + users,
            "links.tsv": links,
            "kg.tsv": kg,
            "log.csv": b"uid,sku,ts,w,stars,what\nu1,A,1,1,1,view\n" + log,
        },
    )


JSON_VALUE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**25), 10**25),
        st.floats(allow_nan=True, allow_infinity=True),
        FIELD,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)
KEYS = ["sku", "name", "path", "tags", "price", "uid", "ts", "w", "stars", "what", "entity"]


def json_lines(keys: list[str]) -> st.SearchStrategy[bytes]:
    record = st.dictionaries(st.sampled_from(keys), JSON_VALUE, max_size=len(keys))
    line = st.one_of(
        record.map(lambda r: json.dumps(r).encode()),  # NaN and Infinity as Python writes them
        st.binary(max_size=12),
        FIELD.map(lambda s: s.encode()),
    )
    return st.lists(line, max_size=8).map(lambda ls: b"\n".join(ls) + b"\n")


@FUZZ
@given(items=json_lines(KEYS[:5]), log=json_lines(KEYS[5:]), links=json_lines(["sku", "entity"]))
def test_jsonl_mapping(contract, items, log, links):
    mapping = MAPPING.replace(b'"items.csv"', b'"items.jsonl"').replace(
        b'"log.csv"', b'"log.jsonl"'
    )
    mapping = mapping.replace(
        b'file = "links.tsv"\nheader = false\ncolumns = ["sku", "entity"]', b'file = "links.jsonl"'
    )
    parse_files(
        contract,
        "jsonl",
        {
            "mapping.toml": mapping,
            "items.jsonl": b'{"sku": "A", "name": "Lamp"}\n' + items,
            "users.csv": b"uid,age\n",
            "links.jsonl": links,
            "kg.tsv": b"",
            "log.jsonl": b'{"uid": "u1", "sku": "A"}\n' + log,
        },
    )


# -- synthetic options --------------------------------------------------------------------------

OPTION = st.one_of(
    st.integers(-3, 40),
    st.sampled_from([0, 10**9, 10**30, -(10**30), True, None, "5", 2.5]),
    st.floats(allow_nan=True, allow_infinity=True),
)


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            name: OPTION
            for name in (
                "users",
                "items",
                "interactions",
                "concepts_per_item",
                "communities",
                "subcategories",
                "tags_per_community",
                "affinity",
                "popularity_exponent",
                "start",
                "days",
                "seed",
            )
        },
    ),
    st.one_of(
        st.booleans(),
        st.builds(
            EntityKG,
            **{
                name: OPTION
                for name in (
                    "items_per_artist",
                    "labels_per_community",
                    "producers_per_community",
                    "countries",
                    "country_exponent",
                    "artists_per_user",
                    "entity_affinity",
                    "collaboration",
                )
            },
        ),
    ),
)
def test_synthetic_options(contract, options, entity_kg):
    options = {"users": 8, "items": 9, "interactions": 20, **options, "entity_kg": entity_kg}
    try:
        rows = parse("synthetic", None, **options)
    except LoaderError:
        return
    rows = check_rows(contract, rows)
    assert not any(isinstance(r, Reject) for r in rows)


# -- download: any archive is unpacked safely or refused with a DownloadError -------------------


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


MEMBER = st.one_of(
    st.sampled_from([
        "ml/ratings.csv", "../evil", "/abs", "a/../../b", "C:/x", "a\\..\\b", "ml/",
        "ml/movies.csv", "ml", "ml/x/y", "ml/x",
    ]),
    # zipfile cuts a member name at its first NUL and cannot write the empty name left over.
    TEXT.filter(lambda name: bool(name.split("\x00")[0])),
)  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(
    st.one_of(
        st.dictionaries(MEMBER, st.binary(max_size=40), max_size=4).map(lambda m: ("zip", m)),
        st.binary(max_size=200).map(lambda b: ("raw", b)),
    )
)
def test_download_archives(archive):
    kind, content = archive
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            for name, data in content.items():
                bundle.writestr(name, data)
        payload = buffer.getvalue()
    else:
        payload = content
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "www"
        root.mkdir()
        (root / "a.zip").write_bytes(payload)
        handler = partial(_Quiet, directory=str(root))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            url = f"http://127.0.0.1:{httpd.server_address[1]}/a.zip"
            cache = Path(tmp) / "cache"
            digest = hashlib.sha256(payload).hexdigest()
            try:
                folder = download_dataset("fz", cache, url=url, sha256=digest, progress=False)
            except DownloadError:
                assert not (cache / "fz").exists()
                return
            assert folder.resolve().is_relative_to(cache.resolve())
            for path in folder.rglob("*"):
                assert path.resolve().is_relative_to(folder.resolve())
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)


# -- and into the real graph: whatever a parser lets through, the writer stores -----------------


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    ratings=body(",", "iinn"), links=body(",", "inn"), log=body(",", "iinnnt"), kg=body("\t", "iti")
)
def test_fuzzed_rows_ingest_without_error(contract, graph: GraphClient, ratings, links, log, kg):
    sources: list[tuple[str, dict[str, bytes]]] = [
        (
            "movielens",
            {
                "movies.csv": b"movieId,title,genres\n1,A (1995),Comedy\n2,B,Drama\n",
                "ratings.csv": b"userId,movieId,rating,timestamp\n" + ratings,
                "links.csv": b"movieId,imdbId,tmdbId\n" + links,
            },
        ),
        (
            "csv",
            {
                "mapping.toml": MAPPING,
                "items.csv": b"sku,name,path,tags,price\nA,Lamp,Home > Light,a|b,3\nB,Rug,,,\n",
                "users.csv": b"uid,age\n",
                "links.tsv": b"A\t1\n",
                "kg.tsv": kg,
                "log.csv": b"uid,sku,ts,w,stars,what\n" + log,
            },
        ),
    ]
    for fmt, files in sources:
        rows = parse_files(contract, fmt, files)
        summary = ingest(graph, iter(rows), batch_size=50, progress=False)
        assert summary.rejected == sum(isinstance(r, Reject) for r in rows)
