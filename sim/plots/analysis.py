"""Figures of the analyses (:mod:`sim.analysis`): ranked sensitivity indices, the doctrine
tournament, and PRIM's peeling trajectory and box.

Built on Agg canvases without pyplot, as the other figures; :func:`save_figure` writes one
atomically.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.plots import _save_atomic
from sim.plots.style import BLUE, FONT, GREY, ORANGE, VERMILLION, _new_figure

#: width of a panel of ranked bars, and the height of one bar, in inches
PANEL_WIDTH = 6.5
BAR_HEIGHT = 0.32


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG at ``path``, atomically."""
    return _save_atomic(fig, path)


def sensitivity_figure(indices: pd.DataFrame, method: str, labels: dict[str, str]) -> Figure:
    """One panel per output: the parameters ranked by total Sobol index (bars: ST, with the
    first-order S1 inside, and their confidence intervals) or by Morris mu* (with sigma).

    Args:
        indices: :func:`sim.analysis.sensitivity.analyse`'s table.
        method: ``sobol`` or ``morris``.
        labels: how each output is named in the panels' titles.
    """
    outputs = list(dict.fromkeys(indices["output"]))
    k = indices["parameter"].nunique()
    columns = 1 if len(outputs) == 1 else 2
    rows = math.ceil(len(outputs) / columns)
    height = rows * (BAR_HEIGHT * k + 1.1) + 0.6
    fig = _new_figure((PANEL_WIDTH * columns, height))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, name in zip(axes, outputs, strict=False):
        table = indices[indices["output"] == name]
        _ranked_bars(ax, table, method)
        ax.set_title(labels.get(name, name), fontsize=FONT + 1, loc="left")
    for ax in axes[len(outputs) :]:
        ax.set_visible(False)
    title = {
        "sobol": "Sobol indices: total (ST, light) and first-order (S1, dark), 95% intervals",
        "morris": "Morris screening: mean absolute effect mu* (bars, 95% interval) and sigma",
    }[method]
    fig.suptitle(title, fontsize=FONT + 2)
    return fig


