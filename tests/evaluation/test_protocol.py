import json
import math

import pytest
import torch

from graphrec.data import RecData, synthetic_hetero
from graphrec.evaluation import compare, evaluate
from graphrec.evaluation.metrics import NDCG, Recall, popularity_buckets
from graphrec.models import MF, MostPopular

# Two users, six items. Scores (rows: users) rank items as
#   user 0: 0, 2, 1, 4, 3, 5   train {0}           test {1, 3}
#   user 1: 4, 0, 2, 3, 1, 5   train {5}, val {4}  test {0}
SCORES = torch.tensor(
    [
        [6.0, 4.0, 5.0, 2.0, 3.0, 1.0],
        [5.0, 2.0, 4.0, 3.0, 6.0, 1.0],
    ]
)


@pytest.fixture
def data() -> RecData:
    return RecData(
        num_users=2,
        num_items=6,
        train=torch.tensor([[0, 1], [0, 5]]),
        val=torch.tensor([[1], [4]]),
        test=torch.tensor([[0, 0, 1], [1, 3, 0]]),
    )


@pytest.fixture
def model() -> MF:
    """MF whose dot products are exactly SCORES (user rows times the identity)."""
    mf = MF(2, 6, embedding_dim=6)
    with torch.no_grad():
        mf.user_embedding.weight.copy_(SCORES)
        mf.item_embedding.weight.copy_(torch.eye(6))
    return mf


def test_metrics_match_hand_computed_values(data, model):
    # Test ranking masks train and val: user 0 gets [2, 1, 4], user 1 gets [0, 2, 3].
    result = evaluate(model, data, split="test", k=3)
    ndcg_user0 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    expected = {
        "recall@3": (1 / 2 + 1) / 2,
        "precision@3": (1 / 3 + 1 / 3) / 2,
        "ndcg@3": (ndcg_user0 + 1.0) / 2,
        "hit_rate@3": 1.0,
        "mrr@3": (1 / 2 + 1) / 2,
        "coverage@3": 5 / 6,  # items 0, 1, 2, 3, 4
        "avg_popularity@3": (0 + 1 / 3) / 2,  # only items 0 and 5 have training interactions
        "recall@3[head]": 1.0,  # head = items 0 and 5; only user 1 has a head test item
        "recall@3[tail]": 0.5,  # only user 0 has tail test items: 1 of 2 found
        "share@3[head]": (0 + 1 / 3) / 2,
        "share@3[tail]": (1 + 2 / 3) / 2,
        "num_users": 2.0,
    }
    assert result.keys() == expected.keys()
    for name, value in expected.items():
        assert result[name] == pytest.approx(value), name


def test_validation_masks_train_only_and_skips_users_without_val_items(data, model):
    result = evaluate(model, data, split="val", metrics=[Recall(1), NDCG(2)])
    assert result == {"recall@1": 1.0, "ndcg@2": 1.0, "num_users": 1.0}


def test_ndcg_ideal_uses_min_of_relevant_and_k(data, model):
    # User 0 at k=1: nothing relevant in [2]; user 1: hit at rank 1 with one relevant item.
    result = evaluate(model, data, metrics=[NDCG(1)])
    assert result["ndcg@1"] == pytest.approx(0.5)


def test_chunking_does_not_change_results():
    data = RecData.from_hetero(synthetic_hetero(num_users=40, interactions_per_user=8))
    torch.manual_seed(0)
    model = MF.from_data(data, embedding_dim=4)
    whole = evaluate(model, data, k=[5, 10], batch_size=1024)
    chunked = evaluate(model, data, k=[5, 10], batch_size=3)
    assert whole == pytest.approx(chunked)
    assert {"recall@5", "recall@10", "ndcg@10"} <= whole.keys()


def test_popularity_buckets_put_the_most_popular_share_in_the_head():
    popularity = torch.tensor([0, 9, 3, 3, 1, 50, 2, 0, 0, 4])
    bucket = popularity_buckets(popularity, head_share=0.2)
    assert bucket.tolist() == [1, 0, 1, 1, 1, 0, 1, 1, 1, 1]


def test_compare_adds_most_popular_and_writes_files(tmp_path):
    data = RecData.from_hetero(synthetic_hetero(num_users=40, interactions_per_user=8))
    torch.manual_seed(0)
    table = compare({"mf": MF.from_data(data, embedding_dim=4)}, data, k=5, out_dir=tmp_path)
    assert list(table.rows) == ["mf", "most_popular"]
    popular = MostPopular.from_data(data)
    assert table.rows["most_popular"] == evaluate(popular, data, k=5)

    saved = json.loads((tmp_path / "comparison.json").read_text())
    assert saved["models"]["mf"]["recall@5"] == pytest.approx(table.rows["mf"]["recall@5"])
    markdown = (tmp_path / "comparison.md").read_text()
    assert markdown.startswith("| model | recall@5 | ndcg@5 |")
    assert "| most_popular |" in markdown
    assert (tmp_path / "comparison.png").read_bytes()[:4] == b"\x89PNG"
