"""Saved KGE runs: find and open them, predict links, initialise the GNN's concepts.

A run lives in ``<data dir>/kge/<run name>/``::

    trained_model.pkl, training_triples/,    PyKEEN's save_to_directory
    results.json, metadata.json
    validation.tsv, testing.tsv              the held-out labelled triples
    embeddings.npz                           entity labels, node labels, business ids,
                                             real-form vectors
    config.json, metrics.json, losses.png
"""

from __future__ import annotations

import difflib
import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from graphrec.kge.embeddings import EMBEDDINGS_FILE, EntityEmbeddings
from graphrec.kge.errors import KGEDimensionError, KGEError
from graphrec.kge.triples import USER_PREFIX, labelled_array
from graphrec.schema import NodeLabel

if TYPE_CHECKING:
    from pykeen.models import Model
    from pykeen.triples import TriplesFactory


#: Where runs live under the data dir.
RUNS_FOLDER = "kge"


def runs_dir(data_dir: str | Path | None = None) -> Path:
    """``<data dir>/kge`` (data dir from settings when not given)."""
    if data_dir is None:
        from graphrec.config import get_settings

        data_dir = get_settings().data_dir
    return Path(data_dir) / RUNS_FOLDER


def list_runs(data_dir: str | Path | None = None) -> list[Path]:
    """Saved runs, newest first."""
    root = runs_dir(data_dir)
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if (p / EMBEDDINGS_FILE).is_file()]
    return sorted(runs, key=lambda p: (p / EMBEDDINGS_FILE).stat().st_mtime, reverse=True)


def resolve_run(run: str | Path | None, data_dir: str | Path | None = None) -> Path:
    """A run folder: a path to one, a run name under ``<data dir>/kge``, or ``None`` for
    the newest run.

    Raises:
        KGEError: no such run, listing the saved ones.
    """
    if run is None:
        runs = list_runs(data_dir)
        if not runs:
            raise KGEError(
                f"no KGE runs in {runs_dir(data_dir)}; train one with: graphrec kge train"
            )
        return runs[0]
    path = Path(run)
    candidates = (
        [path] if path.is_absolute() or os.sep in str(run) else [runs_dir(data_dir) / run, path]
    )
    for candidate in candidates:
        if (candidate / EMBEDDINGS_FILE).is_file():
            return candidate
    names = ", ".join(p.name for p in list_runs(data_dir)) or "none"
    raise KGEError(f"no KGE run {str(run)!r} (saved runs in {runs_dir(data_dir)}: {names})")


@dataclass(frozen=True)
class Prediction:
    """One ranked candidate: its entity label, node label, business id and model score."""

    label: str
    node_label: str
    business_id: str
    score: float
    known: bool


