"""Write-back into a real graph: naming, versions, activation, pruning, round trip."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest
from graphrec.loaders.rows import ConceptRow, ItemRow, UserRow
from graphrec.writeback import (
    Embeddings,
    WritebackError,
    active_model,
    embedding_property,
    list_models,
    read_embeddings,
    write_embeddings,
)


@pytest.fixture
def catalog(graph: GraphClient) -> GraphClient:
    rows = [UserRow(f"u{i}") for i in range(30)] + [ItemRow(f"i{i:03d}") for i in range(120)]
    rows.append(ConceptRow("genre:drama", "genre", "Drama"))
    ingest(graph, rows, progress=False)
    return graph


def embeddings(n_users: int = 30, n_items: int = 120, *, value: float | None = None, dim: int = 8):
    rng = np.random.default_rng(0)

    def make(n: int) -> np.ndarray:
        if value is not None:
            return np.full((n, dim), value, dtype=np.float32)
        return rng.normal(size=(n, dim)).astype(np.float32)

    return {
        "User": Embeddings([f"u{i}" for i in range(n_users)], make(n_users)),
        "Item": Embeddings([f"i{i:03d}" for i in range(n_items)], make(n_items)),
    }


def test_property_naming() -> None:
    assert embedding_property("lightgcn", 3) == "emb_lightgcn_v3"
    for bad in ("LightGCN", "x-y", "a b", "a}) DETACH DELETE n //"):
        with pytest.raises(WritebackError):
            embedding_property(bad, 1)


def test_round_trip_and_model_node(catalog: GraphClient) -> None:
    written = embeddings()
    record = write_embeddings(
        catalog,
        model="lightgcn",
        embeddings=written,
        params={"dim": 8},
        metrics={"recall@20": 0.1},
        progress=False,
    )
    assert record.property == "emb_lightgcn_v1" and record.active and record.dim == 8
    stored = active_model(catalog, "lightgcn")
    assert stored == record
    items = read_embeddings(catalog, record, "Item", page_size=50)
    assert list(items.ids) == [f"i{i:03d}" for i in range(120)]
    np.testing.assert_allclose(items.vectors, written["Item"].vectors, rtol=1e-6)
    users = read_embeddings(catalog, record, "User")  # id order: u0, u1, u10, u11, ...
    assert sorted(users.ids) == list(users.ids)
    order = [written["User"].ids.index(u) for u in users.ids]
    np.testing.assert_allclose(users.vectors, written["User"].vectors[order], rtol=1e-6)
    # Plain Cypher can use the stored vectors.
    sim = catalog.run(
        "MATCH (a:Item {id: 'i000'}), (b:Item {id: 'i000'}) "
        "RETURN vector.similarity.cosine(a.emb_lightgcn_v1, b.emb_lightgcn_v1) AS s"
    )
    assert sim[0]["s"] == pytest.approx(1.0, abs=1e-5)


def test_versions_coexist_activate_and_prune(catalog: GraphClient) -> None:
    first = write_embeddings(catalog, model="mf", embeddings=embeddings(value=1.0), progress=False)
    second = write_embeddings(catalog, model="mf", embeddings=embeddings(value=2.0), progress=False)
    other = write_embeddings(
        catalog, model="lightgcn", embeddings=embeddings(value=5.0), progress=False
    )
    assert active_model(catalog, "mf").version == 2
    assert active_model(catalog, "lightgcn") == other
    keys = catalog.run("MATCH (i:Item {id: 'i000'}) RETURN keys(i) AS k")[0]["k"]
    assert {"emb_mf_v1", "emb_mf_v2", "emb_lightgcn_v1"} <= set(keys)  # previous version kept

    third = write_embeddings(catalog, model="mf", embeddings=embeddings(value=3.0), progress=False)
    keys = catalog.run("MATCH (i:Item {id: 'i000'}) RETURN keys(i) AS k")[0]["k"]
    assert "emb_mf_v1" not in keys and {"emb_mf_v2", "emb_mf_v3"} <= set(keys)
    left = catalog.run("MATCH (n) WHERE n.emb_mf_v1 IS NOT NULL RETURN count(n) AS n")
    assert left[0]["n"] == 0  # gone from every label (users and concepts too)
    versions = {r.version: r for r in list_models(catalog, "mf")}
    assert versions[1].retired and not versions[1].active
    assert versions[3].active and not versions[2].active
    assert read_embeddings(catalog, third, "Item").vectors.max() == 3.0
    assert first.property != second.property


def test_reader_never_mixes_versions(catalog: GraphClient) -> None:
    write_embeddings(catalog, model="mf", embeddings=embeddings(value=1.0), progress=False)
    seen: list[set[float]] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            record = active_model(catalog, "mf")
            values = read_embeddings(catalog, record, "Item", page_size=40).vectors
            seen.append(set(np.unique(values).tolist()))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for value in (2.0, 3.0, 4.0):
            write_embeddings(
                catalog,
                model="mf",
                embeddings=embeddings(value=value),
                batch_size=10,
                progress=False,
            )
    finally:
        stop.set()
        thread.join()
    assert seen
    assert all(len(values) == 1 for values in seen), seen


def test_bad_input_is_refused(catalog: GraphClient) -> None:
    with pytest.raises(WritebackError, match="3 ids but vectors"):
        Embeddings(["a", "b", "c"], np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(WritebackError, match="NaN"):
        Embeddings(["a"], np.full((1, 4), np.nan, dtype=np.float32))
    mixed = {"User": embeddings(dim=4)["User"], "Item": embeddings(dim=8)["Item"]}
    with pytest.raises(WritebackError, match="one dimension"):
        write_embeddings(catalog, model="mf", embeddings=mixed, progress=False)
    assert list_models(catalog) == []
