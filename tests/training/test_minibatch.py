"""Mini-batch training: sampled propagation, layer-wise inference, checks and the trainer."""

import pytest
import torch

from graphrec.data import GraphSize, RecData, synthetic_hetero
from graphrec.evaluation import evaluate
from graphrec.models import MODELS, MostPopular
from graphrec.models.base import Subgraph
from graphrec.training import MiniBatch, train
from graphrec.training.memory import (
    MMAP_THRESHOLD_MAX,
    check_memory,
    check_memory_cap,
    estimate_fullbatch_memory,
    estimate_minibatch_memory,
)
from graphrec.training.minibatch import MINIBATCH_MODELS, MiniBatchTrainer, check_fan_outs
from graphrec.training.sampling import TorchNeighborSampler

SMALL = {"embedding_dim": 8, "num_layers": 2}


def train_minibatch(*, fan_outs, **kwargs):
    """The mini-batch strategy through the one entry point."""
    return train(strategy=MiniBatch(fan_outs=fan_outs), **kwargs)


@pytest.fixture(scope="module")
def data() -> RecData:
    hetero = synthetic_hetero(num_users=40, num_items=30, interactions_per_user=6, seed=0)
    return RecData.from_hetero(hetero, seed=0)


@pytest.fixture(scope="module")
def larger() -> RecData:
    """Enough users for a learnt model to beat the most-popular baseline clearly."""
    hetero = synthetic_hetero(num_users=240, num_items=90, interactions_per_user=10, seed=1)
    return RecData.from_hetero(hetero, seed=0)


def build(name: str, data: RecData, seed: int = 0, **kwargs):
    torch.manual_seed(seed)
    return MODELS[name].from_data(data, **{**SMALL, **kwargs})


def sample(model, seeds: torch.Tensor, fan_outs: list[int], seed: int = 0) -> Subgraph:
    graph = model.sampling_graph()
    sampler = TorchNeighborSampler(
        graph,
        fan_outs,
        group_attr="edge_type" if "edge_type" in graph else None,
        is_sorted=True,
        generator=torch.Generator().manual_seed(seed),
    )
    out = sampler._sample(seeds)
    edge_type = graph.edge_type[out.edge] if "edge_type" in graph else None
    return Subgraph(
        out.node,
        torch.stack([out.row, out.col]),
        edge_type,
        out.num_sampled_nodes,
        out.num_sampled_edges,
    )


def test_only_lightgcn_and_relgnn_support_mini_batches(data):
    assert MINIBATCH_MODELS == ("lightgcn", "relgnn")
    with pytest.raises(ValueError, match="supports lightgcn and relgnn, not 'ngcf'"):
        train_minibatch(model="ngcf", data=data, fan_outs=[5, 5], progress=False)


@pytest.mark.parametrize("name", MINIBATCH_MODELS)
@pytest.mark.parametrize("chunk_size", [7, 1000])
def test_layerwise_inference_equals_the_full_forward(name, chunk_size, data):
    model = build(name, data)
    model.train()
    full = model.get_embedding()
    layerwise = model.inference(chunk_size=chunk_size)
    assert torch.allclose(layerwise.user, full.user, atol=1e-6)
    assert torch.allclose(layerwise.item, full.item, atol=1e-6)
    if name == "relgnn":
        assert torch.allclose(layerwise.concept, full.concept, atol=1e-6)
    model.inference_chunk_size = chunk_size  # get_embedding now goes layer by layer
    assert torch.allclose(model.get_embedding().item, full.item, atol=1e-6)


@pytest.mark.parametrize("name", MINIBATCH_MODELS)
def test_sampling_every_neighbour_reproduces_the_full_forward_and_gradients(name, data):
    model = build(name, data, seed=1)
    model.eval()
    seeds = torch.tensor([0, 7, data.num_users + 2, data.num_users + 11])
    subgraph = sample(model, seeds, [-1, -1])
    final, ego = model.forward_sampled(subgraph, sparse=True)
    weights = torch.randn(final.shape, generator=torch.Generator().manual_seed(0))
    (final * weights).sum().backward()
    sampled_grads = [
        t.weight.grad.to_dense() for t in model.embedding_tables() if t.weight.grad is not None
    ]
    model.zero_grad()

    emb = model()
    nodes = torch.cat([emb.user, emb.item])
    assert torch.allclose(final, nodes[seeds], atol=1e-6)
    tables = torch.cat([model.user_embedding.weight, model.item_embedding.weight])
    assert torch.equal(ego, tables[seeds])
    (nodes[seeds] * weights).sum().backward()
    full_grads = [t.weight.grad for t in model.embedding_tables() if t.weight.grad is not None]
    for got, expected in zip(sampled_grads, full_grads, strict=True):
        assert torch.allclose(got, expected, atol=1e-6)


def test_sampled_lightgcn_layers_are_unbiased(data):
    """Averaged over many samples, a small fan-out gives the full propagation."""
    model = build("lightgcn", data, seed=2)
    seeds = torch.arange(0, data.num_users + data.num_items, 5)
    full = torch.cat(model.get_embedding()[:2])[seeds]
    with torch.no_grad():
        draws = [
            model.forward_sampled(sample(model, seeds, [2, 2], seed))[0] for seed in range(400)
        ]
        mean = torch.stack(draws).mean(0)
        single = (draws[0] - full).abs().mean()
    assert (mean - full).abs().mean() < 0.15 * single


