"""The timeline's escalation-score panel: each actor's cumulative escalation score.

Every event adds the score of its kind (``configs/score/``) to its actor's score; the panel
draws, day by day, each actor's running total, from the daily ``score_<actor>`` columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from sim.daily import SCORE_COLUMNS
from sim.plots.style import BLACK, BLUE, FONT, GREEN, SKY, VERMILLION

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

#: each actor's line: (legend label, colour, line style), by daily column
SCORE_STYLE = {
    "score_militia": ("Militias", VERMILLION, "-"),
    "score_us": ("United States", BLUE, "-"),
    "score_iran": ("Iran", GREEN, "--"),
    "score_israel": ("Israel", SKY, "-."),
    "score_iraq_gov": ("Iraqi government", BLACK, ":"),
}
#: the score of one violent act on the scale of configs/score/rivera2024.yaml: below it the
#: axis is linear, above it logarithmic when one actor's total dwarfs the others'
LINEAR_UP_TO = 28.0


def _draw_scores(ax: Axes, daily: pd.DataFrame, edges: np.ndarray) -> list:
    """Each actor's cumulative escalation score; returns the legend handles (each label
    ends with the actor's total at the end of the run)."""
    n_days = len(edges) - 1
    handles: list = []
    low, high = 0.0, 1.0
    for column in SCORE_COLUMNS:
        if column not in daily.columns or daily.empty:
            continue
        label, colour, style = SCORE_STYLE.get(column, (column, BLACK, "-"))
        total = np.cumsum(daily[column].to_numpy(dtype=float))[:n_days]
        ax.stairs(total, edges[: len(total) + 1], baseline=None, color=colour, ls=style, lw=1.8)
        low, high = min(low, float(total.min())), max(high, float(total.max()))
        end = f"{total[-1]:g}"
        handles.append(Line2D([], [], color=colour, ls=style, lw=1.8, label=f"{label} ({end})"))
    if high > 10 * LINEAR_UP_TO:
        # the militias' harassment would otherwise flatten the states' lines onto zero
        ax.set_yscale("symlog", linthresh=LINEAR_UP_TO, linscale=0.5)
        ax.set_ylim(min(low * 2.5, -1.0), high * 2.5)
        # zero and the powers of ten past the linear part (ticks inside it would crowd)
        powers = 10.0 ** np.arange(2, np.ceil(np.log10(max(high, -low) * 2.5)))
        ticks = [*(-powers[powers <= -low * 2.5])[::-1], 0.0, *powers[powers <= high * 2.5]]
        ax.set_yticks(ticks)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        note = f"\n(log above {LINEAR_UP_TO:g})"
    else:
        ax.set_ylim(min(low * 1.25, -1.0), high * 1.25)
        note = ""
    ax.axhline(0.0, color="#8C8C8C", lw=0.8, zorder=0)
    ax.set_ylabel(f"Escalation score\n(cumulative){note}", fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.grid(axis="y", color="#E8E8E8", lw=0.8)
    ax.set_axisbelow(True)
    return handles
