"""relgnn's inductive cold start in the service equals the model's own readout."""

import numpy as np
import torch

from graphrec.data import RecData, synthetic_hetero
from graphrec.models import RelationAwareGNN
from graphrec.serving.catalog import Catalog
from graphrec.serving.inductive import InductiveRule
from graphrec.serving.vectors import ModelVectors


def _trained_like_model() -> tuple[RelationAwareGNN, RecData]:
    data = RecData.from_hetero(synthetic_hetero(num_users=20, num_items=12, num_tags=3, seed=1))
    torch.manual_seed(0)
    model = RelationAwareGNN.from_data(data, embedding_dim=6)
    with torch.no_grad():  # as if trained: relations weigh and transform differently
        model.channel.logit.copy_(torch.randn_like(model.channel.logit))
        model.channel.transform.copy_(1 + 0.3 * torch.randn_like(model.channel.transform))
        model.semantic_gate.fill_(0.8)
    return model, data


def test_the_service_embeds_a_new_item_as_the_model_does():
    model, data = _trained_like_model()
    names = data.kg.relation_names
    concept_ids = [f"c{i}" for i in range(data.kg.num_concepts)]
    z = model.get_embedding().concept.numpy()
    rule = InductiveRule.from_params(model.inductive_params(), concept_ids, concept_ids, z)
    genre, tag = names.index("has_genre"), names.index("has_tag")
    links = [(0, "has_genre", 1.0), (4, "has_tag", 2.0), (5, "has_tag", 1.0)]
    served = rule.embed(links)
    expected = model.embed_new_item(
        torch.tensor([0, 4, 5]), torch.tensor([genre, tag, tag]), torch.tensor([1.0, 2.0, 1.0])
    )
    np.testing.assert_allclose(served, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_unusable_links_give_no_vector_and_the_centroid_fallback_stays():
    model, data = _trained_like_model()
    concept_ids = [f"c{i}" for i in range(data.kg.num_concepts)]
    z = model.get_embedding().concept.numpy()
    rule = InductiveRule.from_params(model.inductive_params(), concept_ids, concept_ids[:2], z[:2])
    assert rule.embed([(3, "has_tag", 1.0)]) is None  # no vector for concept 3
    assert rule.embed([(0, "never_seen", 1.0)]) is None  # a relation the model never saw
    catalog = Catalog.build(["a", "b"], [None, None], [["c0"], ["c1"]], concept_ids)
    vectors = ModelVectors.build(
        name="relgnn", version=1, trained_at=0.0, catalog=catalog, item_ids=["a"],
        item_vectors=np.ones((1, 6), np.float32), user_ids=[], user_vectors=np.zeros((0, 6)),
        inductive=rule,
    )  # fmt: skip
    # Item b has no links in this catalog: the centroid fallback (no trained item has c1).
    assert not vectors.item_valid[1]
    assert vectors.cold_start([0]) is not None  # the centroid of item a's concept