def test_relgnn_samples_the_user_item_graph_and_keeps_its_whole_concept_channel(data):
    """relgnn's sampled graph is LightGCN's; its semantic channel is not sampled, so a
    sampled step adds every seed item's full semantic message."""
    model = build("relgnn", data)
    lightgcn = build("lightgcn", data)
    graph, reference = model.sampling_graph(), lightgcn.sampling_graph()
    assert torch.equal(graph.edge_index, reference.edge_index) and "edge_type" not in graph
    items = torch.arange(data.num_users, data.num_users + 5)
    model.eval()
    final, _ = model.forward_sampled(sample(model, items, [-1, -1]))
    assert torch.allclose(final, model.get_embedding().item[:5], atol=1e-5)


def test_fan_out_checks():
    assert check_fan_outs([10, 5], 2) == [10, 5]
    assert check_fan_outs("10, -1", 2) == [10, -1]
    with pytest.raises(ValueError, match="--fan-out has 2 values but the model has 3 layers"):
        check_fan_outs([10, 5], 3)
    with pytest.raises(ValueError, match="value 2 is 0; fan-outs must be positive, or -1"):
        check_fan_outs([10, 0], 2)
    with pytest.raises(ValueError, match="value 1 is -3"):
        check_fan_outs("-3,2", 2)
    with pytest.raises(ValueError, match="comma-separated integers"):
        check_fan_outs("10,five", 2)


def test_bad_inputs_fail_before_any_work(data, tmp_path):
    with pytest.raises(ValueError, match="--fan-out has 3 values but the model has 2 layers"):
        train_minibatch(
            model="relgnn", data=data, fan_outs=[5, 5, 5], model_kwargs=SMALL, progress=False
        )
    with pytest.raises(ValueError, match=r"more than the memory cap of 0\.01 GB"):
        train_minibatch(
            model="lightgcn",
            data=data,
            fan_outs=[5, 5],
            model_kwargs=SMALL,
            memory_cap_gb=0.01,
            run_dir=tmp_path / "run",
            progress=False,
        )
    assert not (tmp_path / "run").exists()


def test_memory_estimates():
    """Estimates come from counts alone; a graph of 120,000 nodes is only described."""
    generator = torch.Generator().manual_seed(0)
    pairs = torch.stack(
        [
            torch.randint(100_000, (300_000,), generator=generator),
            torch.randint(20_000, (300_000,), generator=generator),
        ]
    )
    wide = RecData(100_000, 20_000, train=pairs, val=pairs[:, :0], test=pairs[:, :10])
    settings = {"model": "lightgcn", "model_kwargs": {"num_layers": 2}, "batch_size": 256}
    mini = estimate_minibatch_memory(wide, fan_outs=[5, 5], **settings)
    all_neighbours = estimate_minibatch_memory(wide, fan_outs=[-1, -1], **settings)
    full = estimate_fullbatch_memory(wide, model="lightgcn", model_kwargs={"num_layers": 2})
    assert 0 < mini.step < all_neighbours.step
    assert mini.step < full.step
    assert mini.total > mini.baseline + mini.parameters
    check_memory_cap(mini, 100.0, what="mini-batch training", advice="lower the batch size")
    fixed = full.total - max(full.step, full.evaluation)
    between = (fixed + full.total) / 2e9
    with pytest.raises(
        ValueError, match="full-batch training would need ~.* GB .*use --mini-batch"
    ):
        check_memory_cap(full, between, what="full-batch training", advice="use --mini-batch")
    below_fixed = (full.baseline + fixed) / 2e9
    with pytest.raises(ValueError, match="tables, their optimiser state and the graph alone"):
        check_memory_cap(full, below_fixed, what="full-batch training", advice="use --mini-batch")
    with pytest.raises(ValueError, match="with PyTorch loaded, before any data; raise the cap"):
        check_memory_cap(full, 0.01, what="full-batch training", advice="use --mini-batch")
    with pytest.raises(ValueError, match="must be a positive number"):
        check_memory_cap(mini, 0, what="mini-batch training", advice="")


