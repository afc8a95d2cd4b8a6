"""Data-parallel training: two gloo processes on CPU must train as one process does."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from graphrec.data import RecData, synthetic_hetero
from graphrec.training import Distributed, TrainingDivergedError, train
from graphrec.training.distributed import available_cpus, shard_bounds

# 420 training interactions: batches of 51 split 26 / 25 between two processes, and the
# epoch's last batch (12) too; the shard weights must make up for both.
SETTINGS = {
    "model_kwargs": {"embedding_dim": 8},
    "batch_size": 51,
    "lr": 0.01,
    "reg": 1e-3,
    "seed": 3,
    "patience": 0,
    "progress": False,
    "device": "cpu",  # two CPU processes even where a GPU is present
}
TOLERANCE = 1e-4


def train_distributed(*, world_size, backend="auto", **kwargs):
    """Processes started from here, through the one entry point."""
    strategy = Distributed(world_size=world_size, backend=backend, launch="spawn")
    return train(strategy=strategy, **kwargs)


def run_from_env(*, world_size=None, **kwargs):
    """One process of a group that torchrun started, through the one entry point."""
    return train(strategy=Distributed(world_size=world_size, launch="env"), **kwargs)


@pytest.fixture(scope="module")
def data() -> RecData:
    hetero = synthetic_hetero(num_users=60, num_items=30, interactions_per_user=10, seed=0)
    return RecData.from_hetero(hetero, test_ratio=0.2, val_ratio=0.1, seed=0)


def max_difference(first: torch.nn.Module, second: torch.nn.Module) -> float:
    other = second.state_dict()
    return max(
        (value.float() - other[key].float()).abs().max().item()
        for key, value in first.state_dict().items()
    )


@pytest.mark.parametrize(("size", "world_size"), [(51, 2), (12, 2), (10, 3), (1, 2), (7, 7)])
def test_shards_are_contiguous_and_cut_like_tensor_split(size, world_size):
    bounds = [shard_bounds(size, rank, world_size) for rank in range(world_size)]
    expected = torch.arange(size).tensor_split(world_size)
    assert [torch.arange(size)[start:stop].tolist() for start, stop in bounds] == [
        part.tolist() for part in expected
    ]


@pytest.mark.parametrize("model", ["mf", "lightgcn"])
def test_two_processes_train_as_one_process_does(data, model):
    one = train(model=model, data=data, epochs=3, **SETTINGS)
    two = train_distributed(world_size=2, model=model, data=data, epochs=3, **SETTINGS)

    assert max_difference(one.model, two.model) < TOLERANCE
    assert [row["epoch"] for row in two.history] == [1, 2, 3]
    assert [row["loss"] for row in two.history] == pytest.approx(
        [row["loss"] for row in one.history], rel=1e-5
    )
    assert two.best_epoch == one.best_epoch
    assert two.metrics == pytest.approx(one.metrics, abs=1e-6)
    assert two.config["distributed"] == {"world_size": 2, "backend": "gloo"}


def test_a_distributed_checkpoint_resumes_in_one_process(data, tmp_path):
    straight = train(model="mf", data=data, epochs=4, **SETTINGS)

    first_half = train_distributed(
        world_size=2, model="mf", data=data, epochs=2, run_dir=tmp_path, **SETTINGS
    )
    for name in ("checkpoint.pt", "model.pt", "config.json", "history.json", "metrics.json"):
        assert (tmp_path / name).exists(), name
    assert json.loads((tmp_path / "history.json").read_text()) == first_half.history

    resumed = train(model="mf", data=data, epochs=4, run_dir=tmp_path, **SETTINGS)
    assert len(resumed.history) == 4
    assert max_difference(straight.model, resumed.model) < TOLERANCE


def test_early_stopping_stops_every_process_after_the_same_epoch(data):
    # lr = 0: nothing improves after the first epoch, so patience 2 stops after epoch 3.
    settings = {**SETTINGS, "lr": 0.0, "patience": 2, "eval_every": 1}
    result = train_distributed(world_size=2, model="mf", data=data, epochs=20, **settings)
    assert result.stopped_early
    assert len(result.history) == 3
    assert result.best_epoch == 1


def test_divergence_in_the_processes_is_raised_in_the_caller(data):
    with pytest.raises(TrainingDivergedError, match=r"learning rate \(lr=1e\+30\)"):
        train_distributed(world_size=2, model="mf", data=data, epochs=3, **{**SETTINGS, "lr": 1e30})


def test_an_untrained_baseline_needs_no_processes(data):
    result = train_distributed(world_size=2, model="most_popular", data=data, progress=False)
    assert result.history == []
    assert result.metrics == train(model="most_popular", data=data, progress=False).metrics


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"world_size": 0}, ValueError, "at least 1 process, got 0"),
        (
            {"world_size": available_cpus() + 1},
            ValueError,
            f"--distributed {available_cpus() + 1} asks for {available_cpus() + 1} processes "
            f"but only {available_cpus()} CPU",
        ),
        ({"world_size": 2, "batch_size": 1}, ValueError, "--batch-size 1 is smaller than"),
        ({"world_size": 1, "backend": "mpi"}, ValueError, "unknown backend 'mpi'"),
        ({"world_size": 1, "epoch": 3}, TypeError, "epoch"),
    ],
)
def test_bad_launches_are_refused_before_any_work(data, tmp_path, overrides, error, message):
    kwargs = {"world_size": 1, "model": "mf", "data": data, "device": "cpu"}
    kwargs["run_dir"] = tmp_path / "run"
    with pytest.raises(error, match=message):
        train_distributed(**{**kwargs, **overrides})
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only messages")
def test_gpu_settings_without_a_gpu_are_refused(data):
    with pytest.raises(ValueError, match="nccl backend needs CUDA"):
        train_distributed(world_size=1, backend="nccl", model="mf", data=data)
    with pytest.raises(ValueError, match="CUDA is not available"):
        train_distributed(world_size=1, device="cuda", model="mf", data=data)


def test_run_from_env_refuses_a_launch_it_does_not_match(data, monkeypatch):
    with pytest.raises(ValueError, match="expects to be started by torchrun"):
        run_from_env(model="mf", data=data)
    for name, value in {"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MASTER_PORT", "29500")
    with pytest.raises(ValueError, match="--distributed 3 does not match the 2 processes"):
        run_from_env(world_size=3, model="mf", data=data)
    with pytest.raises(ValueError, match="started by torchrun"):
        train_distributed(world_size=2, model="mf", data=data)


TORCHRUN_SCRIPT = """
import sys

import torch

from graphrec.data import RecData, synthetic_hetero
from graphrec.training import Distributed, train

hetero = synthetic_hetero(num_users=60, num_items=30, interactions_per_user=10, seed=0)
data = RecData.from_hetero(hetero, test_ratio=0.2, val_ratio=0.1, seed=0)
settings = {settings!r}
strategy = Distributed(world_size=2, launch="env")
result = train(strategy=strategy, model="mf", data=data, epochs=2, **settings)
if result is not None:
    torch.save(result.model.state_dict(), sys.argv[1])
"""


def test_torchrun_launch_trains_as_one_process_does(data, tmp_path):
    script = tmp_path / "train_mf.py"
    script.write_text(textwrap.dedent(TORCHRUN_SCRIPT.format(settings=SETTINGS)))
    out = tmp_path / "model.pt"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node", "2", str(script), str(out)]
    completed = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]

    one = train(model="mf", data=data, epochs=2, **SETTINGS)
    state = torch.load(out, weights_only=True)
    assert (
        max(
            (value - state[key]).abs().max().item() for key, value in one.model.state_dict().items()
        )
        < TOLERANCE
    )
