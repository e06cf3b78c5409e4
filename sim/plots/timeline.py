"""Figures of one replicate of a run: the escalation timeline and the theatre map.

Figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas, never through
pyplot, so drawing touches no global state and needs no display. Colours follow the
Okabe-Ito palette, which stays distinguishable under the common forms of colour blindness.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import Bbox, offset_copy

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.compare import Comparison
    from sim.engine import RunResult
    from sim.theatre import Theatre

# --- palette and styles --------------------------------------------------------------------

ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
BLACK = "#000000"
GREY = "#999999"
RUNG_FILL = "#BDBDBD"

DPI = 150
#: figure sizes in inches (the PNGs are these times DPI pixels)
TIMELINE_SIZE = (14.0, 8.5)
MAP_SIZE = (14.0, 10.0)
FONT = 10

#: militia weapons: (legend label, colour, marker)
WEAPON_STYLE = {
    "rocket": ("Rocket attack", ORANGE, "^"),
    "ied": ("Convoy IED", VERMILLION, "s"),
    "drone": ("Drone attack", PURPLE, "D"),
}
#: event kinds drawn as markers besides militia attacks: (legend label, colour, marker)
KIND_STYLE = {
    "us_strike_syria": ("US airstrike", BLUE, "v"),
    "us_strike_iraq": ("US airstrike", BLUE, "v"),
    "decapitation": ("US decapitation strike", BLUE, "X"),
    "embassy_assault": ("Embassy assault", BLACK, "p"),
    "israeli_strike": ("Israeli airstrike", SKY, "P"),
    "iran_direct_strike": ("Iranian missile strike", GREEN, "*"),
    "open_war": ("Open war", BLACK, "h"),
}
#: short names for the annotations of key events
KIND_TEXT = {
    "us_strike_syria": "US strike in Syria",
    "us_strike_iraq": "US strike in Iraq",
    "decapitation": "Decapitation strike",
    "embassy_assault": "Embassy assault",
    "iran_direct_strike": "Iranian missile strike",
    "open_war": "Open war",
    "us_withdrawal": "US withdrawal",
}
#: rung at or above which an event is annotated on the timeline
KEY_RUNG = 5
#: marker area (points squared) of the highest-rung star
STAR_AREA = 520
#: at most this many key days get a text label (the rest keep their markers)
MAX_ANNOTATIONS = 10
#: sites by side on the map: (legend label, colour, marker, size)
SIDE_STYLE = {
    "us": ("US site", BLUE, "s", 70),
    "militia": ("Militia stronghold / depot", PURPLE, "^", 70),
    "iran": ("Iranian border crossing", GREEN, "D", 60),
    "logistics": ("Logistics hub", "white", "o", 40),
}
#: route kinds on the map: (legend label, colour, line style)
ROUTE_STYLE = {
    "us_logistics": ("US logistics road", BLUE, "-"),
    "iran_supply": ("Iranian land bridge", GREEN, "--"),
}
#: map markers of strikes, offset (in points) from the struck site so they do not hide it
STRIKE_OFFSET = {
    "us_strike_syria": (9, 9),
    "us_strike_iraq": (9, 9),
    "decapitation": (9, -9),
    "israeli_strike": (-9, 9),
    "iran_direct_strike": (0, 12),
    "embassy_assault": (-10, -9),
}
US_STRIKES = ("us_strike_syria", "us_strike_iraq", "decapitation")


# --- shared helpers ------------------------------------------------------------------------


def _new_figure(size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _check_replicate(result: RunResult, replicate: int) -> pd.Series:
    """The replicate's row of the outcome table; ValueError if the run has no such replicate."""
    table = result.replicates
    rows = table[table["replicate"] == replicate]
    if rows.empty:
        have = ", ".join(str(int(r)) for r in table["replicate"])
        raise ValueError(f"replicate {replicate} is not in this result (replicates: {have})")
    return rows.iloc[0]


def _rows(frame: pd.DataFrame, replicate: int) -> pd.DataFrame:
    return frame[frame["replicate"] == replicate].reset_index(drop=True)


