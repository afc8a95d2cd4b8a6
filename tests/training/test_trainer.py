import json

import pytest
import torch
from typer import Typer
from typer.testing import CliRunner

from graphrec.data import DataError, RecData, UserItems, synthetic_hetero
from graphrec.evaluation import evaluate
from graphrec.training import (
    TrainingDivergedError,
    load_model,
    resolve_device,
    sample_negatives,
    train,
)


@pytest.fixture(scope="module")
def data() -> RecData:
    hetero = synthetic_hetero(num_users=60, num_items=30, interactions_per_user=10, seed=0)
    return RecData.from_hetero(hetero, test_ratio=0.2, val_ratio=0.1, seed=0)


# Validation after every epoch, as these tests count epochs (the models' defaults validate
# every 5).
FAST = {"batch_size": 128, "lr": 0.01, "progress": False, "eval_every": 1}


def test_end_to_end_synthetic_graph_to_metrics(tmp_path):
    hetero = synthetic_hetero(num_users=60, num_items=30, interactions_per_user=10, seed=1)
    data = RecData.from_hetero(hetero, split="temporal")
    result = train(
        model="lightgcn",
        data=data,
        model_kwargs={"embedding_dim": 16, "num_layers": 2},
        epochs=2,
        run_dir=tmp_path,
        **FAST,
    )
    assert [row["epoch"] for row in result.history] == [1, 2]
    assert {"loss", "seconds", "val_recall@20", "val_ndcg@20"} <= result.history[0].keys()
    assert result.best_epoch in (1, 2)
    assert 0 <= result.metrics["recall@20"] <= 1
    assert result.metrics["num_users"] == 60

    for name in ("model.pt", "config.json", "history.json", "metrics.json", "training.png"):
        assert (tmp_path / name).exists(), name
    assert json.loads((tmp_path / "history.json").read_text()) == result.history
    reloaded = load_model(tmp_path, data)
    assert evaluate(reloaded, data) == pytest.approx(result.metrics)


def test_training_beats_most_popular_on_planted_communities(data):
    trained = train(model="lightgcn", data=data, epochs=15, patience=0, k=5, **FAST)
    popular = train(model="most_popular", data=data, epochs=15, k=5, **FAST)
    assert popular.history == [] and popular.best_epoch == 0
    assert trained.metrics["recall@5"] > popular.metrics["recall@5"] + 0.1


def test_interrupted_run_resumes_to_the_same_result(data, tmp_path):
    settings = {"model": "ngcf", "data": data, "model_kwargs": {"embedding_dim": 8}, "seed": 5}
    straight = train(epochs=4, patience=0, **settings, **FAST)

    first_half = train(epochs=2, patience=0, run_dir=tmp_path, **settings, **FAST)
    assert len(first_half.history) == 2
    resumed = train(epochs=4, patience=0, run_dir=tmp_path, **settings, **FAST)
    assert [row["loss"] for row in resumed.history] == [row["loss"] for row in straight.history]
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key


def test_resuming_with_other_settings_is_refused(data, tmp_path):
    train(model="mf", data=data, epochs=1, run_dir=tmp_path, **FAST)
    with pytest.raises(ValueError, match="different settings \\(lr\\)"):
        train(model="mf", data=data, epochs=2, run_dir=tmp_path, **{**FAST, "lr": 0.5})


def test_early_stopping_keeps_the_best_epoch(data):
    # lr = 0: nothing improves after the first epoch, so patience 2 stops after epoch 3.
    result = train(model="mf", data=data, epochs=20, patience=2, **{**FAST, "lr": 0.0})
    assert result.stopped_early
    assert len(result.history) == 3
    assert result.best_epoch == 1


def test_validation_every_n_epochs_and_patience_in_validations(data):
    # lr = 0: nothing improves after the first validation (epoch 3); patience 2 counts
    # validations, so epochs 6 and 9 without improvement stop the run after epoch 9.
    result = train(
        model="mf", data=data, epochs=20, patience=2, **{**FAST, "lr": 0.0, "eval_every": 3}
    )
    validated = [row["epoch"] for row in result.history if "val_recall@20" in row]
    assert validated == [3, 6, 9] and len(result.history) == 9
    assert result.stopped_early and result.best_epoch == 3
    short = train(model="mf", data=data, epochs=4, **{**FAST, "eval_every": 3})
    assert [row["epoch"] for row in short.history if "val_recall@20" in row] == [3, 4]


def test_defaults_come_from_the_registry(data):
    from graphrec.models.registry import training_defaults

    result = train(model="lightgcn", data=data, epochs=1, progress=False)
    defaults = training_defaults("lightgcn")
    assert result.config["lr"] == defaults.lr and result.config["eval_every"] == defaults.eval_every
    assert result.config["patience"] == defaults.patience
    assert result.config["reg"] == defaults.reg != training_defaults("mf").reg  # per model


def test_training_is_deterministic_under_a_seed(data):
    runs = [train(model="relgnn", data=data, epochs=2, seed=3, **FAST) for _ in range(2)]
    assert runs[0].history[1]["loss"] == runs[1].history[1]["loss"]
    assert runs[0].metrics == runs[1].metrics


def test_nan_loss_stops_with_a_hint_about_the_learning_rate(data):
    with pytest.raises(TrainingDivergedError, match=r"learning rate \(lr=1e\+30\)"):
        train(model="mf", data=data, epochs=3, **{**FAST, "lr": 1e30})


def test_data_without_training_or_test_interactions_is_refused(data):
    empty_train = RecData(data.num_users, data.num_items, data.train[:, :0], data.val, data.test)
    with pytest.raises(DataError, match="no training interactions"):
        train(model="mf", data=empty_train, epochs=1, progress=False)
    no_test = RecData(data.num_users, data.num_items, data.train, data.val, data.test[:, :0])
    with pytest.raises(DataError, match="raise the test ratio"):
        train(model="mf", data=no_test, epochs=1, progress=False)


def test_negative_samples_are_never_positives():
    # User 0 has seen every item but one; user 1 nothing.
    edges = torch.tensor([[0] * 49, list(range(49))])
    positives = UserItems.from_edges(edges, num_users=2, num_items=50)
    users = torch.tensor([0, 1] * 500)
    negatives = sample_negatives(users, positives, torch.Generator().manual_seed(0))
    assert not bool(positives.contains(users, negatives).any())
    assert bool((negatives[users == 0] == 49).all())
    assert negatives[users == 1].unique().numel() > 40  # uniform over all items


def test_device_resolution():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


@pytest.fixture
def cli_app() -> Typer:
    """The train and evaluate commands. Runs against a graph are in tests/cli/test_train.py."""
    from graphrec.cli import evaluate as evaluate_cli
    from graphrec.cli import train as train_cli

    app = Typer()
    train_cli.register(app)
    evaluate_cli.register(app)
    return app


def test_cli_unknown_model_lists_the_known_ones(cli_app):
    result = CliRunner().invoke(cli_app, ["train", "--model", "bert4rec"])
    assert result.exit_code != 0
    text = " ".join(result.output.replace("│", " ").split())  # undo rich's box and wrapping
    assert "known models: mf, lightgcn, ngcf, relgnn, kgat, kgin, most_popular" in text


def test_cli_help_explains_the_options(cli_app):
    result = CliRunner().invoke(cli_app, ["train", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for option in ("--model", "--split", "--test-ratio", "--run-dir", "--metrics-out"):
        assert option in result.output
