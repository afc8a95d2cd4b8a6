"""Streaming export to disk: same HeteroData and ids as in memory, ids that map back to
the graph, folders that are complete or absent, and the `graphrec export` command."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from neo4j.exceptions import DriverError
from typer.testing import CliRunner

from graphrec.cli import export as export_cli
from graphrec.data import Interactions, KnowledgeGraph
from graphrec.export import (
    MANIFEST_FILE,
    ExportError,
    ExportFilters,
    IdMap,
    export_graph,
    export_to_disk,
    load_export,
    load_training_data,
    read_manifest,
    save_export,
)
from graphrec.export import sinks as export_module
from graphrec.graph.client import GraphClient
from graphrec.ingest import derive_co_engagement, ingest
from graphrec.loaders import parse
from graphrec.loaders.rows import (
    ConceptRelationRow,
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    SubconceptRow,
    UserRow,
)


def hand_built_rows() -> list:
    """Five users (u4 without interactions), four items (i3 without), KG and hierarchy."""
    rows: list = [UserRow(f"u{n}") for n in range(5)]
    rows += [ItemRow(f"i{n}", title=f"Item {n}") for n in range(4)]
    rows += [
        ConceptRow("genre:drama", "genre", "Drama"),
        ConceptRow("genre:comedy", "genre", "Comedy"),
        ConceptRow("tag:space", "tag", "space"),
        ConceptRow("entity:e1", "entity", "E1"),
        ConceptRow("entity:e2", "entity", "E2"),
    ]
    rows += [
        ItemConceptRow("i0", "genre:drama", "has_genre"),
        ItemConceptRow("i0", "tag:space", "has_tag", weight=0.5),
        ItemConceptRow("i1", "genre:comedy", "has_genre"),
        ItemConceptRow("i2", "entity:e1", "film.film.actor"),
        ItemConceptRow("i3", "genre:drama", "has_genre"),
        ConceptRelationRow("entity:e1", "people.nationality", "entity:e2"),
        SubconceptRow("genre:comedy", "genre:drama"),
    ]
    log = [
        ("u0", "i0", 100, "train"),
        ("u0", "i1", 200, "train"),
        ("u0", "i2", 300, "test"),
        ("u1", "i0", 150, "train"),
        ("u1", "i1", 250, None),
        ("u2", "i1", 120, "train"),
        ("u2", "i2", 220, "test"),
        ("u3", "i0", 500, None),
        ("u3", "i1", 510, "train"),
        ("u3", "i2", 520, "train"),
    ]
    rows += [
        InteractionRow(u, i, weight=1.0 + n / 10, ts=ts, split=split)
        for n, (u, i, ts, split) in enumerate(log)
    ]
    return rows


@pytest.fixture
def hand_built(graph: GraphClient) -> GraphClient:
    ingest(graph, hand_built_rows(), progress=False)
    derive_co_engagement(graph, min_shared=2, top_k=5)
    return graph


@pytest.fixture
def synthetic(graph: GraphClient) -> GraphClient:
    rows = parse("synthetic", None, users=120, items=80, interactions=2_500, seed=11)
    ingest(graph, rows, progress=False)
    derive_co_engagement(graph, min_shared=3, top_k=5)
    return graph


def assert_same_export(left: tuple, right: tuple) -> None:
    """The same node and edge types, tensors (values, dtypes, shapes), vocabularies and ids."""
    (a, a_ids), (b, b_ids) = left, right
    assert a.node_types == b.node_types and a.edge_types == b.edge_types
    for node_type in a.node_types:
        assert a[node_type].num_nodes == b[node_type].num_nodes, node_type
    assert torch.equal(a["concept"].kind, b["concept"].kind)
    assert a.concept_kinds == b.concept_kinds and a.relation_names == b.relation_names
    for edge_type in a.edge_types:
        assert sorted(a[edge_type].keys()) == sorted(b[edge_type].keys()), edge_type
        for key, value in a[edge_type].items():
            other = b[edge_type][key]
            assert value.dtype == other.dtype and torch.equal(value, other), (edge_type, key)
    for name in ("users", "items", "concepts", "item_titles"):
        assert getattr(a_ids, name) == getattr(b_ids, name), name


def named_edges(data, ids: IdMap, edge_type: tuple[str, str, str]) -> list[tuple]:  # noqa: ANN001
    """Each edge as business ids plus its attributes (relation by name), sorted."""
    source, _, target = edge_type
    vocab = {"user": ids.users, "item": ids.items, "concept": ids.concepts}
    store = data[edge_type]
    columns = [key for key in sorted(store.keys()) if key != "edge_index"]
    rows = []
    for position, (s, t) in enumerate(store.edge_index.t().tolist()):
        values = [store[key][position].item() for key in columns]
        values = [
            data.relation_names[v] if key == "relation" else v
            for key, v in zip(columns, values, strict=True)
        ]
        rows.append((vocab[source][s], vocab[target][t], *values))
    return sorted(rows)


def test_hand_built_graph_streams_to_the_same_tensors(hand_built: GraphClient, tmp_path: Path):
    in_memory = export_graph(hand_built, progress=False)
    folder = export_to_disk(hand_built, tmp_path / "export", page_size=2)
    streamed = load_export(folder)
    # Pages of two anchors: several pages per edge type, yet row for row the same tensors.
    assert_same_export(in_memory, streamed)
    data, ids = streamed
    assert ids.users == ["u0", "u1", "u2", "u3"]  # u4 has no interactions
    assert ids.items == ["i0", "i1", "i2", "i3"]  # i3 stays: min_item_degree is 0
    assert ids.item_titles == ["Item 0", "Item 1", "Item 2", "Item 3"]
    assert [data.concept_kinds[k] for k in data["concept"].kind.tolist()] == [
        "entity",
        "entity",
        "genre",
        "genre",
        "tag",
    ]
    interactions = named_edges(data, ids, ("user", "interacted", "item"))
    assert ("u0", "i2", 2, 300, pytest.approx(1.2)) in interactions  # split 2 = test
    assert ("u1", "i1", 0, 250, pytest.approx(1.4)) in interactions  # no split: 0
    assert len(interactions) == 10
    assert named_edges(data, ids, ("item", "has_concept", "concept")) == [
        ("i0", "genre:drama", "has_genre", 1.0),
        ("i0", "tag:space", "has_tag", 0.5),
        ("i1", "genre:comedy", "has_genre", 1.0),
        ("i2", "entity:e1", "film.film.actor", 1.0),
        ("i3", "genre:drama", "has_genre", 1.0),
    ]
    assert named_edges(data, ids, ("concept", "related", "concept")) == [
        ("entity:e1", "entity:e2", "people.nationality")
    ]
    assert named_edges(data, ids, ("concept", "subconcept_of", "concept")) == [
        ("genre:comedy", "genre:drama")
    ]
    co_engaged = hand_built.run(
        "MATCH (a:Item)-[r:CO_ENGAGED]->(b:Item) RETURN a.id AS a, b.id AS b, r.weight AS w"
    )
    assert co_engaged
    assert named_edges(data, ids, ("item", "co_engaged", "item")) == sorted(
        (row["a"], row["b"], pytest.approx(row["w"])) for row in co_engaged
    )

    # The folder is what the manifest says it is.
    manifest = read_manifest(folder)
    assert manifest["counts"] == {
        "user": 4,
        "item": 4,
        "concept": 5,
        "interacted": 10,
        "has_concept": 5,
        "related": 1,
        "subconcept_of": 1,
        "co_engaged": len(co_engaged),
    }
    edge_index = manifest["edges"]["interacted"]["tensors"]["edge_index"]
    assert edge_index == {"file": "interacted.edge_index.bin", "dtype": "<i8", "shape": [2, 10]}
    raw = np.fromfile(folder / edge_index["file"], dtype="<i8").reshape(2, 10)
    assert np.array_equal(raw, data["user", "interacted", "item"].edge_index.numpy())
    listed = {MANIFEST_FILE, "ids.json"} | {
        spec["file"]
        for entry in [*manifest["edges"].values(), {"tensors": manifest["nodes"]["concept"]}]
        for spec in entry["tensors"].values()
    }
    assert {path.name for path in folder.iterdir()} == listed


def mapped_file(tensor: torch.Tensor) -> str:
    """The file whose memory mapping holds ``tensor``'s data, from ``/proc/self/maps``."""
    address = tensor.data_ptr()
    for line in Path("/proc/self/maps").read_text().splitlines():
        span, *rest = line.split(maxsplit=5)
        start, end = (int(bound, 16) for bound in span.split("-"))
        if start <= address < end:
            return rest[-1] if len(rest) == 5 else ""
    return ""


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_the_rest_of_the_pipeline_reads_a_streamed_export(hand_built: GraphClient, tmp_path: Path):
    data, ids = export_graph(hand_built, progress=False, folder=tmp_path / "export")
    in_memory, _ = export_graph(hand_built, progress=False)
    edge_index = data["user", "interacted", "item"].edge_index
    assert mapped_file(edge_index).endswith("interacted.edge_index.bin")  # not read into memory
    a, b = Interactions.from_hetero(data), Interactions.from_hetero(in_memory)
    assert torch.equal(a.user, b.user) and torch.equal(a.item, b.item)
    kg, kg_memory = KnowledgeGraph.from_hetero(data), KnowledgeGraph.from_hetero(in_memory)
    assert kg is not None and kg_memory is not None
    assert torch.equal(kg.edge_index, kg_memory.edge_index)
    assert kg.relation_names == kg_memory.relation_names
    # load_training_data reads either folder format without a connection.
    again, again_ids = load_training_data(None, folder=tmp_path / "export")
    assert again_ids.users == ids.users
    save_export(tmp_path / "pickled", in_memory, ids)
    legacy, _ = load_training_data(None, folder=tmp_path / "pickled")
    assert torch.equal(legacy["user", "interacted", "item"].edge_index, edge_index)
    with pytest.raises(ValueError, match="filters apply when exporting"):
        load_training_data(None, ExportFilters(), folder=tmp_path / "export")