def _text(series: pd.Series) -> np.ndarray:
    """A string column as a plain object array (missing values as "")."""
    return series.astype(object).fillna("").to_numpy()


def _pretty(name: str) -> str:
    return name.replace("_", " ")


def _short_label(label: str) -> str:
    """A site's display label without its parenthesised or slash-separated additions."""
    for sep in (" / ", " ("):
        label = label.split(sep)[0]
    return label


def _site_labels(theatre: Theatre) -> dict[str, str]:
    return {s.name: (s.label or _pretty(s.name)) for s in theatre.config.sites}


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _outcome(row: pd.Series) -> str:
    return _pretty(str(row["outcome"])) if "outcome" in row.index else "unknown outcome"


def _counts(events: pd.DataFrame) -> dict[str, int]:
    """Headline counts of one replicate's events."""
    kind, actor, weapon = _text(events["kind"]), _text(events["actor"]), _text(events["weapon"])
    attacks = (actor == "militia") & (kind != "embassy_assault")
    out = {"attacks": int(attacks.sum())}
    for w in WEAPON_STYLE:
        out[f"attacks_{w}"] = int((attacks & (weapon == w)).sum())
    for k in (*US_STRIKES, "embassy_assault", "israeli_strike", "iran_direct_strike"):
        out[k] = int((kind == k).sum())
    out["site_closed"] = int((kind == "site_closed").sum())
    out["killed_us"] = int(events["killed_us"].sum())
    out["wounded_us"] = int(events["wounded_us"].sum())
    return out


