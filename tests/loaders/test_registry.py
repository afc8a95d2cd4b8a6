from __future__ import annotations

import inspect

import pytest

from graphrec.loaders import FORMATS, LoaderError, get_parser, parse, parse_movielens


def test_registry_names_every_format():
    assert set(FORMATS) == {"movielens", "recbole", "kgat", "csv", "jsonl", "synthetic"}
    assert get_parser("movielens") is parse_movielens


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_parsers_take_a_path_then_keyword_only_options(name):
    params = list(inspect.signature(FORMATS[name]).parameters.values())
    assert params[0].name == "path"
    assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in params[1:])
    assert FORMATS[name].__doc__


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(LoaderError) as info:
        get_parser("parquet")
    assert str(info.value) == (
        "unknown format 'parquet' (known formats: csv, jsonl, kgat, movielens, recbole, synthetic)"
    )


def test_unknown_option_is_a_loader_error(tmp_path):
    with pytest.raises(LoaderError, match="movielens: got an unexpected keyword argument 'colour'"):
        parse("movielens", tmp_path, colour="red")
