"""Palette, sizes, marker styles and the small helpers that all the figures share.

Draws nothing itself. Figures are built on :class:`matplotlib.figure.Figure` with an Agg
canvas, never through pyplot, so drawing touches no global state and needs no display.
Colours follow the Okabe-Ito palette, which stays distinguishable under the common forms of
colour blindness.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

from sim.config import WEAPON_KINDS

if TYPE_CHECKING:
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
TIMELINE_SIZE = (14.0, 10.0)
MAP_SIZE = (14.0, 10.0)
FONT = 10

#: the styles of the weapons of configs/weapons/default.yaml: (legend label, colour, marker)
WEAPON_STYLE = {
    "rocket": ("Rocket attack", ORANGE, "^"),
    "ied": ("Convoy IED", VERMILLION, "s"),
    "drone": ("Drone attack", PURPLE, "D"),
}
#: colours and markers of any other weapon, chosen by its name (the same in every figure);
#: the colours are Paul Tol's muted palette's, none of which the figures use for events
_SPARE_COLOURS = ("#882255", "#44AA99", "#999933", "#332288")
_SPARE_MARKERS = ("o", "d", "<", ">", "8")


def weapon_style(name: str) -> tuple[str, str, str]:
    """(legend label, colour, marker) of a militia weapon's attacks."""
    if name in WEAPON_STYLE:
        return WEAPON_STYLE[name]
    k = zlib.crc32(name.encode())
    label = f"{name.replace('_', ' ').capitalize()} attack"
    return label, _SPARE_COLOURS[k % len(_SPARE_COLOURS)], _SPARE_MARKERS[k % len(_SPARE_MARKERS)]


#: event kinds drawn as markers besides militia attacks: (legend label, colour, marker)
KIND_STYLE = {
    "us_strike_syria": ("US airstrike", BLUE, "v"),
    "us_strike_iraq": ("US airstrike", BLUE, "v"),
    "decapitation": ("US decapitation strike", BLUE, "X"),
    "embassy_assault": ("Embassy assault", BLACK, "p"),
    "splinter_formed": ("A group splits", PURPLE, "H"),
    "israeli_strike": ("Israeli airstrike", SKY, "P"),
    "iran_direct_strike": ("Iranian missile strike", GREEN, "*"),
    "open_war": ("Open war", BLACK, "h"),
}
#: marker area (points squared) of the highest-rung star
STAR_AREA = 520
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


def _attacks(kind: np.ndarray) -> np.ndarray:
    """Which events (by ``kind``, from :func:`_text`) are militia attacks: those of a
    weapon's kind, as the event tallies count them (not an assault, not a split)."""
    return np.isin(kind, WEAPON_KINDS)


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


def _counts(events: pd.DataFrame, weapons: Sequence[str]) -> dict[str, int]:
    """Headline counts of one replicate's events (``attacks_<weapon>`` for each weapon)."""
    kind, weapon = _text(events["kind"]), _text(events["weapon"])
    attacks = _attacks(kind)
    out = {"attacks": int(attacks.sum())}
    for w in weapons:
        out[f"attacks_{w}"] = int((attacks & (weapon == w)).sum())
    for k in (*US_STRIKES, "embassy_assault", "israeli_strike"):
        out[k] = int((kind == k).sum())
    # one salvo on several bases logs an event per base: count strikes by day, as
    # ensemble.parquet and the run summary do
    out["iran_direct_strike"] = int(events.loc[kind == "iran_direct_strike", "day"].nunique())
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


def _event_x(events: pd.DataFrame) -> np.ndarray:
    """Event days as date numbers, at midday so markers sit in the middle of their day."""
    return mdates.date2num(pd.to_datetime(events["date"]).to_numpy()) + 0.5
