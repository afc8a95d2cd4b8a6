"""Issue 13's ingest breaks, reproduced against the real embedded graph.

Each test feeds a catalog holding one bad value through ``graphrec ingest`` (a
subprocess, as a user runs it) or through :func:`graphrec.ingest.ingest`, and
checks that the bad row is a ``file:line`` reject while every other row lands.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest
from graphrec.loaders import parse

FIXTURES = Path(__file__).parents[1] / "fixtures"


def graphrec(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graphrec", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )


def counts(graph: GraphClient) -> tuple[dict[str, int], dict[str, int]]:
    nodes = {row["label"]: row["n"] for row in graph.read("graph/count_nodes")}
    rels = {row["type"]: row["n"] for row in graph.read("graph/count_relationships")}
    return nodes, rels


def latest_with(tmp_path: Path, ratings_extra: str = "", links_extra: str = "") -> Path:
    """The movielens-latest fixture with lines appended to ratings.csv / links.csv."""
    folder = tmp_path / "ml"
    shutil.copytree(FIXTURES / "movielens-latest", folder)
    with open(folder / "ratings.csv", "a", encoding="utf-8") as fh:
        fh.write(ratings_extra)
    with open(folder / "links.csv", "a", encoding="utf-8") as fh:
        fh.write(links_extra)
    return folder


def test_overflowing_timestamp_is_one_reject_and_everything_else_lands(
    graph: GraphClient, graph_env: dict[str, str], tmp_path: Path
) -> None:
    folder = latest_with(tmp_path, "800008,1,2.0,99999999999999999999999\n")
    bad_line = len((folder / "ratings.csv").read_text().splitlines())

    result = graphrec("ingest", "movielens", str(folder), "--no-co-engagement", env=graph_env)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"ratings.csv:{bad_line}: timestamp out of range" in result.stderr
    nodes, rels = counts(graph)
    # As the fixture without the bad row: 9 ratings, every genre/decade/tag link.
    assert nodes == {"User": 4, "Item": 5, "Concept": 13}
    assert rels["INTERACTED"] == 9
    assert rels["HAS_CONCEPT"] == 15

    again = graphrec("ingest", "movielens", str(folder), "--no-co-engagement", env=graph_env)
    assert again.returncode == 0, again.stderr
    assert counts(graph) == (nodes, rels)


def test_negative_rating_timestamp_and_bad_links_are_rejected(
    graph: GraphClient, tmp_path: Path
) -> None:
    folder = latest_with(
        tmp_path,
        ratings_extra="5,1,-3,1106635970\n5,2,4.0,-5\n5,3,7.5,1106635970\n5,a/b,4.0,1\n",
        links_extra="77,0113497,8844\n3,abc,1\n",
    )
    summary = ingest(graph, parse("movielens", folder), progress=False)

    reasons = sorted((Path(r.file).name, r.line, r.reason) for r in summary.rejects)
    assert reasons == [
        ("links.csv", 7, "unknown movie '77' (not in movies.csv)"),
        ("links.csv", 8, "imdbId is not a number: 'abc'"),
        ("ratings.csv", 7, "rating is not a number: 'abc'"),
        ("ratings.csv", 9, "unknown item '99' (not in movies.csv)"),
        ("ratings.csv", 11, "user id is empty"),
        ("ratings.csv", 15, "rating -3.0 is outside the MovieLens range 0.5 to 5"),
        ("ratings.csv", 16, "timestamp out of range: -5 (0 to 253402300799)"),
        ("ratings.csv", 17, "rating 7.5 is outside the MovieLens range 0.5 to 5"),
        ("ratings.csv", 18, "item id contains '/', which cannot appear in a URL path: 'a/b'"),
    ]
    nodes, rels = counts(graph)
    assert nodes == {"User": 4, "Item": 5, "Concept": 13}  # user 5 had no valid row
    assert rels["INTERACTED"] == 9
    imdb = graph.run("MATCH (i:Item {id: '3'}) RETURN i.imdb_id AS imdb, i.tmdb_id AS tmdb")
    assert imdb == [{"imdb": "0114885", "tmdb": "31357"}]  # the good link line is kept