def _overlap(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def _handle(label: str, colour: str, marker: str, size: float = 9, **kw) -> Line2D:
    return Line2D(
        [],
        [],
        ls="none",
        marker=marker,
        markersize=size,
        markerfacecolor=colour,
        markeredgecolor=kw.pop("edge", "white" if colour != "white" else BLACK),
        label=label,
        **kw,
    )


# --- timeline ------------------------------------------------------------------------------


def timeline_figure(result: RunResult, replicate: int = 0) -> Figure:
    """The escalation ladder over time for one replicate.

    The top panel shows the highest rung reached each day (grey steps, rungs named on the
    y axis) with each event as a marker at the rung it reached; the few key events (rung 5
    and above, or a US withdrawal) carry a label with their date, and a star marks the day
    the highest rung was first reached. The bottom panel shows weekly militia attacks by
    weapon and the cumulative US killed and wounded.

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
    grid = fig.add_gridspec(2, 1, height_ratios=(3.0, 1.15))
    ax = fig.add_subplot(grid[0])
    ax_week = fig.add_subplot(grid[1], sharex=ax)

    start = mdates.date2num(pd.Timestamp(cfg.scenario.start_date))
    n_days = max(len(daily), 1)
    edges = start + np.arange(n_days + 1, dtype=float)
    rung = daily["rung"].to_numpy(dtype=float) if len(daily) else np.zeros(1)

    rungs = sorted(cfg.ladder.rungs, key=lambda r: r.level)
    top = rungs[-1].level if rungs else int(rung.max())
    reached = int(rung.max())

    handles = _draw_rungs(ax, edges, rung, rungs)
    handles += _draw_event_markers(ax, events)
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

    week_handles = _draw_weekly(ax_week, daily, edges)
    ax_week.legend(
        handles=week_handles,
        loc="upper left",
        bbox_to_anchor=(0.0, -0.3),
        ncol=len(week_handles),
        fontsize=FONT,
        frameon=False,
        borderaxespad=0.2,
        columnspacing=1.5,
    )
    _date_axis(ax_week, n_days)

    counts = _counts(events)
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


def _event_x(events: pd.DataFrame) -> np.ndarray:
    """Event days as date numbers, at midday so markers sit in the middle of their day."""
    return mdates.date2num(pd.to_datetime(events["date"]).to_numpy()) + 0.5


def _draw_event_markers(ax: Axes, events: pd.DataFrame) -> list:
    handles: list = []
    if events.empty:
        return handles
    x, y = _event_x(events), events["rung"].to_numpy(dtype=float)
    actor, kind, weapon = _text(events["actor"]), _text(events["kind"]), _text(events["weapon"])
    attacks = (actor == "militia") & (kind != "embassy_assault")
    groups: list[tuple[tuple[str, str, str], np.ndarray]] = [
        (WEAPON_STYLE[w], attacks & (weapon == w)) for w in WEAPON_STYLE
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


def _key_days(events: pd.DataFrame, labels: dict[str, str]) -> list[tuple[float, float, str]]:
    """(x, rung, text) of each day with key events, most escalatory first."""
    if events.empty:
        return []
    kind = _text(events["kind"])
    key = events[(events["rung"].to_numpy() >= KEY_RUNG) | (kind == "us_withdrawal")]
    out = []
    for _, group in key.groupby("day", sort=True):
        group = group.sort_values("rung", ascending=False, kind="stable")
        lines = []
        for k, same in group.groupby("kind", sort=False):
            targets = [labels.get(t, t) for t in _text(same["target"]) if t]
            names = ", ".join(dict.fromkeys(_short_label(t) for t in targets))
            lines.append(KIND_TEXT.get(str(k), _pretty(str(k)).capitalize()))
            if names:
                lines += textwrap.wrap(names, 28, break_on_hyphens=False)
        date = pd.Timestamp(group["date"].iloc[0])
        x = float(_event_x(group.iloc[:1])[0])
        out.append((x, float(group["rung"].max()), "\n".join([*lines, f"{date:%d %b %Y}"])))
    out.sort(key=lambda item: (-item[1], item[0]))
    return out[:MAX_ANNOTATIONS]


def _annotate_key_events(
    ax: Axes, events: pd.DataFrame, rung: np.ndarray, edges: np.ndarray, labels: dict[str, str]
) -> None:
    """Label key days above the rung profile, moving labels sideways/up to avoid each other."""
    renderer = ax.figure.canvas.get_renderer()
    to_data = ax.transData.inverted()
    axes_box = ax.get_window_extent(renderer)
    # the highest-rung star is the one marker that reaches well above its day's rung
    half = renderer.points_to_pixels(math.sqrt(STAR_AREA) / 2)
    placed = [
        Bbox.from_bounds(*(ax.transData.transform(xy) - half), 2 * half, 2 * half)
        for c in ax.collections
        if c.get_gid() == "highest_rung"
        for xy in c.get_offsets()
    ]
    for x, level, text in _key_days(events, labels):
        note = ax.annotate(
            text,
            xy=(x, level),
            xytext=(x, level + 0.7),
            ha="center",
            va="bottom",
            fontsize=FONT,
            zorder=7,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#9A9A9A", "alpha": 0.95},
            arrowprops={"arrowstyle": "-", "color": "#6E6E6E", "lw": 0.8, "shrinkB": 6},
            annotation_clip=False,
        )
        note.set_in_layout(False)
        width = np.diff(to_data.transform(_text_box(note, renderer))[:, 0])[0]
        for pos in _candidates(x, level, width, edges):
            note.set_position(pos)
            box = _text_box(note, renderer)
            if _fits(box, axes_box, placed, to_data, rung, edges):
                placed.append(box)
                break
        else:
            note.remove()


def _text_box(note, renderer) -> Bbox:
    """The extent of an annotation's text and frame, without its arrow."""
    note.update_positions(renderer)
    pad = renderer.points_to_pixels(FONT * 0.35)
    return Text.get_window_extent(note, renderer).padded(pad)


def _candidates(x: float, level: float, width: float, edges: np.ndarray):
    """Label centres to try: above the event, then sideways, then beside and below it."""
    if width >= edges[-1] - edges[0]:
        return
    above = (0.0, -0.55, 0.55, -1.1, 1.1, -1.65, 1.65)
    beside = (-0.6, 0.6, -0.9, 0.9)
    for rise in (0.7, 1.6, 2.5, 3.4, -0.6, -1.6, -2.6):
        for shift in above if rise > 0 else beside:
            cx = x + shift * width
            cx = min(max(cx, edges[0] + 0.5 * width), edges[-1] - 0.5 * width)
            yield (cx, level + rise)


def _fits(
    box: Bbox, axes_box: Bbox, placed: list[Bbox], to_data, rung: np.ndarray, edges: np.ndarray
) -> bool:
    """Whether a label box lies inside the axes, clear of other labels and above the data."""
    if not (axes_box.x0 <= box.x0 and box.x1 <= axes_box.x1 and box.y1 <= axes_box.y1):
        return False
    if any(_overlap(box, other) for other in placed):
        return False
    (x0, y0), (x1, _) = to_data.transform([[box.x0, box.y0], [box.x1, box.y1]])
    inside = (edges[1:] > x0) & (edges[:-1] < x1)
    # markers are drawn at the day's rung or below; 0.35 clears the marker itself
    return not inside.any() or rung[inside].max() + 0.35 < y0


def _draw_weekly(ax: Axes, daily: pd.DataFrame, edges: np.ndarray) -> list:
    n_days = len(edges) - 1
    week = np.arange(n_days) // 7
    n_weeks = int(week[-1]) + 1
    left = edges[0] + 7.0 * np.arange(n_weeks)
    width = np.minimum(7.0, edges[-1] - left)
    bottom = np.zeros(n_weeks)
    handles: list = []
    for w, (label, colour, _) in WEAPON_STYLE.items():
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


# --- map -----------------------------------------------------------------------------------


def map_figure(result: RunResult, replicate: int = 0) -> Figure:
    """The theatre with one replicate's events.

    Sites are drawn by side, routes by kind; militia attacks are circles sized by count at
    the struck site (convoy IEDs at the middle of their road segment), strikes are markers
    beside the struck site, and sites closed during the run are hollow and grey. A dense
    cluster of sites (Baghdad in the default theatre) is repeated, enlarged, in an inset.

    Args:
        result: a finished run.
        replicate: which replicate to draw (a value of ``result.replicates.replicate``).

    Returns:
        The figure (not attached to pyplot).

    Raises:
        ValueError: if the run has no such replicate.
    """
    cfg = result.config
    _check_replicate(result, replicate)
    theatre = result.params.theatre
    events = _rows(result.events, replicate)
    bounds = theatre.config
    start = pd.Timestamp(cfg.scenario.start_date)

    fig = _new_figure(MAP_SIZE)
    ax = fig.add_subplot()
    aspect = 1.0 / math.cos(math.radians((bounds.lat_min + bounds.lat_max) / 2))
    layers = _map_layers(theatre, events)

    handles = _draw_map(ax, theatre, layers, aspect)
    ax.set_xlim(bounds.lon_min, bounds.lon_max)
    ax.set_ylim(bounds.lat_min, bounds.lat_max)
    ax.set_xlabel("Longitude", fontsize=FONT)
    ax.set_ylabel("Latitude", fontsize=FONT)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}°E"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}°N"))
    ax.tick_params(labelsize=FONT)
    ax.grid(color="#EBEBEB", lw=0.8, zorder=0)
    ax.set_axisbelow(True)

    inset, in_inset, boxed = _inset(ax, theatre, layers, aspect)

    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize=FONT,
        title="Strike and assault markers sit\nbeside the site they hit",
        title_fontsize=FONT,
        alignment="left",
        frameon=False,
        borderaxespad=0,
        labelspacing=0.9,
    )
    ax.text(
        1.02,
        0.0,
        _counts_text(_counts(events)),
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=FONT,
        linespacing=1.4,
        bbox={"boxstyle": "round,pad=0.5", "fc": "#F5F5F5", "ec": "#BBBBBB"},
    )
    ax.set_title(
        f"Theatre and events: {cfg.scenario.name} scenario, seed {cfg.seed}, "
        f"replicate {replicate}\n{theatre.config.name} theatre, "
        f"{start:%d %b %Y} to {start + pd.Timedelta(days=cfg.days - 1):%d %b %Y}",
        fontsize=FONT + 3,
    )

    # Site labels go in last, once the layout is fixed, so their measured extents hold.
    fig.draw_without_rendering()
    outside = [i for i in range(len(theatre.site_names)) if i not in in_inset]
    avoid = []
    if inset is not None:
        avoid.append(inset.get_tightbbox(fig.canvas.get_renderer()))
        avoid.append(Bbox(ax.transData.transform(boxed.get_points())))
    _label_sites(ax, theatre, outside, layers, fontsize=8.5, avoid=avoid)
    if inset is not None:
        _label_sites(inset, theatre, sorted(in_inset), layers, fontsize=8.5)
    return fig