class KGERun:
    """A saved run: its settings, metrics and embeddings; the PyKEEN model loads on first use.

    Args:
        directory: The run folder (see :func:`resolve_run`).
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.config: dict[str, Any] = json.loads((self.directory / "config.json").read_text())
        self.metrics: dict[str, Any] = json.loads((self.directory / "metrics.json").read_text())
        self.embeddings = EntityEmbeddings.load(self.directory / EMBEDDINGS_FILE)

    @property
    def name(self) -> str:
        return self.directory.name

    @cached_property
    def model(self) -> Model:
        # PyKEEN saves the whole module with torch.save; only load runs you trust.
        model = torch.load(
            self.directory / "trained_model.pkl", map_location="cpu", weights_only=False
        )
        model.eval()
        return model

    @cached_property
    def training(self) -> TriplesFactory:
        from pykeen.triples import TriplesFactory

        return TriplesFactory.from_path_binary(self.directory / "training_triples")

    @cached_property
    def known_triples(self) -> np.ndarray:
        """All labelled triples of the run: training, validation and test."""
        parts = [labelled_array(self.training)]
        for name in ("validation", "testing"):
            path = self.directory / f"{name}.tsv"
            if path.is_file() and path.stat().st_size:
                parts.append(np.loadtxt(path, dtype=str, delimiter="\t", ndmin=2, comments=None))
        return np.concatenate(parts)

    def predict(
        self,
        *,
        relation: str,
        head: str | None = None,
        tail: str | None = None,
        k: int = 10,
        include_known: bool = False,
        range_only: bool = True,
    ) -> list[Prediction]:
        """The ``k`` best tails of ``(head, relation, ?)`` (or heads of ``(?, relation, tail)``).

        Args:
            relation: A relation of the run, e.g. ``"has_genre"``.
            head: Entity label of the head (items and concepts: the business id;
                users: ``"user:<id>"``). Give exactly one of ``head`` and ``tail``.
            tail: Entity label of the tail, to rank heads instead.
            k: How many to return (default: 10).
            include_known: Keep candidates already known for this query, marked
                ``known`` (default: False: new facts only, as in PyKEEN's filtered setting).
            range_only: Rank only entities seen in that position of ``relation``
                (e.g. genres for ``has_genre``); False ranks every entity (default: True).

        Raises:
            KGEError: unknown entity or relation (with suggestions), or both/neither
                of ``head`` and ``tail``.
        """
        from pykeen.predict import predict_target

        if (head is None) == (tail is None):
            raise KGEError("give exactly one of head and tail")
        if k < 1:
            raise KGEError(f"k must be at least 1, got {k}")
        training = self.training
        if relation not in training.relation_to_id:
            raise KGEError(
                f"unknown relation {relation!r}; this run has: "
                f"{', '.join(sorted(training.relation_to_id))}"
            )
        anchor = head if head is not None else tail
        assert anchor is not None
        if anchor not in training.entity_to_id:
            close = difflib.get_close_matches(anchor, list(training.entity_to_id), n=5)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            if USER_PREFIX + anchor in training.entity_to_id:
                hint = f"; users are labelled {USER_PREFIX}<id>: {USER_PREFIX}{anchor}"
            raise KGEError(f"unknown entity {anchor!r} in run {self.name}{hint}")
        target_column = 2 if head is not None else 0
        anchor_column = 0 if head is not None else 2
        known = self.known_triples
        of_relation = known[known[:, 1] == relation]
        known_targets = set(of_relation[of_relation[:, anchor_column] == anchor][:, target_column])
        targets = None
        if range_only:
            targets = sorted({training.entity_to_id[e] for e in of_relation[:, target_column]})
        with torch.no_grad():
            predictions = predict_target(
                model=self.model,
                head=head,
                relation=relation,
                tail=tail,
                triples_factory=training,
                targets=targets,
            )
        side = "tail" if head is not None else "head"
        info = dict(
            zip(
                self.embeddings.labels,
                zip(self.embeddings.node_labels, self.embeddings.business_ids, strict=True),
                strict=True,
            )
        )
        out: list[Prediction] = []
        for label, score in zip(
            predictions.df[f"{side}_label"], predictions.df["score"], strict=True
        ):
            is_known = label in known_targets
            if is_known and not include_known:
                continue
            node_label, business_id = info.get(label, ("", ""))
            out.append(Prediction(label, node_label, business_id, float(score), is_known))
            if len(out) == k:
                break
        return out


def load_run(run: str | Path | None = None, *, data_dir: str | Path | None = None) -> KGERun:
    """Open a saved run by path or name (``None``: the newest), see :func:`resolve_run`."""
    return KGERun(resolve_run(run, data_dir))


def concept_init(
    run: str | Path | KGERun,
    concept_ids: Sequence[str],
    dim: int,
    *,
    std: float | None = 0.1,
    projection: Literal["error", "pca"] = "error",
    data_dir: str | Path | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Initial concept embeddings for the relation-aware GNN from a KGE run.

    Args:
        run: A :class:`KGERun`, or a run path or name (see :func:`resolve_run`).
        concept_ids: The GNN's concepts in index order (``IdMap.concepts`` of the export).
        dim: The GNN's ``embedding_dim``.
        std: Rescale the vectors (one factor for all) so their entries have this
            standard deviation, to match the GNN's initialisation (its
            ``init_std``, 0.1 by default); ``None`` keeps the KGE scale (default: 0.1).
        projection: When the run's dimension exceeds ``dim``: ``"error"``
            raises, ``"pca"`` projects onto the top ``dim`` principal axes
            (default: ``"error"``).
        data_dir: Where runs are looked up by name (default: settings).
        seed: Seeds the random vectors of concepts the run does not know (default: 0).

    Returns:
        A float32 tensor of shape ``(len(concept_ids), dim)``. Concepts absent
        from the run (no triples) get random normal rows with the same standard
        deviation; a warning says how many.

    Raises:
        KGEDimensionError: the dimensions differ (and no projection applies).
        KGEError: the run knows none of the concepts.
    """
    loaded = run if isinstance(run, KGERun) else load_run(run, data_dir=data_dir)
    vectors, found = loaded.embeddings.lookup(concept_ids, NodeLabel.CONCEPT)
    if not found.any():
        raise KGEError(
            f"KGE run {loaded.name} has none of the {len(concept_ids)} concepts; "
            "was it trained on this graph?"
        )
    kge_dim = loaded.embeddings.dim
    if kge_dim != dim:
        stored = (
            f"{loaded.embeddings.complex_dim} complex = {kge_dim} real"
            if loaded.embeddings.complex_dim
            else str(kge_dim)
        )
        if projection != "pca" or kge_dim < dim:
            advice = (
                f"train the KGE with --dim {dim // 2} (complex models store 2 x dim reals)"
                if loaded.embeddings.complex_dim
                else f"train the KGE with --dim {dim}"
            )
            if kge_dim > dim:
                advice += ", or project with projection='pca'"
            raise KGEDimensionError(
                f"KGE run {loaded.name} has dimension {stored}, the GNN {dim}: {advice}"
            )
        known = vectors[found]
        centred = known - known.mean(0)
        axes = np.linalg.svd(centred, full_matrices=False)[2][:dim]
        vectors = np.zeros((len(concept_ids), dim), dtype=np.float32)
        vectors[found] = centred @ axes.T
    scale = float(vectors[found].std()) or 1.0
    target_std = std if std is not None else scale
    vectors = vectors * (target_std / scale)
    missing = int((~found).sum())
    if missing:
        warnings.warn(
            f"{missing} of {len(concept_ids)} concepts are not in KGE run {loaded.name} "
            "(no triples); they start random",
            stacklevel=2,
        )
        generator = np.random.default_rng(seed)
        vectors[~found] = generator.normal(0, target_std, size=(missing, dim))
    return torch.from_numpy(vectors.astype(np.float32))
