"""The timeline's bottom panel and date axis.

Draws militia attacks per week, stacked by weapon, with the cumulative US killed and
wounded on a second axis, and formats the shared date axis of the timeline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.plots.style import BLACK, FONT, weapon_style

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes


def _draw_weekly(ax: Axes, daily: pd.DataFrame, edges: np.ndarray, weapons: Sequence[str]) -> list:
    n_days = len(edges) - 1
    week = np.arange(n_days) // 7
    n_weeks = int(week[-1]) + 1
    left = edges[0] + 7.0 * np.arange(n_weeks)
    width = np.minimum(7.0, edges[-1] - left)
    bottom = np.zeros(n_weeks)
    handles: list = []
    for w in weapons:
        label, colour, _ = weapon_style(w)
        column = f"attacks_{w}"
        if column not in daily.columns or daily.empty:
            continue
        per_week = np.bincount(week, weights=daily[column].to_numpy(dtype=float), minlength=n_weeks)
        if not per_week.any():
            continue
        ax.bar(left, per_week, width=width * 0.9, bottom=bottom, align="edge", color=colour, lw=0)
        bottom += per_week
        handles.append(Patch(facecolor=colour, label=f"{label}s per week"))
    ax.set_ylim(0, max(bottom.max() * 1.15, 1.0))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    ax.set_ylabel("Attacks\nper week", fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.grid(axis="y", color="#E8E8E8", lw=0.8)
    ax.set_axisbelow(True)

    twin = ax.twinx()
    totals = {}
    for column, label, style in (
        ("killed_us", "US killed (cumulative)", "-"),
        ("wounded_us", "US wounded (cumulative)", "--"),
    ):
        values = daily[column].to_numpy(dtype=float) if column in daily else np.zeros(0)
        total = np.cumsum(values) if len(values) else np.zeros(n_days)
        twin.stairs(total, edges, baseline=None, color=BLACK, ls=style, lw=1.8, zorder=3)
        totals[column.split("_")[0]] = total
        handles.append(Line2D([], [], color=BLACK, ls=style, lw=1.8, label=label))
    highest = max(1.0, *(float(t.max()) for t in totals.values()))
    if highest > 50:
        # one mass-casualty strike would otherwise flatten the killed line onto zero
        twin.set_yscale("symlog", linthresh=10, linscale=1.0)
        twin.set_ylim(0, highest * 2.5)
        twin.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        scale_note = "\n(log scale above 10)"
    else:
        twin.set_ylim(0, highest * 1.25)
        twin.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        scale_note = ""
    ends = {what: float(total[-1]) for what, total in totals.items()}
    scale = twin.yaxis.get_transform().transform
    lo, hi = scale(np.array(twin.get_ylim()))
    height = np.ptp(scale(np.array(list(ends.values())))) / (hi - lo)
    if height < 0.12:
        # end labels this close would overprint each other: write one
        ends = {", ".join(f"{int(v)} {what}" for what, v in ends.items()): max(ends.values())}
    else:
        ends = {f"{int(v)} {what}": v for what, v in ends.items()}
    for text, value in ends.items():
        twin.annotate(
            text,
            xy=(edges[-1], value),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=FONT,
            zorder=4,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    twin.set_ylabel(f"US casualties\n(cumulative){scale_note}", fontsize=FONT)
    twin.tick_params(labelsize=FONT)
    return handles


def _date_axis(ax: Axes, n_days: int) -> None:
    """Month ticks (the year under January and the first tick); days or years at the extremes."""
    months = n_days / 30.4
    if months > 36:
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    elif months >= 2:
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=math.ceil(months / 15)))
        ax.xaxis.set_major_formatter(FuncFormatter(_month_label))
    else:
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=math.ceil(n_days / 10)))
        ax.xaxis.set_major_formatter(FuncFormatter(_day_label))
    ax.tick_params(axis="x", labelsize=FONT)


def _day_label(value: float, pos: int | None) -> str:
    date = mdates.num2date(value)
    return (
        f"{date:%d %b}\n{date:%Y}"
        if pos == 0 or (date.month, date.day) == (1, 1)
        else f"{date:%d %b}"
    )


def _month_label(value: float, pos: int | None) -> str:
    date = mdates.num2date(value)
    return f"{date:%b}\n{date:%Y}" if pos == 0 or date.month == 1 else f"{date:%b}"