def _segment_midpoints(theatre: Theatre) -> dict[str, tuple[float, float]]:
    lon, lat = theatre.lon, theatre.lat
    return {
        f"convoy:{s.name}": ((lon[s.a] + lon[s.b]) / 2, (lat[s.a] + lat[s.b]) / 2)
        for s in theatre.segments
    }


def _map_layers(theatre: Theatre, events: pd.DataFrame) -> dict:
    """Everything the map draws, as positions and counts (shared by the main map and inset)."""
    index = theatre.site_index
    mids = _segment_midpoints(theatre)
    kind, actor, target = _text(events["kind"]), _text(events["actor"]), _text(events["target"])
    attacks = (actor == "militia") & (kind != "embassy_assault")

    def at_sites(mask: np.ndarray) -> list[tuple[float, float, int]]:
        names, counts = np.unique(
            target[mask & np.isin(target, theatre.site_names)], return_counts=True
        )
        return [
            (theatre.lon[index[n]], theatre.lat[index[n]], int(c))
            for n, c in zip(names, counts, strict=True)
        ]

    convoy_names, convoy_counts = np.unique(
        target[attacks & np.isin(target, list(mids))], return_counts=True
    )
    closed = {t for t in target[kind == "site_closed"] if t in index}
    return {
        "site_attacks": at_sites(attacks),
        "convoy_attacks": [
            (*mids[n], int(c)) for n, c in zip(convoy_names, convoy_counts, strict=True)
        ],
        "strikes": {k: at_sites(kind == k) for k in STRIKE_OFFSET},
        "closed": np.array([name in closed for name in theatre.site_names], dtype=bool),
    }


