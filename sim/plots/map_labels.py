"""Labels of the sites on the theatre map.

Writes each site's display name beside it, at the nearest offset that keeps clear of other
labels, site symbols and event markers, with a leader line when the label moved away.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.transforms import Bbox

from sim.plots.map_drawing import _area, _strike_area
from sim.plots.style import KIND_STYLE, STRIKE_OFFSET, _overlap, _site_labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.theatre import Theatre


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
