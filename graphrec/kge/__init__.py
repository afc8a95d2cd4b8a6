"""Knowledge-graph embeddings with PyKEEN: train, evaluate, save, write back, predict, reuse.

- :mod:`~graphrec.kge.triples`: labelled triples from the graph (:func:`export_kg`,
  :func:`kg_triples`). Entity labels are business ids; users are ``"user:<id>"``.
- :mod:`~graphrec.kge.pipeline`: :func:`train_kge`, one keyword-only entry
  point around PyKEEN's ``pipeline`` (split with shared ids, train a model
  chosen by name, filtered rank-based evaluation), returning a
  :class:`KGEResult` that can save itself.
- :mod:`~graphrec.kge.embeddings`: entity vectors in real form (complex models:
  ``[real parts..., imaginary parts...]``, ``2d`` reals) and their write-back
  as ``emb_<model>_v<n>`` node properties (:func:`write_back`).
- :mod:`~graphrec.kge.runs`: saved runs under ``<data dir>/kge/<name>``
  (:func:`load_run`), link prediction (:meth:`KGERun.predict`) and the
  relation-aware GNN's concept initialisation (:func:`concept_init`).

Example::

    with connect(settings) as graph:
        result = train_kge(triples=export_kg(graph), model="TransE", dim=64, epochs=100)
        result.save(settings.data_dir / "kge" / "transe")
        write_back(graph, result)
    load_run("transe").predict(head="1", relation="has_tag", k=5)
"""

from graphrec.kge.embeddings import (
    EntityEmbeddings,
    real_form,
    write_back,
    write_kge_embeddings,
)
from graphrec.kge.errors import KGEDimensionError, KGEError, UnknownKGEModelError
from graphrec.kge.pipeline import (
    KGEResult,
    kge_model_name,
    resolve_kge_model,
    train_kge,
)
from graphrec.kge.runs import (
    KGERun,
    Prediction,
    concept_init,
    list_runs,
    load_run,
    resolve_run,
    runs_dir,
)
from graphrec.kge.triples import (
    INTERACTED_RELATION,
    SUBCONCEPT_RELATION,
    USER_PREFIX,
    LabelledTriples,
    export_kg,
    kg_triples,
)

__all__ = [
    "INTERACTED_RELATION",
    "SUBCONCEPT_RELATION",
    "USER_PREFIX",
    "EntityEmbeddings",
    "KGEDimensionError",
    "KGEError",
    "KGEResult",
    "KGERun",
    "LabelledTriples",
    "Prediction",
    "UnknownKGEModelError",
    "concept_init",
    "export_kg",
    "kg_triples",
    "kge_model_name",
    "list_runs",
    "load_run",
    "real_form",
    "resolve_kge_model",
    "resolve_run",
    "runs_dir",
    "train_kge",
    "write_back",
    "write_kge_embeddings",
]
