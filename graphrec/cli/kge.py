"""``graphrec kge``: knowledge-graph embeddings with PyKEEN (train, predict, runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from graphrec.cli._common import load_settings

kge_app = typer.Typer(
    help="Knowledge-graph embeddings with PyKEEN: train on the graph's triples, write the "
    "entity embeddings back, predict missing links (e.g. genres or tags of an item).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(kge_app, name="kge")


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def _relations(values: list[str] | None) -> list[str] | None:
    """``--relation a --relation b`` or ``--relation a,b``."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _ratios(value: str) -> list[float]:
    try:
        ratios = [float(part) for part in value.split(",")]
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: give three numbers like 0.8,0.1,0.1", param_hint="--split"
        ) from None
    return ratios


@kge_app.command("train")
def train_command(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="PyKEEN model: TransE, RotatE, DistMult, ComplEx, ... (any name PyKEEN knows; "
            "an unknown name lists them).",
        ),
    ] = "TransE",
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs.")] = 100,
    dim: Annotated[
        int,
        typer.Option(
            min=1,
            help="Embedding dimension. Complex models (RotatE, ComplEx) have DIM complex "
            "coordinates, stored as 2 x DIM reals.",
        ),
    ] = 64,
    lr: Annotated[float, typer.Option(min=0.0, help="Adam learning rate.")] = 0.01,
    negatives: Annotated[
        int, typer.Option(min=1, help="Negative samples per positive triple.")
    ] = 4,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Triples per step.")] = 256,
    seed: Annotated[int, typer.Option(help="Seeds the split, initialisation and sampling.")] = 0,
    relation: Annotated[
        list[str] | None,
        typer.Option(
            "--relation",
            "--relations",
            "-r",
            help="Train on these relations only (repeat, or comma-separated), e.g. "
            "-r has_genre,has_tag. Default: all.",
        ),
    ] = None,
    include_interactions: Annotated[
        bool,
        typer.Option(
            "--include-interactions/--no-interactions",
            help="Add each user-item interaction as a triple (user:<id>, interacted, item).",
        ),
    ] = False,
    split: Annotated[
        str, typer.Option(help="Train, validation and test shares of the triples.")
    ] = "0.8,0.1,0.1",
    patience: Annotated[
        int,
        typer.Option(
            min=0,
            help="Early stopping: check validation MRR every --check-every epochs, stop after "
            "this many checks without improvement and restore the best weights. 0 trains "
            "all epochs.",
        ),
    ] = 0,
    check_every: Annotated[
        int, typer.Option("--check-every", min=1, help="Epochs between early-stopping checks.")
    ] = 10,
    loss: Annotated[
        str | None,
        typer.Option(
            help="PyKEEN loss: marginranking, softplus, nssa, bcewithlogits, ... "
            "Default: the model's own."
        ),
    ] = None,
    max_eval_triples: Annotated[
        int | None,
        typer.Option(
            "--max-eval-triples",
            min=1,
            help="Evaluate on a random subset of this many test (and validation) triples; "
            "for large graphs. The rest still count as known facts.",
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="CPU threads for torch (default: torch's choice). On a busy shared machine "
            "1 can be many times faster.",
        ),
    ] = None,
    run_name: Annotated[
        str | None,
        typer.Option(
            "--run-name",
            help="Save the run as <data dir>/kge/RUN_NAME (default: the model's name, e.g. "
            "transe). 'graphrec kge predict --run' and 'graphrec train --init-from-kge' use it.",
        ),
    ] = None,
    write_back: Annotated[
        bool,
        typer.Option(
            "--write-back/--no-write-back",
            help="Write the entity embeddings into the graph as emb_<model>_v<n> on Concept, "
            "Item (and User) nodes, with a (:Model) node.",
        ),
    ] = True,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
    metrics_out: Annotated[
        Path | None,
        typer.Option("--metrics-out", metavar="FILE", help="Also write metrics as JSON to FILE."),
    ] = None,
) -> None:
    """Train knowledge-graph embeddings on the graph's triples and evaluate them.

    Triples: item-concept (HAS_CONCEPT, by relation: has_genre, has_tag, ...),
    concept-concept (RELATED by relation; SUBCONCEPT_OF as subconcept_of) and,
    with --include-interactions, user-item. They are split into train /
    validation / test with shared entity ids, trained with PyKEEN and evaluated
    with the filtered rank-based evaluator (realistic ranks: MRR, Hits@1/3/10).

    Saves the run (PyKEEN's files, metrics.json, losses.png, embeddings.npz)
    under <data dir>/kge/<run name>.

    Examples:

      graphrec kge train --model TransE --epochs 100 --dim 64

      graphrec kge train -m RotatE --dim 32 -r has_genre,has_tag --run-name rotate-tags
    """
    from graphrec.graph.connect import connect
    from graphrec.kge import KGEError, export_kg, kge_model_name, train_kge
    from graphrec.kge import write_back as write_kge_back

    ratios = _ratios(split)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    try:
        name = kge_model_name(model)  # an unknown model fails here, before any export
    except KGEError as exc:
        raise typer.BadParameter(str(exc), param_hint="--model") from None
    settings = load_settings()
    run_dir = settings.data_dir / "kge" / (run_name or name)
    try:
        with connect(settings) as graph:
            triples = export_kg(
                graph, include_interactions=include_interactions, relations=_relations(relation)
            )
            counts = ", ".join(f"{r} {n:,}" for r, n in triples.relation_counts().items())
            typer.echo(f"{len(triples):,} triples ({counts or 'none'})", err=True)
            result = train_kge(
                triples=triples,
                model=model,
                dim=dim,
                epochs=epochs,
                lr=lr,
                negatives=negatives,
                batch_size=batch_size,
                ratios=ratios,
                seed=seed,
                device=device,
                loss=loss,
                patience=patience,
                check_every=check_every,
                max_eval_triples=max_eval_triples,
            )
            result.config["run"] = str(run_dir)
            result.save(run_dir)
            for warning in result.warnings:
                typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
            if write_back:
                record = write_kge_back(graph, result)
                result.save_metrics(run_dir)
                typer.echo(
                    f"embeddings written as {record.property} (model {record.id}, "
                    f"dim {record.dim})",
                    err=True,
                )
    except KGEError as exc:
        raise _fail(str(exc)) from None
    typer.echo(result.table())
    typer.echo(result.summary())
    typer.echo(f"run saved in {run_dir}", err=True)
    if metrics_out is not None:
        metrics_out.parent.mkdir(parents=True, exist_ok=True)
        metrics_out.write_text(json.dumps(result.metrics, indent=2) + "\n")