@pytest.mark.parametrize("name", MINIBATCH_MODELS)
@pytest.mark.parametrize("fan_outs", [None, [5, 5], [-1, -1]])
def test_the_estimate_from_graph_counts_is_a_lower_bound(name, fan_outs, larger):
    """What the graph's counts give before the export never exceeds the estimate after it,
    so the check before the export refuses only what the later one would."""
    kg = larger.kg
    size = GraphSize(
        users=larger.num_users,
        items=larger.num_items,
        concepts=kg.num_concepts if kg is not None else 0,
        kg_edges=kg.num_edges if kg is not None else 0,
    )
    kwargs = {"model": name, "model_kwargs": {"num_layers": 2}}
    if fan_outs is None:
        before = estimate_fullbatch_memory(size, **kwargs)
        after = estimate_fullbatch_memory(larger, **kwargs)
    else:
        before = estimate_minibatch_memory(size, fan_outs=fan_outs, batch_size=64, **kwargs)
        after = estimate_minibatch_memory(larger, fan_outs=fan_outs, batch_size=64, **kwargs)
    assert before.lower_bound and not after.lower_bound
    assert before.parameters == after.parameters and before.evaluation == after.evaluation
    for part in ("data", "graph", "step"):
        assert getattr(before, part) <= getattr(after, part)
    assert before.total < after.total
    assert before.describe().startswith("at least ") and after.describe().startswith("~")
    with pytest.raises(ValueError, match="would need at least"):
        check_memory(size, before.total / 2e9, fan_outs=fan_outs, batch_size=64, **kwargs)
    check_memory(size, after.total / 1e9, fan_outs=fan_outs, batch_size=64, **kwargs)


def test_full_batch_estimate_has_two_allocator_regimes():
    """Below 32 MiB per table the allocator keeps freed blocks (a cost per layer); above,
    LightGCN's peak is what is alive, which does not grow with layers."""
    pairs = torch.zeros(2, 10, dtype=torch.long)
    data = RecData(10_000, 5_000, train=pairs, val=pairs[:, :0], test=pairs)

    def step(dim: int, layers: int) -> float:
        kwargs = {"embedding_dim": dim, "num_layers": layers}
        estimate = estimate_fullbatch_memory(data, model="lightgcn", model_kwargs=kwargs)
        return estimate.step / (4 * 15_000 * dim)  # in N x D tables

    assert MMAP_THRESHOLD_MAX == 32 * 2**20
    assert 4 * 5_000 * 512 < MMAP_THRESHOLD_MAX < 4 * 5_000 * 2048
    assert step(512, 1) < step(512, 3)
    assert step(2048, 1) == step(2048, 3) < step(512, 1)


@pytest.mark.parametrize("name", MINIBATCH_MODELS)
def test_training_lowers_the_loss_and_beats_most_popular(name, larger):
    assert name != "relgnn" or larger.kg is not None  # relgnn trains with the knowledge graph
    result = train_minibatch(
        model=name,
        data=larger,
        fan_outs=[8, 4],
        model_kwargs={"embedding_dim": 16, "num_layers": 2},
        epochs=12,
        batch_size=256,
        lr=0.02,
        patience=0,
        progress=False,
    )
    losses = [row["loss"] for row in result.history]
    assert losses[-1] < losses[0] - 0.2
    popular = evaluate(MostPopular.from_data(larger), larger, k=20)["recall@20"]
    assert result.metrics["recall@20"] > popular + 0.05
    assert result.model.inference_chunk_size is not None  # evaluation stays layer-wise
    assert result.config["mini_batch"]["fan_outs"] == [8, 4]


def test_mini_batch_accuracy_is_close_to_full_batch(larger):
    settings = {
        "model": "lightgcn",
        "data": larger,
        "model_kwargs": {"embedding_dim": 16, "num_layers": 2},
        "epochs": 10,
        "batch_size": 256,
        "lr": 0.02,
        "patience": 0,
        "progress": False,
    }
    full = train(**settings).metrics["recall@20"]
    mini = train_minibatch(fan_outs=[10, 10], **settings).metrics["recall@20"]
    assert mini > full - 0.1


def test_checkpoints_resume_and_refuse_other_fan_outs(data, tmp_path):
    settings = {
        "model": "relgnn",
        "data": data,
        "model_kwargs": SMALL,
        "batch_size": 64,
        "patience": 0,
        "progress": False,
        "run_dir": tmp_path,
    }
    first = train_minibatch(fan_outs=[4, 2], epochs=2, **settings)
    resumed = train_minibatch(fan_outs=[4, 2], epochs=3, **settings)
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3]
    assert resumed.history[:2] == first.history
    assert (tmp_path / "model.pt").exists() and (tmp_path / "metrics.json").exists()
    with pytest.raises(ValueError, match="different mini-batch settings"):
        train_minibatch(fan_outs=[4, 4], epochs=4, **settings)


@pytest.mark.parametrize("sparse", [True, False])
def test_both_optimisers_train_and_resume_exactly(sparse, data, tmp_path):
    def trainer(seed: int) -> MiniBatchTrainer:
        model = build("relgnn", data, seed=seed)
        return MiniBatchTrainer(model, data, fan_outs=[3, 3], batch_size=32, lr=0.05, sparse=sparse)

    first = trainer(3)
    assert first.sparse is sparse
    losses = [first.run_epoch()["loss"] for _ in range(3)]
    assert losses[-1] < losses[0]
    config = {"mini_batch": {"fan_outs": [3, 3], "sparse_embeddings": sparse}}
    first.save(tmp_path / "checkpoint.pt", config)
    expected = first.run_epoch()["loss"]

    resumed = trainer(4)  # other initial weights, replaced by the checkpoint's
    resumed.load(tmp_path / "checkpoint.pt", config)
    assert resumed.run_epoch()["loss"] == pytest.approx(expected, abs=1e-6)