@pytest.mark.parametrize("page_size", [7, 1_000])
def test_synthetic_graph_ids_map_back_to_the_graph(
    synthetic: GraphClient, tmp_path: Path, page_size: int
):
    in_memory = export_graph(synthetic, page_size=page_size, progress=False)
    folder = export_to_disk(synthetic, tmp_path / "export", page_size=page_size)
    assert_same_export(in_memory, load_export(folder))
    data, ids = load_export(folder)

    # Stable and complete: every node of each label once, users and items in id order,
    # and an index that inverts the list.
    graph_users = {
        r["id"] for r in synthetic.run("MATCH (u:User)-[:INTERACTED]->() RETURN u.id AS id")
    }
    assert ids.users == sorted(graph_users)
    graph_items = synthetic.run("MATCH (i:Item) RETURN i.id AS id ORDER BY id")
    assert ids.items == [r["id"] for r in graph_items]
    graph_concepts = synthetic.run("MATCH (c:Concept) RETURN c.id AS id ORDER BY id")
    assert ids.concepts == [r["id"] for r in graph_concepts]
    for node_type, vocab in (("user", ids.users), ("item", ids.items), ("concept", ids.concepts)):
        assert len(set(vocab)) == len(vocab) == data[node_type].num_nodes
        assert all(ids.index(node_type, business_id) == i for i, business_id in enumerate(vocab))

    # Every exported interaction is a relationship of the graph, and all are exported.
    graph_pairs = synthetic.run(
        "MATCH (u:User)-[r:INTERACTED]->(i:Item) RETURN u.id AS u, i.id AS i, r.ts AS ts"
    )
    exported = named_edges(data, ids, ("user", "interacted", "item"))
    assert sorted((u, i, ts) for u, i, _, ts, _ in exported) == sorted(
        (r["u"], r["i"], r["ts"]) for r in graph_pairs
    )
    # ... and a few, looked up by their business ids, carry the graph's values.
    edge = data["user", "interacted", "item"]
    for position in np.linspace(0, edge.num_edges - 1, 5).astype(int).tolist():
        u, i = edge.edge_index[:, position].tolist()
        [row] = synthetic.run(
            "MATCH (:User {id: $u})-[r:INTERACTED]->(:Item {id: $i}) "
            "RETURN r.ts AS ts, r.weight AS weight",
            {"u": ids.users[u], "i": ids.items[i]},
        )
        assert edge.ts[position].item() == row["ts"]
        assert edge.weight[position].item() == pytest.approx(row["weight"])
    has = data["item", "has_concept", "concept"]
    for position in range(0, has.num_edges, max(1, has.num_edges // 4)):
        i, c = has.edge_index[:, position].tolist()
        [row] = synthetic.run(
            "MATCH (:Item {id: $i})-[r:HAS_CONCEPT]->(:Concept {id: $c}) RETURN r.relation AS rel",
            {"i": ids.items[i], "c": ids.concepts[c]},
        )
        assert data.relation_names[has.relation[position].item()] == row["rel"]


@pytest.mark.parametrize(
    "filters",
    [
        ExportFilters(min_user_degree=13, min_item_degree=13),  # k-core: renumbered on disk
        ExportFilters(min_item_degree=1),
        ExportFilters(seed_users=["u17", "u3"], hops=1),
        ExportFilters(concept_kinds=["tag"], include_related=False, include_co_engaged=False),
        ExportFilters(kinds=["click"]),  # nothing passes: empty tensors
    ],
    ids=["k-core", "interacted-items", "seeds", "tags-only", "empty"],
)
def test_filters_stream_like_in_memory(
    synthetic: GraphClient, tmp_path: Path, filters: ExportFilters, monkeypatch: pytest.MonkeyPatch
):
    # Renumbering after the k-core goes in chunks of rows; make this graph take several.
    monkeypatch.setattr(export_module, "_REWRITE_ROWS", 500)
    in_memory = export_graph(synthetic, filters, page_size=13, progress=False)
    folder = export_to_disk(synthetic, tmp_path / "export", filters, page_size=13)
    streamed = load_export(folder)
    assert_same_export(in_memory, streamed)
    assert read_manifest(folder)["filters"] == json.loads(json.dumps(asdict(filters)))
    if filters.min_user_degree > 1:
        edge_index = streamed[0]["user", "interacted", "item"].edge_index
        assert 0 < edge_index.shape[1] < 2_500
        assert torch.bincount(edge_index[0]).min() >= filters.min_user_degree
        assert torch.bincount(edge_index[1]).min() >= filters.min_item_degree
        assert len(streamed[1].users) < 120 and len(streamed[1].items) < 80  # both renumbered


def partial_folders(parent: Path) -> list[Path]:
    return [path for path in parent.iterdir() if path.name.startswith(".")]


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("stop_at", ["interacted", "co_engaged"])
def test_an_interrupted_export_leaves_no_folder(
    synthetic: GraphClient, tmp_path: Path, stop_at: str
):
    pages: list[tuple[str, int]] = []

    def stop_on_third_page(store: str, edges: int) -> None:
        pages.append((store, edges))
        if sum(name == stop_at for name, _ in pages) == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        export_to_disk(synthetic, tmp_path / "export", page_size=10, on_page=stop_on_third_page)
    assert pages[0][0] == "interacted" and pages[0][1] > 0 and pages[-1][0] == stop_at
    assert not (tmp_path / "export").exists()
    assert partial_folders(tmp_path) == []

    # Over an earlier export, an interrupted one leaves the earlier one as it was.
    folder = export_to_disk(synthetic, tmp_path / "export", ExportFilters(kinds=["click"]))
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    pages.clear()
    with pytest.raises(Interrupted):
        export_to_disk(synthetic, folder, page_size=10, on_page=stop_on_third_page)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert partial_folders(tmp_path) == []


def test_a_connection_lost_mid_export_leaves_no_folder(synthetic: GraphClient, tmp_path: Path):
    with GraphClient.open(synthetic.target) as client:

        def close_the_driver(store: str, edges: int) -> None:
            client.close()

        with pytest.raises(DriverError, match="closed"):
            export_to_disk(client, tmp_path / "export", page_size=10, on_page=close_the_driver)
    assert not (tmp_path / "export").exists()
    assert partial_folders(tmp_path) == []


def test_rerunning_replaces_the_export_cleanly(synthetic: GraphClient, tmp_path: Path):
    folder = tmp_path / "export"
    export_to_disk(synthetic, folder, ExportFilters(min_user_degree=13, min_item_degree=13))
    export_to_disk(synthetic, folder, ExportFilters(include_co_engaged=False))
    assert_same_export(
        load_export(folder),
        export_graph(synthetic, ExportFilters(include_co_engaged=False), progress=False),
    )
    assert not list(folder.glob("co_engaged.*"))  # nothing left from the first run
    assert partial_folders(tmp_path) == []


def test_refuses_to_replace_what_is_not_an_export(graph: GraphClient, tmp_path: Path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("keep me")
    with pytest.raises(ExportError, match="holds no graphrec export"):
        export_to_disk(graph, notes)
    assert (notes / "todo.txt").read_text() == "keep me"
    with pytest.raises(ExportError, match="not a folder"):
        export_to_disk(graph, notes / "todo.txt")
    with pytest.raises(ExportError, match="no export here"):
        load_export(notes)


def test_damaged_folders_are_reported_by_file(hand_built: GraphClient, tmp_path: Path):
    folder = export_to_disk(hand_built, tmp_path / "export")
    weights = folder / "interacted.weight.bin"
    weights.write_bytes(weights.read_bytes()[:-4])
    with pytest.raises(ExportError, match=r"interacted\.weight\.bin: expected 40 bytes"):
        load_export(folder)

    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["version"] = 99
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match="version 99 is not supported"):
        load_export(folder)


def test_export_command(hand_built: GraphClient, graph_env: dict[str, str], tmp_path: Path) -> None:
    app = typer.Typer()
    export_cli.register(app)
    app.command("noop")(lambda: None)  # two commands, so `export` is a subcommand
    runner = CliRunner()
    folder = tmp_path / "out"
    result = runner.invoke(
        app,
        ["export", str(folder), "--page-size", "2", "--concept-kind", "genre", "--no-progress"],
        env=graph_env,
    )
    assert result.exit_code == 0, result.output
    assert "interacted" in result.output and f"exported to {folder}" in result.output
    data, ids = load_export(folder)
    assert ids.concepts == ["genre:comedy", "genre:drama"]
    assert read_manifest(folder)["filters"]["concept_kinds"] == ["genre"]

    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    refused = runner.invoke(app, ["export", str(tmp_path / "busy")], env=graph_env)
    assert refused.exit_code == 1 and "holds no graphrec export" in refused.output
    bad = runner.invoke(app, ["export", str(folder), "--min-user-degree", "-1"], env=graph_env)
    assert bad.exit_code == 2