def _area(count):
    """Marker area (points squared) of an attack circle for a number of attacks."""
    return 30.0 + 24.0 * np.minimum(count, 80)


def _draw_map(ax: Axes, theatre: Theatre, layers: dict, aspect: float) -> list:
    """Draw routes, sites and events on ``ax``; return the legend handles."""
    ax.set_aspect(aspect, adjustable="box")
    handles: list = []

    for kind, (label, colour, style) in ROUTE_STYLE.items():
        segments = [s for s in theatre.segments if s.kind == kind]
        for seg in segments:
            ax.plot(
                theatre.lon[[seg.a, seg.b]],
                theatre.lat[[seg.a, seg.b]],
                color=colour,
                ls=style,
                lw=2.0,
                alpha=0.55,
                solid_capstyle="round",
                zorder=1,
            )
        if segments:
            handles.append(Line2D([], [], color=colour, ls=style, lw=2.0, alpha=0.7, label=label))

    for key, colour, label in (
        ("site_attacks", ORANGE, "Rocket / drone attacks on a site"),
        ("convoy_attacks", VERMILLION, "Convoy IEDs on a road segment"),
    ):
        points = layers[key]
        if not points:
            continue
        lon, lat, count = (np.array(v) for v in zip(*points, strict=True))
        ax.scatter(
            lon,
            lat,
            s=_area(count),
            c=colour,
            alpha=0.45,
            edgecolors=colour,
            lw=1.0,
            zorder=2,
        )
        handles.append(_handle(label, colour, "o", 11, alpha=0.6, edge=colour))

    closed = layers["closed"]
    for side, (label, colour, marker, size) in SIDE_STYLE.items():
        mask = (theatre.side == side) & ~closed
        if not mask.any():
            continue
        ax.scatter(
            theatre.lon[mask],
            theatre.lat[mask],
            s=size,
            marker=marker,
            c=colour,
            edgecolors=BLACK,
            linewidths=0.8,
            zorder=4,
            gid=f"sites:{side}",
        )
        handles.append(_handle(label, colour, marker, math.sqrt(size), edge=BLACK))
    known = np.isin(theatre.side, list(SIDE_STYLE))
    other = ~known & ~closed
    if other.any():
        ax.scatter(
            theatre.lon[other],
            theatre.lat[other],
            s=50,
            marker="o",
            c=GREY,
            edgecolors=BLACK,
            zorder=4,
            gid="sites:other",
        )
        handles.append(_handle("Other site", GREY, "o", 7, edge=BLACK))
    if closed.any():
        markers = [SIDE_STYLE.get(s, ("", "", "o", 60))[2] for s in theatre.side[closed]]
        for marker in dict.fromkeys(markers):
            mask = closed.copy()
            mask[closed] = np.array(markers) == marker
            ax.scatter(
                theatre.lon[mask],
                theatre.lat[mask],
                s=70,
                marker=marker,
                facecolors="none",
                edgecolors=GREY,
                linewidths=1.4,
                zorder=4,
                gid="sites:closed",
            )
        handles.append(_handle("Site closed during the run", "none", "s", 8, edge=GREY))

    fig = ax.figure
    drawn: set[tuple[str, str, str]] = set()
    for kind, (dx, dy) in STRIKE_OFFSET.items():
        points = layers["strikes"][kind]
        if not points:
            continue
        label, colour, marker = KIND_STYLE[kind]
        lon, lat, count = (np.array(v) for v in zip(*points, strict=True))
        ax.scatter(
            lon,
            lat,
            s=_strike_area(count, marker),
            marker=marker,
            c=colour,
            edgecolors="white" if colour != BLACK else "#555555",
            linewidths=0.7,
            zorder=5,
            transform=offset_copy(ax.transData, fig=fig, x=dx, y=dy, units="points"),
        )
        if (label, colour, marker) not in drawn:
            drawn.add((label, colour, marker))
            handles.append(_handle(label, colour, marker, 14 if marker == "*" else 10))

    if layers["site_attacks"] or layers["convoy_attacks"]:
        for n in (1, 5, 20):
            handles.append(
                _handle(
                    f"{n} attack{'s' if n > 1 else ''}",
                    "#DDDDDD",
                    "o",
                    math.sqrt(_area(n)),
                    edge=GREY,
                )
            )
    return handles


