r"""Inductive cold start for relgnn: a new item's embedding from its links, no retraining.

relgnn (:class:`graphrec.models.RelationAwareGNN`) scores an item as
:math:`\mathbf{i}^{cf} + \gamma\,\mathbf{s}_i`, where the semantic message
:math:`\mathbf{s}_i` depends only on the item's concept links and the concepts'
propagated embeddings :math:`\mathbf{z}` (written back as the model's ``Concept``
vectors). An item without interactions has no :math:`\mathbf{i}^{cf}`, so its
embedding is :math:`\gamma\,\mathbf{s}`, computed here exactly as the model does:

.. math::
    \mathbf{s} = \sum_{r} a_r \sum_{c \in \mathcal{N}_r} \hat{w}_c\,(\mathbf{t}_r \odot \mathbf{z}_c),
    \qquad a_r = \operatorname{softmax}_{r \in R}(\theta_r),

over the relations :math:`R` of the item's links whose concept has a vector.
The gate :math:`\gamma`, the logits :math:`\theta_r` and the transforms
:math:`\mathbf{t}_r` come from the ``inductive`` entry of the model version's
params (:meth:`graphrec.models.RelationAwareGNN.inductive_params`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: ``(concept position, relation name, weight)`` of one link of an item.
Link = tuple[int, str, float]


@dataclass(frozen=True)
class InductiveRule:
    """relgnn's readout over written-back concept vectors.

    Attributes:
        gate: :math:`\\gamma`.
        relations: Per relation name, ``(logit, transform)``.
        edge_weights: Whether links are weighted by their weight (else a plain mean).
        concept_vectors: ``(C, d)`` :math:`\\mathbf{z}`, aligned with the catalog's concepts.
        concept_known: ``(C,)`` which concepts have a vector.
    """

    gate: float
    relations: Mapping[str, tuple[float, np.ndarray]]
    edge_weights: bool
    concept_vectors: np.ndarray
    concept_known: np.ndarray

    @classmethod
    def from_params(
        cls,
        params: Mapping[str, Any],
        concept_ids: Sequence[str],
        vector_ids: Sequence[str],
        vectors: np.ndarray,
    ) -> InductiveRule:
        """From a Model node's ``inductive`` params and its written-back concept vectors
        (``vector_ids``, ``vectors``), aligned with the catalog's ``concept_ids``."""
        dim = vectors.shape[1]
        aligned = np.zeros((len(concept_ids), dim), dtype=np.float32)
        known = np.zeros(len(concept_ids), dtype=bool)
        position = {c: i for i, c in enumerate(concept_ids)}
        for row, concept in enumerate(vector_ids):
            if concept in position:
                aligned[position[concept]] = vectors[row]
                known[position[concept]] = True
        relations = {
            name: (float(entry["logit"]), np.asarray(entry["transform"], dtype=np.float32))
            for name, entry in params.get("relations", {}).items()
        }
        return cls(
            gate=float(params["gate"]),
            relations=relations,
            edge_weights=bool(params.get("edge_weights", True)),
            concept_vectors=aligned,
            concept_known=known,
        )

    def embed(self, links: Sequence[Link]) -> np.ndarray | None:
        """The new item's embedding, or ``None`` when none of its links is usable (a concept
        without a vector, or a relation the model never saw)."""
        groups: dict[str, list[tuple[int, float]]] = {}
        for concept, relation, weight in links:
            usable = concept < len(self.concept_known) and self.concept_known[concept]
            if usable and relation in self.relations:
                groups.setdefault(relation, []).append((concept, max(float(weight), 0.0)))
        if not groups:
            return None
        logits = np.asarray([self.relations[r][0] for r in groups], dtype=np.float64)
        mix = np.exp(logits - logits.max())
        mix /= mix.sum()
        message = np.zeros(self.concept_vectors.shape[1], dtype=np.float64)
        for share, (relation, members) in zip(mix, groups.items(), strict=True):
            concepts = np.asarray([c for c, _ in members])
            weights = np.asarray([w for _, w in members]) if self.edge_weights else None
            if weights is None or weights.sum() <= 0:
                weights = np.ones(len(members))
            mean = (weights[:, None] * self.concept_vectors[concepts]).sum(0) / weights.sum()
            message += share * self.relations[relation][1] * mean
        return (self.gate * message).astype(np.float32)

    def grown(self, num_concepts: int) -> InductiveRule:
        """The same rule over a catalog with more concepts (new ones have no vector)."""
        extra = num_concepts - len(self.concept_known)
        if extra <= 0:
            return self
        dim = self.concept_vectors.shape[1]
        return InductiveRule(
            gate=self.gate,
            relations=self.relations,
            edge_weights=self.edge_weights,
            concept_vectors=np.vstack([self.concept_vectors, np.zeros((extra, dim), np.float32)]),
            concept_known=np.append(self.concept_known, np.zeros(extra, dtype=bool)),
        )
