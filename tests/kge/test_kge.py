"""Knowledge-graph embeddings against a real embedded graph: triples export, PyKEEN training,
write-back, complex real form, link prediction, GNN initialisation, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from graphrec.cli import kge as kge_cli
from graphrec.data import RecData
from graphrec.export import ExportFilters, export_graph
from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest
from graphrec.kge import (
    INTERACTED_RELATION,
    KGEDimensionError,
    KGEError,
    KGERun,
    LabelledTriples,
    UnknownKGEModelError,
    concept_init,
    export_kg,
    kg_triples,
    real_form,
    resolve_kge_model,
    train_kge,
    write_back,
)
from graphrec.loaders import parse
from graphrec.loaders.rows import ConceptRow, ItemConceptRow, ItemRow
from graphrec.models.relation_gnn import RelationAwareGNN
from graphrec.writeback import active_model, read_embeddings

FAST = {"dim": 8, "epochs": 2, "batch_size": 128, "progress": False}


@pytest.fixture
def synthetic(graph: GraphClient) -> GraphClient:
    rows = parse(
        "synthetic",
        None,
        users=20,
        items=40,
        interactions=200,
        communities=3,
        subcategories=2,
        tags_per_community=4,
        seed=0,
    )
    ingest(graph, rows, progress=False)
    return graph


def planted_triples(num_items: int = 30, groups: int = 3) -> LabelledTriples:
    """Item i has genre g(i % groups) and tag t(i % groups): the tag is planted by the genre."""
    rows, entities = [], {}
    for i in range(num_items):
        item, group = f"i{i}", i % groups
        rows.append((item, "has_genre", f"genre:g{group}"))
        rows.append((item, "has_tag", f"tag:t{group}"))
        entities[item] = ("Item", item)
    for g in range(groups):
        for concept in (f"genre:g{g}", f"tag:t{g}"):
            entities[concept] = ("Concept", concept)
    return LabelledTriples.from_tuples(rows, entities)


def test_triples_from_graph(synthetic: GraphClient) -> None:
    triples = export_kg(synthetic, progress=False)
    counts = triples.relation_counts()
    assert set(counts) == {"has_category", "has_tag", "subconcept_of"}
    assert counts["has_category"] == 40  # one leaf category per item
    heads = set(triples.triples[triples.triples[:, 1] == "has_tag"][:, 0])
    assert all(triples.entities[h][0] == "Item" for h in heads)
    tails = set(triples.triples[:, 2])
    assert all(triples.entities[t][0] == "Concept" for t in tails)

    with_users = export_kg(synthetic, include_interactions=True, progress=False)
    interacted = with_users.triples[with_users.triples[:, 1] == INTERACTED_RELATION]
    assert len(interacted) == 200
    assert all(
        h.startswith("user:") and with_users.entities[h][0] == "User" for h in interacted[:, 0]
    )

    only_tags = export_kg(synthetic, relations=["has_tag"], progress=False)
    assert only_tags.relation_counts() == {"has_tag": counts["has_tag"]}
    with pytest.raises(KGEError, match="unknown relation.*has_category"):
        export_kg(synthetic, relations=["has_colour"], progress=False)


def test_train_save_and_write_back(synthetic: GraphClient, tmp_path: Path) -> None:
    result = train_kge(triples=export_kg(synthetic, progress=False), model="TransE", **FAST)
    for side in ("both", "head", "tail"):
        row = result.metrics["test"][side]
        assert set(row) == {"mrr", "hits@1", "hits@3", "hits@10", "count"}
        assert 0 < row["mrr"] <= 1 and row["count"] > 0
        assert 0 <= row["hits@1"] <= row["hits@3"] <= row["hits@10"] <= 1
    split = result.metrics["triples"]
    assert split["train"] + split["validation"] + split["test"] == len(result.triples)
    assert "| both |" in result.table()

    run_dir = result.save(tmp_path / "run")
    for name in ("trained_model.pkl", "embeddings.npz", "metrics.json", "losses.png"):
        assert (run_dir / name).is_file()
    assert json.loads((run_dir / "metrics.json").read_text())["test"]["both"]["mrr"] > 0

    record = write_back(synthetic, result, progress=False)
    assert record.name == "transe" and record.dim == 8 and record.active
    assert record.params["representation"] == "real" and record.params["model"] == "TransE"
    assert set(record.labels) == {"Concept", "Item"}
    assert active_model(synthetic, "transe") == record
    concepts = read_embeddings(synthetic, record, "Concept")
    expected_ids, expected = result.embeddings.of("Concept")
    assert sorted(concepts.ids) == sorted(expected_ids)
    order = [expected_ids.index(c) for c in concepts.ids]
    np.testing.assert_allclose(concepts.vectors, expected[order], rtol=1e-6)
    assert read_embeddings(synthetic, record, "Item").vectors.shape == (40, 8)


def test_complex_model_real_form(synthetic: GraphClient) -> None:
    result = train_kge(triples=export_kg(synthetic, progress=False), model="RotatE", **FAST)
    raw = result.model.entity_representations[0](indices=None).detach()
    assert raw.is_complex() and raw.shape[1] == 8
    stored = result.embeddings
    assert stored.dim == 16 and stored.complex_dim == 8
    np.testing.assert_allclose(stored.vectors[:, :8], raw.real.numpy())
    np.testing.assert_allclose(stored.vectors[:, 8:], raw.imag.numpy())
    record = write_back(synthetic, result, progress=False)
    assert record.dim == 16
    assert record.params["complex_dim"] == 8
    assert record.params["real_form"] == "real_then_imag"
    assert read_embeddings(synthetic, record, "Concept").vectors.shape[1] == 16
    assert real_form(torch.tensor([[1 + 2j, 3 - 4j]])).tolist() == [[1.0, 3.0, 2.0, -4.0]]


def test_planted_relation_ranks_top3(tmp_path: Path) -> None:
    triples = planted_triples()
    result = train_kge(
        triples=triples, model="TransE", dim=16, epochs=60, lr=0.05, batch_size=64, progress=False
    )
    run = KGERun(result.save(tmp_path / "planted"))
    held_out = [tuple(t) for t in result.testing.triples if t[1] == "has_tag"]
    assert held_out, "the split should hold out some planted has_tag triples"
    for head, _, tail in held_out:
        top3 = [
            p.label for p in run.predict(head=head, relation="has_tag", k=3, include_known=True)
        ]
        assert tail in top3
    ranked = run.predict(head="i0", relation="has_genre", k=3, include_known=True)
    assert len(ranked) == 3 and ranked[0].label == "genre:g0" and ranked[0].known
    assert all(p.node_label == "Concept" for p in ranked)
    assert ranked[0].score >= ranked[1].score >= ranked[2].score


def test_cli_train_predict_runs(synthetic: GraphClient, graph_env: dict[str, str]) -> None:
    app = typer.Typer()
    kge_cli.register(app)
    runner = CliRunner()
    args = ["kge", "train", "--dim", "8", "--epochs", "2", "--run-name", "tiny"]
    result = runner.invoke(app, args, env=graph_env)
    assert result.exit_code == 0, result.output
    assert "| both |" in result.output and "test MRR" in result.output
    run_dir = Path(graph_env["GRAPHREC_DATA_DIR"]) / "kge" / "tiny"
    assert (run_dir / "trained_model.pkl").is_file()
    assert json.loads((run_dir / "metrics.json").read_text())["written_as"] == "transe@1"

    item = synthetic.run("MATCH (i:Item) RETURN i.id AS id ORDER BY id LIMIT 1")[0]["id"]
    args = ["kge", "predict", "--head", item, "--relation", "has_tag", "-k", "4", "--json"]
    result = runner.invoke(app, args, env=graph_env)
    assert result.exit_code == 0, result.output
    predictions = json.loads(result.stdout)
    assert len(predictions) == 4 and all(p["node_label"] == "Concept" for p in predictions)
    assert all(p["label"].startswith("tag:") and not p["known"] for p in predictions)

    result = runner.invoke(
        app, ["kge", "predict", "--head", "nope", "-r", "has_tag"], env=graph_env
    )
    assert result.exit_code == 1 and "unknown entity 'nope'" in result.output
    result = runner.invoke(app, ["kge", "runs"], env=graph_env)
    assert "tiny" in result.output and "transe@1" in result.output

    result = runner.invoke(app, ["kge", "train", "--model", "TransX"], env=graph_env)
    assert result.exit_code == 2 and "RotatE" in result.output


def test_unknown_model_lists_models() -> None:
    with pytest.raises(UnknownKGEModelError) as error:
        resolve_kge_model("TransX")
    for name in ("TransE", "RotatE", "DistMult", "ComplEx"):
        assert name in str(error.value)
    assert resolve_kge_model("rotate").__name__ == "RotatE"


def test_too_few_triples(graph: GraphClient) -> None:
    ingest(
        graph,
        [
            ConceptRow("genre:drama", "genre", "Drama"),
            ItemRow("a"),
            ItemConceptRow("a", "genre:drama", "has_genre"),
        ],
        progress=False,
    )
    triples = export_kg(graph, progress=False)
    assert len(triples) == 1
    with pytest.raises(KGEError, match=r"too few triples.*1 \(by relation: has_genre: 1\)"):
        train_kge(triples=triples, **FAST)
    with pytest.raises(
        KGEError, match=r"too few triples to train and evaluate: 0 \(by relation: none\)"
    ):
        train_kge(triples=[], **FAST)
    with pytest.raises(KGEError, match="ratios must be three"):
        train_kge(triples=planted_triples(), ratios=(0.8, 0.2), **FAST)


def test_relation_missing_from_a_split_is_reported() -> None:
    rows = list(planted_triples().triples) + [("tag:t0", "rare", "tag:t1")]
    result = train_kge(triples=[tuple(r) for r in rows], **FAST)
    assert any("'rare' has no validation and no test triples" in w for w in result.warnings)


def test_concept_init_for_relation_gnn(synthetic: GraphClient, tmp_path: Path) -> None:
    result = train_kge(triples=export_kg(synthetic, progress=False), model="TransE", **FAST)
    run = KGERun(result.save(tmp_path / "run"))
    hetero, ids = export_graph(synthetic, ExportFilters(), progress=False)
    vectors = concept_init(run, ids.concepts, 8, std=0.1)
    assert vectors.shape == (len(ids.concepts), 8)
    assert vectors.std(unbiased=False).item() == pytest.approx(0.1, rel=1e-4)
    # Same directions as the stored KGE vectors, rescaled.
    stored, found = run.embeddings.lookup(ids.concepts, "Concept")
    assert found.all()
    cosine = torch.nn.functional.cosine_similarity(vectors, torch.from_numpy(stored))
    assert torch.allclose(cosine, torch.ones_like(cosine), atol=1e-5)

    data = RecData.from_hetero(hetero, seed=0)
    model = RelationAwareGNN.from_data(data, embedding_dim=8, concept_embeddings=vectors)
    assert torch.equal(model.concept_embedding.weight.detach(), vectors)

    with pytest.raises(
        KGEDimensionError, match="has dimension 8, the GNN 16: train the KGE with --dim 16"
    ):
        concept_init(run, ids.concepts, 16)
    with pytest.raises(KGEDimensionError, match="projection='pca'"):
        concept_init(run, ids.concepts, 4)
    projected = concept_init(run, ids.concepts, 4, projection="pca")
    assert projected.shape == (len(ids.concepts), 4)
    with pytest.warns(UserWarning, match="1 of .* concepts are not in KGE run"):
        partly = concept_init(run, [*ids.concepts, "tag:unknown"], 8)
    assert partly.shape == (len(ids.concepts) + 1, 8)
    with pytest.raises(KGEError, match="none of the 1 concepts"):
        concept_init(run, ["tag:unknown"], 8)


def test_kg_triples_from_hetero_without_database() -> None:
    from graphrec.data import synthetic_hetero
    from graphrec.export import IdMap

    data = synthetic_hetero(num_users=6, num_items=9, num_communities=3, num_tags=3)
    ids = IdMap(
        users=[str(u) for u in range(6)],
        items=[str(i) for i in range(9)],
        concepts=[f"genre:g{g}" for g in range(3)] + [f"tag:t{t}" for t in range(3)],
    )
    triples = kg_triples(data, ids, include_interactions=True)
    counts = triples.relation_counts()
    assert counts["has_genre"] == 9 and counts["has_tag"] == 9 and counts["related_to"] == 3
    assert counts["subconcept_of"] == 3
    # User "1" and item "1" stay distinct entities.
    assert triples.entities["user:1"] == ("User", "1") and triples.entities["1"] == ("Item", "1")