def _strike_area(count, marker: str = "o"):
    """Marker area (points squared) of a strike marker for a number of strikes."""
    # a star fills less of its box than other markers
    scale = 2.0 if marker == "*" else 1.0
    return scale * (70.0 + 35.0 * np.minimum(np.asarray(count) - 1, 10))


def _inset(ax: Axes, theatre: Theatre, layers: dict, aspect: float):
    """Repeat the densest cluster of sites, enlarged, in an empty corner of the map.

    Returns the inset axes (or None when no cluster is dense enough), the indices of the
    sites it shows, and the enlarged area as a (lon, lat) box.
    """
    c = theatre.config
    width, height = c.lon_max - c.lon_min, c.lat_max - c.lat_min
    x = (theatre.lon - c.lon_min) / width
    y = (theatre.lat - c.lat_min) / height * (height * aspect / width)
    radius = 0.03  # of the map width: about 30 km in the default theatre
    dist = np.hypot(x[:, None] - x[None], y[:, None] - y[None])
    near = dist <= radius
    centre = int(np.argmax(near.sum(axis=1)))
    members = np.flatnonzero(near[centre])
    if len(members) < 4:
        return None, set(), None

    pad = 0.15 * max(np.ptp(theatre.lon[members]), np.ptp(theatre.lat[members]) * aspect)
    lon0, lon1 = theatre.lon[members].min() - pad, theatre.lon[members].max() + pad
    lat0, lat1 = theatre.lat[members].min() - pad, theatre.lat[members].max() + pad
    # square the box in display units, so the inset has the same shape in any theatre
    half = max(lon1 - lon0, (lat1 - lat0) * aspect) / 2
    mid_lon, mid_lat = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    lon0, lon1 = mid_lon - half, mid_lon + half
    lat0, lat1 = mid_lat - half / aspect, mid_lat + half / aspect
    shown = np.flatnonzero(
        (theatre.lon >= lon0)
        & (theatre.lon <= lon1)
        & (theatre.lat >= lat0)
        & (theatre.lat <= lat1)
    )

    size = 0.40
    corners = [(0.01, 0.01), (0.59, 0.01), (0.01, 0.59), (0.59, 0.59)]
    fx = (theatre.lon - c.lon_min) / width
    fy = (theatre.lat - c.lat_min) / height
    margin = 0.03
    crowding = [
        int(
            (
                (fx >= cx - margin)
                & (fx <= cx + size + margin)
                & (fy >= cy - margin)
                & (fy <= cy + size + margin)
            ).sum()
        )
        for cx, cy in corners
    ]
    # an inset over its own cluster would hide it
    box_x = ((lon0 - c.lon_min) / width, (lon1 - c.lon_min) / width)
    box_y = ((lat0 - c.lat_min) / height, (lat1 - c.lat_min) / height)
    for i, (cx, cy) in enumerate(corners):
        if box_x[0] < cx + size and box_x[1] > cx and box_y[0] < cy + size and box_y[1] > cy:
            crowding[i] += 1000
    cx, cy = corners[int(np.argmin(crowding))]

    inset = ax.inset_axes((cx, cy, size, size))
    _draw_map(inset, theatre, layers, aspect)
    inset.set_xlim(lon0, lon1)
    inset.set_ylim(lat0, lat1)
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_facecolor("white")
    inset.set_title("Enlarged: boxed area", fontsize=FONT - 1, pad=3)
    for spine in inset.spines.values():
        spine.set_edgecolor("#555555")
    indicator = ax.indicate_inset(
        (lon0, lat0, lon1 - lon0, lat1 - lat0), inset, edgecolor="#333333", alpha=0.8, lw=1.0
    )
    for line in indicator.connectors:
        line.set(color="#AAAAAA", lw=0.7, ls=(0, (4, 3)))
    return inset, set(shown.tolist()), Bbox([[lon0, lat0], [lon1, lat1]])


