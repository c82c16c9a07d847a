"""Loss curves saved as PNG, shared by every training command."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from training.atomic import atomic_path

Series = tuple[Sequence[float], Sequence[float]]  # (x values, y values)


def save_line_plot(
    target: str | Path,
    series: Mapping[str, Series],
    *,
    title: str,
    xlabel: str = "iteration",
    ylabel: str = "loss",
) -> None:
    """Draw one line per named series and save the figure atomically as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for name, (xs, ys) in series.items():
        if len(xs):
            ax.plot(xs, ys, label=name, marker="o" if len(xs) < 30 else None, markersize=3)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
