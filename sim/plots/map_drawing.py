"""The layers of the theatre map and its inset.

Draws the base map (country borders and names, the Tigris and the Euphrates, from
:mod:`sim.plots.basemap`), routes by kind, sites by side (closed sites hollow and grey),
militia attacks as circles sized by count, strikes as markers offset from the struck site,
and the enlarged inset of the densest cluster of sites.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox, offset_copy

from sim.plots import basemap
from sim.plots.style import (
    BLACK,
    FONT,
    GREY,
    KIND_STYLE,
    ORANGE,
    ROUTE_STYLE,
    SIDE_STYLE,
    STRIKE_OFFSET,
    VERMILLION,
    _handle,
)

#: base map colours: land, sea (outside every country kept), borders, rivers and their
#: names, country names
LAND, SEA, BORDER, COUNTRY_NAME = "#FAF8F3", "#EAF2F8", "#9A9A9A", "#C9C2B5"
RIVER, RIVER_NAME = "#8CC4E8", "#3A7FB0"

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.theatre import Theatre

#: legend entries of hollow grey US sites: closed during the run; or closed, or handed
#: over before the start (``scenario.sites_handed_over``)
CLOSED_DURING_RUN = "Site closed during the run"
CLOSED_OR_HANDED_OVER = "US site closed or handed over"


def _area(count):
    """Marker area (points squared) of an attack circle for a number of attacks."""
    return 30.0 + 24.0 * np.minimum(count, 80)


def _draw_basemap(ax: Axes, theatre: Theatre, names: bool = True) -> None:
    """Country borders and rivers under everything else; their names if ``names``."""
    c = theatre.config
    sites = tuple(zip(theatre.lon.tolist(), theatre.lat.tolist(), strict=True))
    shapes = basemap.view(c.lon_min, c.lat_min, c.lon_max, c.lat_max, avoid=sites)
    for country in shapes["countries"]:
        for ring in country["rings"]:
            xy = np.asarray(ring)
            ax.fill(xy[:, 0], xy[:, 1], fc=LAND, ec=BORDER, lw=0.9, zorder=0.2)
        if names and country["label"] is not None:
            ax.text(
                *country["label"], country["name"].upper(), color=COUNTRY_NAME,
                fontsize=FONT + 3, ha="center", va="center", zorder=0.3, fontweight="bold",
            )  # fmt: skip
    for river in shapes["rivers"]:
        for line in river["lines"]:
            xy = np.asarray(line)
            ax.plot(xy[:, 0], xy[:, 1], color=RIVER, lw=1.2, zorder=0.4, solid_capstyle="round")
        if names and river["label"] is not None:
            ax.text(
                *river["label"], river["name"], color=RIVER_NAME, fontsize=FONT - 1,
                style="italic", ha="left", va="bottom", zorder=0.4,
            )  # fmt: skip
    ax.set_facecolor(SEA)


def _draw_map(ax: Axes, theatre: Theatre, layers: dict, aspect: float, names: bool = True) -> list:
    """Draw the base map, routes, sites and events on ``ax``; return the legend handles."""
    ax.set_aspect(aspect, adjustable="box")
    _draw_basemap(ax, theatre, names)
    handles: list = [
        Line2D([], [], color=RIVER, lw=1.6, label="River"),
        Line2D([], [], color=BORDER, lw=0.9, label="Border"),
    ]

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
        ("site_attacks", ORANGE, "Militia attacks on a site"),
        ("convoy_attacks", VERMILLION, "Militia attacks on convoys"),
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
        label = layers.get("closed_label", CLOSED_DURING_RUN)
        handles.append(_handle(label, "none", "s", 8, edge=GREY))

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
    sites it shows, the enlarged area as a (lon, lat) box, and the inset's lower left
    corner in axes fractions (None with no inset).
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
        return None, set(), None, None

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
    _draw_map(inset, theatre, layers, aspect, names=False)
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
    return inset, set(shown.tolist()), Bbox([[lon0, lat0], [lon1, lat1]]), (cx, cy)
