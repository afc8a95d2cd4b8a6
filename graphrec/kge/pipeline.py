"""Train and evaluate a PyKEEN model on labelled triples: :func:`train_kge`.

One keyword-only entry point in the manner of PyKEEN's ``pipeline`` (which it
calls). It splits the triples into train / validation / test with shared
entity and relation ids (``TriplesFactory.split``), trains the model chosen by
name, evaluates it with the filtered rank-based evaluator (realistic ranks)
and returns a :class:`KGEResult` that can save itself.
"""

from __future__ import annotations

import gc
import inspect
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from graphrec.kge.errors import KGEError, UnknownKGEModelError
from graphrec.kge.result import (
    KGEResult,
    is_json,
    rank_metrics,
    relation_split_counts,
    split_warnings,
)
from graphrec.kge.triples import INTERACTED_RELATION, LabelledTriples

if TYPE_CHECKING:
    from pykeen.models import Model
    from pykeen.triples import TriplesFactory


#: Fewest triples worth splitting and training on.
MIN_TRIPLES = 20


def resolve_kge_model(model: str | type[Model]) -> type[Model]:
    """PyKEEN's model class for a name (any case, e.g. ``"TransE"``, ``"rotate"``) or a class.

    Raises:
        UnknownKGEModelError: listing PyKEEN's models.
    """
    from pykeen.models import model_resolver

    if isinstance(model, type):
        return model
    try:
        return model_resolver.lookup(model)
    except (KeyError, ValueError):
        known = ", ".join(sorted(cls.__name__ for cls in model_resolver.lookup_dict.values()))
        raise UnknownKGEModelError(
            f"unknown KGE model {model!r}; PyKEEN's models: {known}"
        ) from None


def kge_model_name(model: str | type[Model]) -> str:
    """The registry-style lower-case name (``"transe"``) used for runs and write-back."""
    from pykeen.models import model_resolver

    return model_resolver.normalize_cls(resolve_kge_model(model))