def _empty(ax, text: str) -> None:
    """A panel with nothing to draw: says why, in grey, with no axes' ticks."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=GREY)
    ax.set_xticks([])
    ax.set_yticks([])


def _ranked_bars(ax, table: pd.DataFrame, method: str) -> None:
    key = "ST" if method == "sobol" else "mu_star"
    if table[key].isna().all():
        _empty(ax, "does not vary over the sample")
        return
    table = table.sort_values(key, ascending=True, na_position="first")
    y = np.arange(len(table))
    names = table["parameter"].tolist()
    if method == "sobol":
        ax.barh(
            y,
            table["ST"].clip(lower=0),
            xerr=table["ST_conf"],
            color=BLUE,
            alpha=0.35,
            height=0.75,
            label="ST",
            error_kw={"ecolor": GREY, "capsize": 2},
        )
        ax.barh(
            y,
            table["S1"].clip(lower=0),
            xerr=table["S1_conf"],
            color=BLUE,
            height=0.4,
            label="S1",
            error_kw={"ecolor": "black", "capsize": 2},
        )
        ax.set_xlim(0, max(1.0, float((table["ST"] + table["ST_conf"]).max()) * 1.05))
        ax.set_xlabel("share of the output's variance")
    else:
        ax.barh(
            y,
            table["mu_star"],
            xerr=table["mu_star_conf"],
            color=BLUE,
            alpha=0.6,
            height=0.7,
            label="mu*",
            error_kw={"ecolor": GREY, "capsize": 2},
        )
        ax.plot(table["sigma"], y, "D", color=ORANGE, markersize=5, label="sigma")
        ax.set_xlabel("effect over the parameter's range (output units)")
    ax.set_yticks(y, names, fontsize=FONT - 1)
    ax.legend(fontsize=FONT - 1, loc="lower right", frameon=False)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)


def tournament_figure(pairs: pd.DataFrame, ranking: pd.DataFrame, labels: dict) -> Figure:
    """Three panels: mean US deaths and P(war) of every US doctrine (rows) against every
    Iranian doctrine (columns), and each US doctrine's robustness (share of worlds within
    the thresholds) with its largest regret in US deaths.

    Args:
        pairs: one row per (US, Iranian) doctrine pair: ``us``, ``iran``, ``mean_us_deaths``,
            ``mean_p_war``.
        ranking: one row per US doctrine, in rank order: ``us``, ``robustness``,
            ``max_regret_us_deaths``.
        labels: ``thresholds``, the text naming the robustness thresholds.
    """
    order = ranking["us"].tolist()
    iran = list(dict.fromkeys(pairs["iran"]))
    fig = _new_figure((15.0, 1.4 + 0.55 * len(order)))
    axes = fig.subplots(1, 3, width_ratios=[1, 1, 1.1])
    for ax, column, title, fmt in (
        (axes[0], "mean_us_deaths", "mean US deaths over the worlds", "{:.1f}"),
        (axes[1], "mean_p_war", "mean P(war) over the worlds", "{:.0%}"),
    ):
        grid = pairs.pivot(index="us", columns="iran", values=column).loc[order, iran]
        values = grid.to_numpy(dtype=float)
        image = ax.imshow(values, cmap="Oranges", aspect="auto")
        for (i, j), value in np.ndenumerate(values):
            dark = value > np.nanmax(values) * 0.6 if np.nanmax(values) > 0 else False
            ax.text(
                j,
                i,
                fmt.format(value),
                ha="center",
                va="center",
                fontsize=FONT - 1,
                color="white" if dark else "black",
            )
        ax.set_xticks(range(len(iran)), iran, rotation=20, ha="right", fontsize=FONT - 1)
        ax.set_yticks(range(len(order)), order, fontsize=FONT - 1)
        ax.set_xlabel("Iranian doctrine")
        ax.set_title(title, fontsize=FONT + 1, loc="left")
        fig.colorbar(image, ax=ax, shrink=0.8)
    axes[0].set_ylabel("US doctrine (best ranked on top)")
    ax = axes[2]
    y = np.arange(len(order))
    ax.barh(y, ranking["robustness"], color=BLUE, height=0.6)
    for i, row in enumerate(ranking.itertuples()):
        ax.text(
            min(row.robustness, 0.98) + 0.01,
            i,
            f"{row.robustness:.0%}, max regret {row.max_regret_us_deaths:.1f} US deaths",
            va="center",
            fontsize=FONT - 1,
            color=VERMILLION if row.robustness < 0.5 else "black",
        )
    ax.set_yticks(y, order, fontsize=FONT - 1)
    ax.set_xlim(0, 1.75)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "25%", "50%", "75%", "100%"])
    ax.set_xlabel(f"share of worlds with {labels['thresholds']}")
    ax.set_title("robustness (satisficing)", fontsize=FONT + 1, loc="left")
    ax.invert_yaxis()  # the best ranked on top, as in the heatmaps
    fig.suptitle("Doctrine tournament", fontsize=FONT + 2)
    return fig


def prim_figure(trajectory: pd.DataFrame, chosen: int, limits: pd.DataFrame, title: str) -> Figure:
    """PRIM's peeling trajectory (coverage against density, coloured by the number of
    restricted parameters, the chosen box ringed) beside the chosen box's limits, each
    parameter's restricted range drawn over its full range scaled to 0-1.

    Args:
        trajectory: ``coverage``, ``density``, ``res_dim`` of each box peeled.
        chosen: the row of the chosen box.
        limits: one row per restricted parameter: ``parameter``, ``low``, ``high``,
            ``range_low``, ``range_high``.
        title: the figure's title.
    """
    fig = _new_figure((13.0, 4.8))
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.1])
    points = left.scatter(
        trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=22
    )
    fig.colorbar(points, ax=left, label="parameters restricted")
    row = trajectory.iloc[chosen]
    left.scatter(
        [row["coverage"]],
        [row["density"]],
        s=160,
        facecolors="none",
        edgecolors=VERMILLION,
        linewidths=2,
        label="chosen box",
    )
    left.set_xlabel("coverage (share of the cases of interest inside the box)")
    left.set_ylabel("density (share of the box's cases that are of interest)")
    left.set_xlim(0, 1.02)
    left.set_ylim(0, 1.02)
    left.legend(fontsize=FONT - 1, loc="lower left", frameon=False)
    left.set_title("peeling trajectory", fontsize=FONT + 1, loc="left")
    _box_limits(right, limits)
    fig.suptitle(title, fontsize=FONT + 2)
    return fig


def _box_limits(ax, limits: pd.DataFrame) -> None:
    ax.set_title(
        "the chosen box: restricted range (dark) of each sampled range",
        fontsize=FONT + 1,
        loc="left",
    )
    if limits.empty:
        _empty(ax, "no parameter is restricted")
        return
    span = (limits["range_high"] - limits["range_low"]).replace(0, 1)
    lo = (limits["low"] - limits["range_low"]) / span
    hi = (limits["high"] - limits["range_low"]) / span
    y = np.arange(len(limits))
    ax.barh(y, np.ones(len(limits)), color="#EEEEEE", height=0.6)
    ax.barh(y, hi - lo, left=lo, color=BLUE, height=0.6)
    for i, row in enumerate(limits.itertuples()):
        ax.text(1.02, i, f"{row.low:.3g} to {row.high:.3g}", va="center", fontsize=FONT - 1)
    ax.set_yticks(y, limits["parameter"], fontsize=FONT - 1)
    ax.set_xlim(0, 1.5)
    ax.set_xticks([0, 0.5, 1], ["low", "mid", "high"])
    ax.invert_yaxis()


def feature_scores_figure(scores: pd.DataFrame) -> Figure:
    """Extra-trees feature scores: one row per parameter, one column per outcome."""
    fig = _new_figure((2.0 + 1.6 * scores.shape[1], 1.2 + 0.4 * scores.shape[0]))
    ax = fig.subplots()
    values = scores.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="Blues", aspect="auto", vmin=0)
    for (i, j), value in np.ndenumerate(values):
        ax.text(
            j,
            i,
            f"{value:.2f}",
            ha="center",
            va="center",
            fontsize=FONT - 1,
            color="white" if value > np.nanmax(values) * 0.6 else "black",
        )
    ax.set_xticks(range(scores.shape[1]), scores.columns, fontsize=FONT - 1)
    ax.set_yticks(range(scores.shape[0]), scores.index, fontsize=FONT - 1)
    fig.colorbar(image, ax=ax, shrink=0.8, label="importance (sums to 1 per outcome)")
    ax.set_title("Feature scores (extra trees)", fontsize=FONT + 1, loc="left")
    return fig
