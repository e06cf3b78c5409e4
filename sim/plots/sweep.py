"""Figures of a sweep, from its per-job summary: heatmaps over two swept parameters, lines
with intervals over one.

Three headline measures: the probability of reaching rung 5 or above (a US strike in Iraq or
an embassy assault), the mean attacks per month, and the probability of US withdrawal.
Probabilities carry 90% Wilson intervals (binomial, over the job's replicates); attacks per
month the 90% interval across replicates.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd

from sim.plots import _save_atomic
from sim.plots.style import BLUE, FONT, GREY, PURPLE, VERMILLION, _new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.sweep import SweepPlan

#: (summary column, title, colour map, is a probability)
MEASURES = (
    ("p_rung5", "P(rung 5 or above)", "Oranges", True),
    ("attacks_per_month", "Militia attacks per month (mean)", "Purples", False),
    ("p_withdrawal", "P(US withdrawal)", "Blues", True),
)
LINE_COLOURS = (VERMILLION, PURPLE, BLUE)
#: the interval of the figures
LEVEL = 0.90


def wilson_interval(p: np.ndarray, n: np.ndarray, level: float = LEVEL):
    """The Wilson score interval of a binomial proportion ``p`` over ``n`` trials."""
    # imported here: scipy.stats takes a second to import, which every command would pay
    from scipy.stats import norm

    z = norm.ppf(0.5 + level / 2)
    p, n = np.asarray(p, float), np.asarray(n, float)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _label(key: str) -> str:
    return key.split(".")[-1].replace("_", " ") if "/" not in key else key


def _levels(plan: SweepPlan, key: str) -> list:
    return list(dict.fromkeys(plan.values[key]))


def _tick(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def heatmap_figure(summary: pd.DataFrame, plan: SweepPlan) -> Figure:
    """Three heatmaps over the first two swept parameters (mean over any others)."""
    x_key, y_key = plan.keys[:2]
    others = plan.keys[2:]
    done = summary[summary["status"] == "ok"]
    xs, ys = _levels(plan, x_key), _levels(plan, y_key)
    fig = _new_figure((5.2 * len(MEASURES), 4.6))
    axes = fig.subplots(1, len(MEASURES))
    for ax, (column, title, cmap, is_p) in zip(axes, MEASURES, strict=True):
        grid = (
            done.groupby([y_key, x_key])[column]
            .mean()
            .unstack(x_key)
            .reindex(index=ys, columns=xs)
            .to_numpy(dtype=float)
        )
        masked = np.ma.masked_invalid(grid)
        top = 1.0 if is_p else max(float(np.nanmax(grid)) if np.isfinite(grid).any() else 1, 1e-9)
        colours = matplotlib.colormaps[cmap].with_extremes(bad=GREY)
        image = ax.imshow(masked, cmap=colours, vmin=0, vmax=top, origin="lower", aspect="auto")
        for (i, j), value in np.ndenumerate(grid):
            if np.isfinite(value):
                text = f"{value:.0%}" if is_p else f"{value:.1f}"
                dark = value > 0.6 * top
                ax.text(j, i, text, ha="center", va="center", fontsize=FONT - 1,
                        color="white" if dark else "black")  # fmt: skip
        ax.set_xticks(range(len(xs)), [_tick(v) for v in xs])
        ax.set_yticks(range(len(ys)), [_tick(v) for v in ys])
        ax.set_xlabel(_label(x_key))
        ax.set_ylabel(_label(y_key))
        ax.set_title(title, fontsize=FONT + 1)
        fig.colorbar(image, ax=ax, shrink=0.85, format="{x:.0%}" if is_p else "{x:g}")
    note = f" (mean over {', '.join(others)})" if others else ""
    fig.suptitle(f"{x_key} x {y_key}{note}; grey: no finished job", fontsize=FONT + 1)
    return fig


def lines_figure(summary: pd.DataFrame, plan: SweepPlan) -> Figure:
    """Three panels of a measure against one swept parameter, with 90% intervals."""
    (key,) = plan.keys[:1]
    done = summary[summary["status"] == "ok"].copy()
    levels = _levels(plan, key)
    done["_x"] = done[key].map({v: i for i, v in enumerate(levels)})
    done = done.dropna(subset=["_x"]).sort_values("_x")
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels)
    x = done[key].to_numpy(float) if numeric else done["_x"].to_numpy(float)
    fig = _new_figure((5.2 * len(MEASURES), 4.2))
    axes = fig.subplots(1, len(MEASURES))
    for ax, (column, title, _, is_p), colour in zip(axes, MEASURES, LINE_COLOURS, strict=True):
        y = done[column].to_numpy(float)
        if is_p:
            lo, hi = wilson_interval(y, done["replicates"].to_numpy(float))
            what = "90% Wilson interval"
        else:
            lo, hi = done[f"{column}_q05"].to_numpy(float), done[f"{column}_q95"].to_numpy(float)
            what = "90% of replicates"
        ax.fill_between(x, lo, hi, color=colour, alpha=0.2, lw=0, label=what)
        ax.plot(x, y, "o-", color=colour, label="estimate" if is_p else "mean")
        if not numeric:
            ax.set_xticks(range(len(levels)), [_tick(v) for v in levels])
        elif len(levels) <= 12:
            ax.set_xticks(sorted(levels), [_tick(v) for v in sorted(levels)])
        ax.set_xlabel(_label(key))
        ax.set_title(title, fontsize=FONT + 1)
        if is_p:
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter("{x:.0%}")
        ax.legend(fontsize=FONT - 1, loc="best")
    return fig


def save_sweep_figures(summary: pd.DataFrame, plan: SweepPlan, out: Path) -> dict[str, Path]:
    """Draw what the sweep's shape calls for into ``out``; returns {name: path}."""
    if len(plan.keys) >= 2:
        name, fig = "heatmaps", heatmap_figure(summary, plan)
    elif len(plan.keys) == 1:
        name, fig = "lines", lines_figure(summary, plan)
    else:
        return {}
    out.mkdir(parents=True, exist_ok=True)
    return {name: _save_atomic(fig, out / f"sweep_{name}.png")}
