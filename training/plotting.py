"""Loss curves and bar charts saved as PNG, shared by the training commands and benchmarks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from training.atomic import atomic_path

Series = tuple[Sequence[float], Sequence[float]]  # (x values, y values)
Bars = dict[str, tuple[float, float]]  # group label -> (value, standard error)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    return plt


def _save(fig, target: str | Path) -> None:
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    _pyplot().close(fig)


def save_line_plot(
    target: str | Path,
    series: Mapping[str, Series],
    *,
    title: str,
    xlabel: str = "iteration",
    ylabel: str = "loss",
) -> None:
    """Draw one line per named series and save the figure atomically as PNG."""
    fig, ax = _pyplot().subplots(figsize=(7, 4.2), dpi=110)
    for name, (xs, ys) in series.items():
        if len(xs):
            ax.plot(xs, ys, label=name, marker="o" if len(xs) < 30 else None, markersize=3)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, target)


def save_bar_plot(
    target: str | Path, series: Mapping[str, Bars], *, title: str, ylabel: str
) -> None:
    """Grouped bars with standard-error whiskers: one colour per named series, one group per
    label (every series has the same labels), saved atomically as PNG."""
    labels = list(next(iter(series.values())))
    width = 0.8 / len(series)
    fig, ax = _pyplot().subplots(figsize=(max(6.0, 1.4 * len(labels) + 2), 4.2), dpi=110)
    for number, (name, bars) in enumerate(series.items()):
        xs = [index + (number - (len(series) - 1) / 2) * width for index in range(len(labels))]
        values, errors = zip(*(bars[label] for label in labels), strict=True)
        ax.bar(xs, values, width, yerr=errors, capsize=3, label=name)
    ax.set_xticks(range(len(labels)), labels, rotation=15, ha="right")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    _save(fig, target)
