"""The escalation timeline of one replicate: the figure and its top panel.

The top panel draws the highest rung reached each day, the events as markers at the rung
each reached, the day the highest rung was first reached and the terminal outcome. The
middle panel (weekly attacks, cumulative casualties) is drawn by
:mod:`sim.plots.timeline_weekly`, the bottom one (each actor's cumulative escalation score)
by :mod:`sim.plots.timeline_score`, the labels of key events by
:mod:`sim.plots.timeline_labels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from sim.plots.style import (
    BLACK,
    FONT,
    KIND_STYLE,
    RUNG_FILL,
    STAR_AREA,
    TIMELINE_SIZE,
    US_STRIKES,
    YELLOW,
    _attacks,
    _check_replicate,
    _counts,
    _event_x,
    _handle,
    _new_figure,
    _outcome,
    _plural,
    _rows,
    _site_labels,
    _text,
    weapon_style,
)
from sim.plots.timeline_labels import _annotate_key_events
from sim.plots.timeline_score import _draw_scores
from sim.plots.timeline_weekly import _date_axis, _draw_weekly

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sim.engine import RunResult


def timeline_figure(result: RunResult, replicate: int = 0) -> Figure:
    """The escalation ladder over time for one replicate.

    The top panel shows the highest rung reached each day (grey steps, rungs named on the
    y axis) with each event as a marker at the rung it reached; the few key events (rung 5
    and above, or a US withdrawal) carry a label with their date, and a star marks the day
    the highest rung was first reached. The middle panel shows weekly militia attacks by
    weapon and the cumulative US killed and wounded, the bottom panel each actor's
    cumulative escalation score (``configs/score/``).

    Args:
        result: a finished run.
        replicate: which replicate to draw (a value of ``result.replicates.replicate``).

    Returns:
        The figure (not attached to pyplot).

    Raises:
        ValueError: if the run has no such replicate.
    """
    cfg = result.config
    row = _check_replicate(result, replicate)
    daily = _rows(result.daily, replicate)
    events = _rows(result.events, replicate)
    labels = _site_labels(result.params.theatre)

    fig = _new_figure(TIMELINE_SIZE)
    grid = fig.add_gridspec(3, 1, height_ratios=(3.0, 1.15, 1.0))
    ax = fig.add_subplot(grid[0])
    ax_week = fig.add_subplot(grid[1], sharex=ax)
    ax_score = fig.add_subplot(grid[2], sharex=ax)

    start = mdates.date2num(pd.Timestamp(cfg.scenario.start_date))
    n_days = max(len(daily), 1)
    edges = start + np.arange(n_days + 1, dtype=float)
    rung = daily["rung"].to_numpy(dtype=float) if len(daily) else np.zeros(1)

    rungs = sorted(cfg.ladder.rungs, key=lambda r: r.level)
    top = rungs[-1].level if rungs else int(rung.max())
    reached = int(rung.max())

    handles = _draw_rungs(ax, edges, rung, rungs)
    weapons = result.params.weapon_names
    handles += _draw_event_markers(ax, events, weapons)
    handles += _mark_highest(ax, daily, rung, edges)
    _mark_outcome(ax, row, edges, daily)
    ax.set_ylim(-0.8, max(top + 0.8, reached + 2.0))
    ax.set_xlim(edges[0], edges[-1])
    ax.tick_params(labelbottom=False, labelsize=FONT)
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.01),
        ncol=min(len(handles), 5),
        fontsize=FONT,
        title="Grey: the highest rung reached each day.  Markers: events, at the rung each reached",
        title_fontsize=FONT,
        alignment="left",
        frameon=False,
        borderaxespad=0.2,
        columnspacing=1.5,
    )

    week_handles = _draw_weekly(ax_week, daily, edges, weapons)
    ax_week.tick_params(labelbottom=False)
    ax_week.legend(
        handles=week_handles,
        loc="upper left",
        bbox_to_anchor=(0.0, -0.02),
        ncol=min(len(week_handles), 4),  # five entries would run off the page
        fontsize=FONT,
        frameon=False,
        borderaxespad=0.2,
        columnspacing=1.5,
    )
    score_handles = _draw_scores(ax_score, daily, edges)
    ax_score.legend(
        handles=score_handles,
        loc="upper left",
        bbox_to_anchor=(0.0, -0.32),
        ncol=len(score_handles) or 1,
        fontsize=FONT,
        frameon=False,
        borderaxespad=0.2,
        columnspacing=1.5,
        title=f"Escalation score of each actor's events (scale: {cfg.score.name}), "
        "with its total at the end",
        title_fontsize=FONT,
        alignment="left",
    )
    _date_axis(ax_score, n_days)

    counts = _counts(events, weapons)
    fig.suptitle(
        f"Escalation timeline: {cfg.scenario.name} scenario, seed {cfg.seed}, "
        f"replicate {replicate}, outcome: {_outcome(row)}\n"
        f"{_plural(counts['attacks'], 'militia attack')}, {counts['killed_us']} US killed, "
        f"{counts['wounded_us']} US wounded, "
        f"{_plural(sum(counts[k] for k in US_STRIKES), 'US strike')}",
        fontsize=FONT + 3,
    )

    # Key-event labels go in last, once the layout is fixed, so their measured extents hold.
    fig.draw_without_rendering()
    _annotate_key_events(ax, events, rung, edges, labels)
    return fig


def _draw_rungs(ax: Axes, edges: np.ndarray, rung: np.ndarray, rungs) -> list:
    ax.stairs(rung, edges, fill=True, color=RUNG_FILL, lw=0, zorder=1)
    levels = [r.level for r in rungs]
    ax.set_yticks(levels)
    ax.set_yticklabels([f"{r.level} {r.name}" for r in rungs], fontsize=FONT)
    ax.set_ylabel("Escalation rung", fontsize=FONT)
    ax.grid(axis="y", color="#E8E8E8", lw=0.8, zorder=0)
    ax.set_axisbelow(True)
    return [Patch(facecolor=RUNG_FILL, label="Highest rung of the day")]


def _draw_event_markers(ax: Axes, events: pd.DataFrame, weapons: Sequence[str]) -> list:
    handles: list = []
    if events.empty:
        return handles
    x, y = _event_x(events), events["rung"].to_numpy(dtype=float)
    kind, weapon = _text(events["kind"]), _text(events["weapon"])
    attacks = _attacks(kind)
    groups: list[tuple[tuple[str, str, str], np.ndarray]] = [
        (weapon_style(w), attacks & (weapon == w)) for w in weapons
    ]
    seen: dict[tuple[str, str, str], np.ndarray] = {}
    for k, style in KIND_STYLE.items():
        mask = kind == k
        seen[style] = seen[style] | mask if style in seen else mask
    groups += list(seen.items())
    for (label, colour, marker), mask in groups:
        if not mask.any():
            continue
        big = marker in ("*", "h", "p", "X")
        ax.scatter(
            x[mask],
            y[mask],
            s=150 if big else 55,
            marker=marker,
            c=colour,
            edgecolors="white" if colour != BLACK else "#555555",
            linewidths=0.6,
            zorder=5,
        )
        handles.append(_handle(label, colour, marker, 12 if big else 8))
    return handles


def _mark_highest(ax: Axes, daily: pd.DataFrame, rung: np.ndarray, edges: np.ndarray):
    if daily.empty or rung.max() <= 0:
        return []
    level = int(rung.max())
    day = int(np.argmax(rung >= level))
    x = edges[day] + 0.5
    date = pd.Timestamp(daily["date"].iloc[day])
    ax.axvline(x, color=BLACK, ls=":", lw=1.2, zorder=3)
    ax.scatter(
        [x],
        [level],
        s=STAR_AREA,
        marker="*",
        c=YELLOW,
        edgecolors=BLACK,
        lw=1.0,
        zorder=4,
        gid="highest_rung",
    )
    return [
        _handle(
            f"Highest rung ({level}), first on {date:%d %b %Y}",
            YELLOW,
            "*",
            16,
            edge=BLACK,
        )
    ]


def _mark_outcome(ax: Axes, row: pd.Series, edges: np.ndarray, daily: pd.DataFrame) -> None:
    """Tint the days after a terminal outcome (war, withdrawal) and say what it was."""
    day = int(row.get("outcome_day", -1))
    if day < 0 or day >= len(daily):
        return
    x = edges[day]
    ax.axvspan(x, edges[-1], facecolor="#EFEFEF", lw=0, zorder=0)
    if edges[-1] - x > 0.2 * (edges[-1] - edges[0]):
        date = pd.Timestamp(daily["date"].iloc[day])
        ax.text(
            (x + edges[-1]) / 2,
            0.5,
            f"Outcome: {_outcome(row)}\nfrom {date:%d %b %Y}",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="center",
            fontsize=FONT + 3,
            zorder=6,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "#8C8C8C"},
        )
