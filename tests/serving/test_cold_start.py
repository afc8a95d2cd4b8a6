"""Cold start from concepts: mean of concepts, warm-neighbour fallback, least-squares map."""

from __future__ import annotations

import numpy as np
import pytest

from graphrec.serving.cold_start import (
    KGEColdStart,
    concept_centroids,
    fallback_embeddings,
    fit_linear_map,
    mean_of_concepts,
    memberships_from_ids,
    r2_score,
)


def test_mean_of_concepts_by_hand() -> None:
    concepts = np.array([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]])
    result = mean_of_concepts(concepts, [[0, 1], [2], [], [0, 2]])
    np.testing.assert_allclose(result.vectors, [[0.5, 1.0], [4.0, 4.0], [0.0, 0.0], [2.5, 2.0]])
    assert result.covered.tolist() == [True, True, False, True]
    only_first = mean_of_concepts(concepts, [[0, 2], [2]], usable=np.array([True, True, False]))
    np.testing.assert_allclose(only_first.vectors, [[1.0, 0.0], [0.0, 0.0]])
    assert only_first.covered.tolist() == [True, False]


def test_fallback_is_mean_of_warm_concept_centroids_by_hand() -> None:
    warm = np.array([[1.0, 1.0], [3.0, 1.0], [0.0, 4.0]])
    warm_concepts = [
        [0],
        [0, 1],
        [1],
    ]  # concept 0: items 0, 1; concept 1: items 1, 2; concept 2: none
    centroids, counts = concept_centroids(warm, warm_concepts, 3)
    np.testing.assert_allclose(centroids, [[2.0, 1.0], [1.5, 2.5], [0.0, 0.0]])
    assert counts.tolist() == [2, 2, 0]
    new = fallback_embeddings(warm, warm_concepts, [[0], [0, 1], [2], [1, 2]], 3)
    # [0] -> c0; [0, 1] -> (c0 + c1) / 2; [2] -> no warm item; [1, 2] -> c1 (2 has no warm item).
    np.testing.assert_allclose(new.vectors, [[2.0, 1.0], [1.75, 1.75], [0.0, 0.0], [1.5, 2.5]])
    assert new.covered.tolist() == [True, True, False, True]


def test_linear_map_recovers_a_known_map() -> None:
    rng = np.random.default_rng(0)
    weight, bias = rng.normal(size=(6, 4)), rng.normal(size=4)
    x = rng.normal(size=(300, 6))
    fitted = fit_linear_map(x, x @ weight + bias, ridge=0.0)
    np.testing.assert_allclose(fitted.weight, weight, atol=1e-8)
    np.testing.assert_allclose(fitted.bias, bias, atol=1e-8)
    assert fitted.r2 == pytest.approx(1.0) and fitted.r2_holdout == pytest.approx(1.0)
    assert fitted.report()["shape"] == [6, 4] and fitted.num_fit == 300

    noisy = fit_linear_map(x, x @ weight + bias + rng.normal(scale=2.0, size=(300, 4)))
    assert 0.2 < noisy.r2 < 0.9 and noisy.r2_holdout < noisy.r2
    unrelated = fit_linear_map(x, rng.normal(size=(300, 4)))
    assert unrelated.r2_holdout < 0.05


def test_r2_score() -> None:
    y = np.array([[1.0], [2.0], [3.0]])
    assert r2_score(y, y) == 1.0
    assert r2_score(np.full_like(y, 2.0), y) == 0.0


def test_kge_cold_start_maps_concepts_into_gnn_space() -> None:
    rng = np.random.default_rng(1)
    num_concepts, kge_dim, gnn_dim = 12, 5, 3
    concept_vectors = rng.normal(size=(num_concepts, kge_dim))
    warm_concepts = [sorted(rng.choice(num_concepts, 3, replace=False)) for _ in range(200)]
    true_map = rng.normal(size=(kge_dim, gnn_dim))
    features = mean_of_concepts(concept_vectors, warm_concepts).vectors
    warm_gnn = features @ true_map + 0.5
    model = KGEColdStart.fit(concept_vectors, warm_concepts, warm_gnn, ridge=0.0)
    assert model.linear_map.r2 == pytest.approx(1.0, abs=1e-6)
    new = model.embed([[0, 1], [], [5]])
    expected = mean_of_concepts(concept_vectors, [[0, 1], [5]]).vectors @ true_map + 0.5
    np.testing.assert_allclose(new.vectors[[0, 2]], expected, atol=1e-4)
    assert new.covered.tolist() == [True, False, True] and not new.vectors[1].any()

    # Fitting on items' own KGE vectors instead of concept means.
    own = rng.normal(size=(200, kge_dim))
    by_item = KGEColdStart.fit(concept_vectors, warm_concepts, own @ true_map, warm_kge_vectors=own)
    np.testing.assert_allclose(
        by_item.embed(kge_vectors=own[:2]).vectors, own[:2] @ true_map, atol=1e-2
    )


def test_memberships_and_bad_input() -> None:
    assert memberships_from_ids([["genre:a", "tag:x", "nope"], []], ["tag:x", "genre:a"]) == [
        [0, 1],
        [],
    ]
    with pytest.raises(ValueError, match="out of range"):
        mean_of_concepts(np.zeros((2, 3)), [[2]])
    with pytest.raises(ValueError, match="same number of rows"):
        fit_linear_map(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="3 item vectors but 2 concept lists"):
        concept_centroids(np.zeros((3, 2)), [[0], [1]], 2)
