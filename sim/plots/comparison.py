"""The comparison of variants run on the same random draws.

Draws, per variant, the mean highest rung reached so far, the share of replicates that have
reached rung 4 (a US strike, or an embassy assault at rung 5) and an Iranian state strike,
and the militia attacks per week.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from sim.plots.style import (
    BLACK,
    BLUE,
    FONT,
    GREEN,
    GREY,
    ORANGE,
    PURPLE,
    SKY,
    VERMILLION,
    _new_figure,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.compare import Comparison


VARIANT_COLOURS = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK)


def ladder_comparison_figure(comparison: Comparison) -> Figure:
    """The escalation ladder over time under several variants run on the same draws.

    Top: the highest rung reached so far, averaged over replicates, on the named ladder.
    Middle: the share of replicates that have reached rung 4 or higher (a US strike, or an
    embassy assault, which needs none) and an Iranian state strike (rung 7) by each date.
    Bottom: militia attacks per week (mean per replicate).
    """
    first = next(iter(comparison.results.values()))
    cfg = first.config
    start = pd.Timestamp(cfg.scenario.start_date)
    days, replicates = next(iter(comparison.rungs.values())).shape
    dates = start + pd.to_timedelta(np.arange(days), "D")

    fig = _new_figure((14.0, 10.0))
    top, mid, low = fig.subplots(3, 1, sharex=True, height_ratios=[3, 2, 1.6])
    for (name, rungs), colour in zip(comparison.rungs.items(), VARIANT_COLOURS, strict=False):
        highest = np.maximum.accumulate(rungs, axis=0)
        top.plot(dates, highest.mean(axis=1), color=colour, lw=2.4, label=name)
        mid.plot(dates, (highest >= 4).mean(axis=1), color=colour, lw=2.2)
        mid.plot(dates, (highest >= 7).mean(axis=1), color=colour, lw=1.6, ls="--")
        daily = pd.Series(comparison.attacks[name].mean(axis=1), index=dates)
        weekly = daily.resample("W").mean() * 7  # partial weeks at the ends stay comparable
        low.plot(weekly.index, weekly.to_numpy(), color=colour, lw=2.0, drawstyle="steps-mid")

    levels = [r.level for r in cfg.ladder.rungs]
    top.set_yticks(levels, [f"{r.level} {r.name}" for r in cfg.ladder.rungs], fontsize=FONT)
    top.set_ylim(0, max(levels) + 0.3)
    top.set_ylabel("Highest rung so far\n(mean over replicates)", fontsize=FONT + 1)
    top.grid(axis="y", color="#E5E5E5")
    top.legend(
        title="variant",
        fontsize=FONT + 1,
        title_fontsize=FONT + 1,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )
    mid.set_ylim(0, 1)
    mid.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    mid.set_ylabel("Replicates that have\nreached the rung", fontsize=FONT + 1)
    mid.grid(color="#E5E5E5")
    mid.legend(
        handles=[
            Line2D(
                [], [], color=GREY, lw=2.2, label="rung 4 or higher (a US strike or an assault)"
            ),
            Line2D([], [], color=GREY, lw=1.6, ls="--", label="rung 7 or higher (Iran strikes)"),
        ],
        fontsize=FONT + 1,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )
    low.set_ylabel("Attacks per week\n(mean per replicate)", fontsize=FONT + 1)
    low.grid(color="#E5E5E5")
    low.xaxis.set_major_locator(mdates.MonthLocator())
    low.xaxis.set_major_formatter(mdates.ConciseDateFormatter(low.xaxis.get_major_locator()))
    for ax in (top, mid, low):
        ax.tick_params(labelsize=FONT)
    fig.suptitle(
        f"Escalation under {len(comparison.results)} variants on the same random draws: "
        f"{cfg.scenario.name} scenario, seed {cfg.seed}, {replicates} replicates",
        fontsize=FONT + 3,
    )
    return fig
