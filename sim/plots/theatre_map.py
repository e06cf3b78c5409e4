"""The theatre map of one replicate: the figure, its event layers and its counts box.

The layers (routes, sites, attack circles, strike markers and the inset of the densest
cluster) are drawn by :mod:`sim.plots.map_drawing`, the site labels placed by
:mod:`sim.plots.map_labels`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox

from sim.plots import basemap
from sim.plots.map_drawing import CLOSED_OR_HANDED_OVER, _draw_map, _inset
from sim.plots.map_labels import _label_sites
from sim.plots.style import (
    BLACK,
    FONT,
    MAP_SIZE,
    STRIKE_OFFSET,
    US_STRIKES,
    _attacks,
    _check_replicate,
    _counts,
    _new_figure,
    _rows,
    _text,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.engine import RunResult
    from sim.theatre import Theatre


def map_figure(result: RunResult, replicate: int = 0) -> Figure:
    """The theatre with one replicate's events.

    Sites are drawn by side, routes by kind; militia attacks are circles sized by count at
    the struck site (attacks on convoys at the middle of their road segment), strikes are
    markers beside the struck site, and sites closed during the run (or handed over before
    it began, ``scenario.sites_handed_over``) are hollow and grey. A dense
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
    handed_over = np.isin(theatre.site_names, cfg.scenario.sites_handed_over)
    if handed_over.any():  # never held in this run: drawn as closed
        layers["closed"] |= handed_over
        layers["closed_label"] = CLOSED_OR_HANDED_OVER

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

    inset, in_inset, boxed, corner = _inset(ax, theatre, layers, aspect)
    _scale_bar(ax, theatre, corner)

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
        _counts_text(_counts(events, result.params.weapon_names), result.params.weapon_names),
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
    kind, target = _text(events["kind"]), _text(events["target"])
    attacks = _attacks(kind)

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


def _counts_text(counts: dict[str, int], weapons: Sequence[str]) -> str:
    strikes = sum(counts[k] for k in US_STRIKES)
    return "\n".join(
        [
            "This replicate",
            f"Militia attacks: {counts['attacks']}",
            "   " + ", ".join(f"{w} {counts[f'attacks_{w}']}" for w in weapons),
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


def _scale_bar(ax, theatre: Theatre, inset_corner: tuple[float, float] | None) -> None:
    """A scale bar in the corner of the map with the fewest sites (not the inset's), and a
    credit for the base map."""
    b = theatre.config
    fx = (theatre.lon - b.lon_min) / (b.lon_max - b.lon_min)
    fy = (theatre.lat - b.lat_min) / (b.lat_max - b.lat_min)
    # on a tie the first: top right, where the default theatre has mountains and no sites
    corners = {(0.75, 0.93): (1.0, 1.0), (0.75, 0.05): (1.0, 0.0), (0.03, 0.93): (0.0, 1.0),
               (0.03, 0.05): (0.0, 0.0)}  # fmt: skip
    crowding = {}
    for (x, y), (cx, cy) in corners.items():
        near = (np.abs(fx - cx) < 0.3) & (np.abs(fy - cy) < 0.2)
        taken = (
            inset_corner is not None
            and (inset_corner[0] > 0.5) == (cx > 0.5)
            and (inset_corner[1] > 0.5) == (cy > 0.5)
        )
        crowding[(x, y)] = int(near.sum()) + 1000 * taken
    x, y = min(crowding, key=crowding.get)
    lat = b.lat_min + y * (b.lat_max - b.lat_min)
    km, width = basemap.scale_bar_km(b.lon_min, b.lon_max, lat)
    x0 = b.lon_min + x * (b.lon_max - b.lon_min)
    ax.plot([x0, x0 + width], [lat, lat], color=BLACK, lw=3, solid_capstyle="butt", zorder=6)
    ax.text(x0 + width / 2, lat, f"{km} km", ha="center", va="bottom", fontsize=FONT, zorder=6)
    ax.text(
        0.99, 0.01, "Borders and rivers: Natural Earth", transform=ax.transAxes,
        ha="right", va="bottom", fontsize=FONT - 2, color="#777777", zorder=6,
    )  # fmt: skip