def _label_sites(
    ax: Axes,
    theatre: Theatre,
    sites: Iterable[int],
    layers: dict,
    fontsize: float,
    avoid: Iterable[Bbox] = (),
) -> None:
    """Label sites with their display names, trying offsets until labels stop overlapping.

    Labels avoid each other, site symbols and strike markers, and (less strictly, since
    they are translucent) the attack circles; ``avoid`` adds boxes (display units) that no
    label may cover.
    """
    renderer = ax.figure.canvas.get_renderer()
    pt = renderer.points_to_pixels(1.0)
    axes_box = ax.get_window_extent(renderer)
    to_px = ax.transData.transform
    xy = to_px(np.column_stack([theatre.lon, theatre.lat]))
    # (box, weight, site it belongs to or -1): a label may cover its own site's circle
    obstacles = [
        (Bbox.from_bounds(px - 5 * pt, py - 5 * pt, 10 * pt, 10 * pt), 3.0, i)
        for i, (px, py) in enumerate(xy)
    ]
    for kind, (dx, dy) in STRIKE_OFFSET.items():
        for lon, lat, count in layers["strikes"][kind]:
            px, py = to_px((lon, lat)) + np.array([dx, dy]) * pt
            r = math.sqrt(_strike_area(count, KIND_STYLE[kind][2])) / 2 * pt
            obstacles.append((Bbox.from_bounds(px - r, py - r, 2 * r, 2 * r), 1.0, -1))
    for key in ("site_attacks", "convoy_attacks"):
        for lon, lat, count in layers[key]:
            px, py = to_px((lon, lat))
            r = math.sqrt(_area(count)) / 2 * pt
            owner = int(np.argmin(np.hypot(*(xy - (px, py)).T))) if key == "site_attacks" else -1
            obstacles.append((Bbox.from_bounds(px - r, py - r, 2 * r, 2 * r), 0.3, owner))
    obstacles += [(box, 5.0, -1) for box in avoid]

    labels = _site_labels(theatre)
    placed: list[Bbox] = []
    sites = list(sites)
    # most crowded sites first, so they get the best spots
    crowding = {
        i: sum(_overlap(obstacles[i][0].expanded(8, 8), box) > 0 for box, _, _ in obstacles)
        for i in sites
    }
    for i in sorted(sites, key=lambda i: -crowding[i]):
        text = "\n".join(textwrap.wrap(labels[theatre.site_names[i]], 24, break_on_hyphens=False))
        best, best_cost = ((7, 0), "left", "center"), math.inf
        note = _site_label(ax, i, theatre, text, fontsize, best)
        for offset, ha, va in _label_offsets():
            note.set_position(offset)
            note.set_ha(ha)
            note.set_va(va)
            box = note.get_window_extent(renderer)
            cost = 3.0 * sum(_overlap(box, other) for other in placed)
            cost += sum(w * _overlap(box, o) for o, w, owner in obstacles if owner != i)
            inside = (
                axes_box.x0 <= box.x0
                and box.x1 <= axes_box.x1
                and axes_box.y0 <= box.y0
                and box.y1 <= axes_box.y1
            )
            cost += 0.0 if inside else 1e7
            cost += 0.5 * math.hypot(*offset)
            if cost < best_cost:
                best, best_cost = (offset, ha, va), cost
        note.remove()
        # a label moved away from its site gets a leader line
        note = _site_label(ax, i, theatre, text, fontsize, best, leader=math.hypot(*best[0]) > 12)
        placed.append(note.get_window_extent(renderer))