def train_kge(
    *,
    triples: LabelledTriples | Iterable[tuple[str, str, str]],
    model: str | type[Model] = "TransE",
    model_kwargs: Mapping[str, Any] | None = None,
    dim: int = 64,
    epochs: int = 100,
    lr: float = 0.01,
    negatives: int = 4,
    batch_size: int = 256,
    ratios: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    device: str = "cpu",
    loss: str | None = None,
    patience: int = 0,
    check_every: int = 10,
    max_eval_triples: int | None = None,
    progress: bool = True,
) -> KGEResult:
    """Split, train and evaluate a PyKEEN model on labelled triples.

    Args:
        triples: From :func:`kg_triples` / :func:`export_kg`, or plain
            ``(head, relation, tail)`` strings (then nothing is known about node labels).
        model: A PyKEEN model name or class: ``"TransE"``, ``"RotatE"``,
            ``"DistMult"``, ``"ComplEx"``, ... (default: ``"TransE"``).
        model_kwargs: More keyword arguments for the model (default: none).
        dim: ``embedding_dim``; complex models have ``dim`` complex coordinates,
            stored as ``2 * dim`` reals (default: 64).
        epochs: Training epochs (default: 100).
        lr: Adam learning rate (default: 0.01).
        negatives: Negative samples per positive triple (sLCWA) (default: 4).
        batch_size: Training batch size (default: 256).
        ratios: Train, validation and test shares (default: 0.8, 0.1, 0.1).
        seed: Seeds the split, initialisation and sampling (default: 0).
        device: ``"cpu"``, ``"cuda"``, ... (default: ``"cpu"``).
        loss: A PyKEEN loss name (``"marginranking"``, ``"softplus"``,
            ``"nssa"``, ...); ``None`` keeps the model's default (default: None).
        patience: With a positive value, PyKEEN's early stopper evaluates
            validation MRR every ``check_every`` epochs, stops after
            ``patience`` checks without improvement and restores the best
            weights (when all epochs run without stopping, the last weights are
            kept, as in PyKEEN); 0 trains all epochs (default: 0).
        check_every: Epochs between early-stopping checks (default: 10).
        max_eval_triples: Evaluate (test, and validation for early stopping) on
            a random subset of this many triples; the others still count as
            known facts in the filtered ranks. For large graphs; ``None``
            evaluates all (default: None).
        progress: PyKEEN's progress bars (default: True).

    Raises:
        UnknownKGEModelError: listing PyKEEN's models.
        KGEError: too few triples, a split without triples, bad ratios.
    """
    from pykeen.pipeline import pipeline
    from pykeen.triples import TriplesFactory

    model_class = resolve_kge_model(model)
    name = kge_model_name(model_class)
    if loss is not None:
        _check_loss(loss)
    if not isinstance(triples, LabelledTriples):
        triples = LabelledTriples.from_tuples(triples)
    _check_ratios(ratios)
    _check_size(triples, ratios)
    factory = TriplesFactory.from_labeled_triples(triples.triples, create_inverse_triples=False)
    # "cleanup" splits at random, then moves triples whose entities or relation would be
    # missing from training back into it. PyKEEN's default ("coverage") first puts a
    # deterministic cover (by triple order) into training; on item-concept graphs, where
    # most items have few triples, that kept one relation out of the test set entirely.
    training, validation, testing = factory.split(
        list(ratios), random_state=seed, method="cleanup", randomize_cleanup=True
    )
    problems = split_warnings(training, validation, testing)
    if testing.num_triples == 0 or validation.num_triples == 0:
        raise KGEError(
            f"the {len(triples)} triples left no validation or test triples after the split "
            f"(train {training.num_triples}, validation {validation.num_triples}, "
            f"test {testing.num_triples}); add triples or raise the held-out ratios"
        )
    evaluated = _subsample(testing, max_eval_triples, seed)
    stopping_set = _subsample(validation, max_eval_triples, seed)

    kwargs = dict(model_kwargs or {})
    if "embedding_dim" in inspect.signature(model_class.__init__).parameters:
        kwargs.setdefault("embedding_dim", dim)
    config = {
        "model": model_class.__name__,
        "model_name": name,
        "model_kwargs": {k: v for k, v in kwargs.items() if is_json(v)},
        "dim": dim,
        "epochs": epochs,
        "lr": lr,
        "negatives": negatives,
        "batch_size": batch_size,
        "ratios": list(ratios),
        "seed": seed,
        "loss": loss,
        "patience": patience,
        "check_every": check_every,
        "max_eval_triples": max_eval_triples,
        "relations": sorted(factory.relation_to_id),
        "include_interactions": INTERACTED_RELATION in factory.relation_to_id,
        "evaluation": "rank-based, filtered (train + validation + test), realistic ranks",
    }
    stopper: dict[str, Any] = {}
    if patience > 0:
        stopper = {
            "stopper": "early",
            "stopper_kwargs": {
                "frequency": check_every,
                "patience": patience,
                "metric": "inverse_harmonic_mean_rank",
                "evaluation_batch_size": _evaluation_batch_size(factory.num_entities, dim),
                "relative_delta": 0.002,
            },
        }
    try:
        with _frozen_gc():
            result = pipeline(
                training=training,
                validation=stopping_set,
                testing=evaluated,
                model=model_class,
                model_kwargs=kwargs,
                loss=loss,
                optimizer="Adam",
                optimizer_kwargs={"lr": lr},
                training_loop="sLCWA",
                negative_sampler="basic",
                negative_sampler_kwargs={"num_negs_per_pos": negatives},
                training_kwargs={
                    "num_epochs": epochs,
                    "batch_size": batch_size,
                    "use_tqdm": progress,
                    "use_tqdm_batch": False,
                },
                evaluator="rankbased",
                evaluator_kwargs={"filtered": True},
                evaluation_kwargs={
                    "batch_size": _evaluation_batch_size(factory.num_entities, dim),
                    "use_tqdm": progress,
                    "additional_filter_triples": [
                        validation.mapped_triples,
                        testing.mapped_triples,
                    ],
                },
                random_seed=seed,
                device=device,
                use_tqdm=progress,
                **stopper,
            )
    except (KeyError, ValueError, TypeError, NotImplementedError) as exc:
        reason = " ".join(str(exc).split())
        raise KGEError(f"PyKEEN could not train {model_class.__name__}: {reason}") from exc
    _remove_best_weights_file(result.stopper)
    baseline = marginal_baseline(training, evaluated, [validation, testing], progress=progress)
    epochs_run = len(result.losses)
    best_epoch = getattr(result.stopper, "best_epoch", None) if patience > 0 else None
    metrics = {
        "test": rank_metrics(result),
        "baseline_test": baseline,
        "triples": {
            "train": training.num_triples,
            "validation": validation.num_triples,
            "test": testing.num_triples,
            "evaluated": evaluated.num_triples,
            "per_relation": relation_split_counts(training, validation, testing),
        },
        "entities": factory.num_entities,
        "relations": factory.num_relations,
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "validation_mrr": list(getattr(result.stopper, "results", [])),
        "train_seconds": result.train_seconds,
        "seconds_per_epoch": result.train_seconds / max(1, epochs_run),
        "evaluate_seconds": result.evaluate_seconds,
        "final_loss": result.losses[-1] if result.losses else None,
    }
    return KGEResult(
        model_name=name,
        pipeline_result=result,
        triples=triples,
        validation=validation,
        testing=testing,
        config=config,
        metrics=metrics,
        warnings=problems,
    )


