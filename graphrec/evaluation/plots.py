"""PNG plots of training runs and model comparisons.

Figures are built with matplotlib's object API and rendered by the Agg
backend, so plotting works without a display and never touches pyplot's
global state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def plot_history(history: Sequence[Mapping[str, float]], path: str | Path, title: str = "") -> Path:
    """Training loss and validation metrics per epoch, side by side.

    Args:
        history: One dict per epoch with ``"epoch"``, ``"loss"`` and optional
            ``"val_<metric>"`` entries, as in :attr:`graphrec.training.TrainResult.history`.
        path: Where to write the PNG.
        title: Figure title.
    """
    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    loss_axes, metric_axes = figure.subplots(1, 2)
    epochs = [row["epoch"] for row in history]
    loss_axes.plot(epochs, [row["loss"] for row in history], marker=".")
    loss_axes.set(xlabel="epoch", ylabel="BPR loss", title="training loss")
    val_names = sorted({name for row in history for name in row if name.startswith("val_")})
    for name in val_names:
        points = [(row["epoch"], row[name]) for row in history if name in row]
        metric_axes.plot(*zip(*points, strict=True), marker=".", label=name.removeprefix("val_"))
    metric_axes.set(xlabel="epoch", title="validation")
    if val_names:
        metric_axes.legend()
    if title:
        figure.suptitle(title)
    figure.savefig(path, dpi=100)
    return Path(path)


def plot_comparison(
    rows: Mapping[str, Mapping[str, float]], metrics: Sequence[str], path: str | Path
) -> Path:
    """Grouped bars: one group per metric, one bar per model.

    Args:
        rows: Metric values by model name, then metric name.
        metrics: The metrics to draw (e.g. ``["recall@20", "ndcg@20"]``).
        path: Where to write the PNG.
    """
    figure = Figure(figsize=(max(6, 1.5 * len(metrics) * max(1, len(rows)) / 2), 4))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    width = 0.8 / max(1, len(rows))
    for index, (model, values) in enumerate(rows.items()):
        positions = [m + index * width for m in range(len(metrics))]
        axes.bar(positions, [values.get(name, 0.0) for name in metrics], width, label=model)
    axes.set_xticks([m + 0.4 - width / 2 for m in range(len(metrics))], list(metrics))
    axes.set_ylabel("value")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return Path(path)