@kge_app.command("predict")
def predict_command(
    relation: Annotated[
        str, typer.Option("--relation", "-r", help="Relation, e.g. has_genre or has_tag.")
    ],
    head: Annotated[
        str | None,
        typer.Option(
            help="Head entity: an item or concept business id, or user:<id>. Ranks tails."
        ),
    ] = None,
    tail: Annotated[
        str | None, typer.Option(help="Tail entity instead of --head: ranks heads.")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--top", min=1, help="How many to return.")] = 10,
    run: Annotated[
        str | None,
        typer.Option(help="Run name under <data dir>/kge, or a run folder. Default: the newest."),
    ] = None,
    include_known: Annotated[
        bool,
        typer.Option(
            "--include-known/--new-only",
            help="Also list candidates already in the graph (marked known).",
        ),
    ] = False,
    all_entities: Annotated[
        bool,
        typer.Option(
            "--all-entities",
            help="Rank every entity, not only those seen in that position of the relation "
            "(e.g. only genres for has_genre).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Predict missing links with a saved run: the top tails of (HEAD, RELATION, ?).

    Needs no database: it reads the saved run. Scores are the model's own
    (higher is more plausible; TransE and RotatE scores are negative distances).

    Examples:

      graphrec kge predict --head 1 --relation has_tag -k 5

      graphrec kge predict --tail genre:comedy --relation has_genre --run transe
    """
    from graphrec.kge import KGEError, load_run

    settings = load_settings()
    try:
        loaded = load_run(run, data_dir=settings.data_dir)
        predictions = loaded.predict(
            relation=relation,
            head=head,
            tail=tail,
            k=k,
            include_known=include_known,
            range_only=not all_entities,
        )
    except KGEError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"run {loaded.name} ({loaded.config.get('model')})", err=True)
    if as_json:
        typer.echo(json.dumps([p.__dict__ for p in predictions], indent=2))
        return
    target = "tail" if head is not None else "head"
    width = max([len(target)] + [len(p.label) for p in predictions])
    typer.echo(f"{'rank':>4}  {target:<{width}}  {'node':<7}  {'score':>9}  known")
    for rank, p in enumerate(predictions, 1):
        typer.echo(
            f"{rank:>4}  {p.label:<{width}}  {p.node_label or '-':<7}  {p.score:>9.4f}  "
            f"{'yes' if p.known else ''}"
        )


@kge_app.command("runs")
def runs_command() -> None:
    """List saved KGE runs, newest first, with their test MRR and Hits@10."""
    from graphrec.kge import KGERun, list_runs, runs_dir

    settings = load_settings()
    runs = list_runs(settings.data_dir)
    if not runs:
        typer.echo(f"no KGE runs in {runs_dir(settings.data_dir)}", err=True)
        return
    for path in runs:
        loaded = KGERun(path)
        test = loaded.metrics.get("test", {}).get("both", {})
        typer.echo(
            f"{loaded.name:<20} {loaded.config.get('model', '?'):<10} "
            f"dim {loaded.embeddings.dim:<4} MRR {test.get('mrr', float('nan')):.4f}  "
            f"Hits@10 {test.get('hits@10', float('nan')):.4f}  "
            f"{loaded.metrics.get('written_as', 'not written back')}"
        )