@contextmanager
def _frozen_gc() -> Iterator[None]:
    """Move the objects alive now out of the collector's sight while PyKEEN trains.

    PyKEEN calls ``gc.collect()`` after every epoch; with torch, PyG and pandas
    loaded, each full collection scans millions of long-lived objects (0.25 s
    or more), which dominates small runs. Frozen objects are skipped; objects
    created during training are still collected.
    """
    gc.freeze()
    try:
        with warnings.catch_warnings():
            # Noise from PyKEEN's own training loop on CPU, nothing a user can act on.
            warnings.filterwarnings("ignore", message="Training instances are always shuffled")
            warnings.filterwarnings("ignore", message="'pin_memory' argument is set as true")
            yield
    finally:
        gc.unfreeze()


def _check_loss(loss: str) -> None:
    from pykeen.losses import loss_resolver

    try:
        loss_resolver.lookup(loss)
    except (KeyError, ValueError):
        known = ", ".join(sorted(loss_resolver.options))
        raise KGEError(f"unknown loss {loss!r}; PyKEEN's losses: {known}") from None


def _remove_best_weights_file(stopper: Any) -> None:
    """PyKEEN's early stopper deletes its best-weights file only when it stops training;
    when all epochs run, the file stays in PyKEEN's checkpoint folder."""
    path = getattr(stopper, "best_model_path", None)
    if path is not None and Path(path).is_file():
        Path(path).unlink()


def _evaluation_batch_size(num_entities: int, dim: int, budget_bytes: int = 2**27) -> int:
    """Test triples scored at once. Translational models score all entities by broadcasting a
    ``(batch, entities, dim)`` tensor; keeping it near 128 MiB avoids swapping on CPU (PyKEEN's
    automatic search only runs on GPUs). 8 bytes per coordinate also covers complex models."""
    return max(1, min(256, budget_bytes // max(1, num_entities * dim * 8)))


def _subsample(factory: TriplesFactory, size: int | None, seed: int) -> TriplesFactory:
    if size is None or factory.num_triples <= size:
        return factory
    generator = torch.Generator().manual_seed(seed)
    keep = torch.randperm(factory.num_triples, generator=generator)[:size]
    return factory.clone_and_exchange_triples(factory.mapped_triples[keep])


def _check_ratios(ratios: Sequence[float]) -> None:
    if len(ratios) != 3 or any(r <= 0 for r in ratios) or abs(sum(ratios) - 1) > 1e-6:
        raise KGEError(
            f"ratios must be three positive shares (train, validation, test) summing to 1, "
            f"got {list(ratios)}"
        )


def _check_size(triples: LabelledTriples, ratios: Sequence[float]) -> None:
    needed = max(MIN_TRIPLES, int(np.ceil(1 / min(ratios[1:]))))
    if len(triples) < needed:
        counts = ", ".join(f"{r}: {n}" for r, n in triples.relation_counts().items()) or "none"
        raise KGEError(
            f"too few triples to train and evaluate: {len(triples)} (by relation: {counts}); "
            f"need at least {needed}. Ingest concepts first (genres, tags, KG relations), "
            "select more --relations, or add interactions with --include-interactions"
        )


def marginal_baseline(
    training: TriplesFactory,
    evaluated: TriplesFactory,
    filters: Sequence[TriplesFactory],
    *,
    progress: bool = False,
) -> dict[str, dict[str, float]]:
    """:func:`rank_metrics` of PyKEEN's :class:`~pykeen.models.MarginalDistributionBaseline`
    (:math:`P(t \\mid h, r) \\propto P(t \\mid h)\\,P(t \\mid r)`, counted in ``training``) on
    the same test triples and filters as the model: what a KG embedding must beat to have
    learned more than relation and entity frequencies."""
    from pykeen.evaluation import RankBasedEvaluator
    from pykeen.models import MarginalDistributionBaseline

    model = MarginalDistributionBaseline(triples_factory=training)
    # It has no parameters or buffers, but the evaluator asks the model for its device
    # (for a progress-bar label, even when the bar is off): give it an empty CPU buffer.
    model.register_buffer("device_anchor", torch.empty(0), persistent=False)
    results = RankBasedEvaluator(filtered=True).evaluate(
        model,
        evaluated.mapped_triples,
        device=torch.device("cpu"),  # scipy sparse matrices
        use_tqdm=progress,
        additional_filter_triples=[training.mapped_triples]
        + [factory.mapped_triples for factory in filters],
    )
    return rank_metrics(results)