def _site_label(ax: Axes, i: int, theatre: Theatre, text: str, fontsize, where, leader=False):
    (ox, oy), ha, va = where
    note = ax.annotate(
        text,
        xy=(theatre.lon[i], theatre.lat[i]),
        xytext=(ox, oy),
        textcoords="offset points",
        ha=ha,
        va=va,
        fontsize=fontsize,
        color="#222222",
        zorder=6,
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
        arrowprops={"arrowstyle": "-", "color": "#777777", "lw": 0.6, "shrinkB": 4}
        if leader
        else None,
        annotation_clip=True,
    )
    note.set_in_layout(False)
    return note


def _label_offsets():
    """Candidate label offsets (points) with alignments, nearest first."""
    for r in (7, 12, 18, 26, 36):
        yield (r, 0), "left", "center"
        yield (-r, 0), "right", "center"
        yield (0, r), "center", "bottom"
        yield (0, -r), "center", "top"
        d = r * 0.75
        yield (d, d), "left", "bottom"
        yield (-d, d), "right", "bottom"
        yield (d, -d), "left", "top"
        yield (-d, -d), "right", "top"


def _counts_text(counts: dict[str, int]) -> str:
    strikes = sum(counts[k] for k in US_STRIKES)
    return "\n".join(
        [
            "This replicate",
            f"Militia attacks: {counts['attacks']}",
            f"   rocket {counts['attacks_rocket']}, IED {counts['attacks_ied']}, "
            f"drone {counts['attacks_drone']}",
            f"Embassy assaults: {counts['embassy_assault']}",
            f"US killed: {counts['killed_us']}, wounded: {counts['wounded_us']}",
            f"US strikes: {strikes}",
            f"   Iraq {counts['us_strike_iraq']}, Syria {counts['us_strike_syria']}, "
            f"decapitation {counts['decapitation']}",
            f"Israeli strikes: {counts['israeli_strike']}",
            f"Iranian missile strikes: {counts['iran_direct_strike']}",
            f"US sites closed: {counts['site_closed']}",
        ]
    )


# --- comparison of variants -----------------------------------------------------------------

VARIANT_COLOURS = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK)


def ladder_comparison_figure(comparison: Comparison) -> Figure:
    """The escalation ladder over time under several variants run on the same draws.

    Top: the highest rung reached so far, averaged over replicates, on the named ladder.
    Middle: the share of replicates that have reached a US strike (rung 4) and an Iranian
    state strike (rung 7) by each date. Bottom: militia attacks per week (mean per replicate).
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
            Line2D([], [], color=GREY, lw=2.2, label="rung 4 or higher (a US strike)"),
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
