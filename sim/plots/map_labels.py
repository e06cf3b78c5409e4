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
from sim.plots.style import KIND_STYLE, STRIKE_OFFSET, _site_labels

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
    boxes = np.array([[b.x0, b.y0, b.x1, b.y1] for b, _, _ in obstacles]).reshape(-1, 4)
    weights = np.array([w for _, w, _ in obstacles])
    owners = np.array([o for _, _, o in obstacles])
    placed = np.zeros((0, 4))
    sites = list(sites)
    # most crowded sites first, so they get the best spots
    crowding = {i: int((_overlaps(_scaled(boxes[i], 8), boxes) > 0).sum()) for i in sites}
    offsets = list(_label_offsets())
    shift = np.array([offset for offset, _, _ in offsets], dtype=float) * pt
    # where each alignment puts the text's box: its left (or right, or centre) and bottom
    # (or top, or middle) at the anchor, as fractions of the box's width and height
    ha_at = {"left": 0.0, "center": 0.5, "right": 1.0}
    va_at = {"bottom": 0.0, "center": 0.5, "top": 1.0}
    align = np.array([(ha_at[ha], va_at[va]) for _, ha, va in offsets])
    distance = 0.5 * np.hypot(*np.array([o for o, _, _ in offsets], dtype=float).T)
    for i in sorted(sites, key=lambda i: -crowding[i]):
        text = "\n".join(textwrap.wrap(labels[theatre.site_names[i]], 24, break_on_hyphens=False))
        # the text's size is the same at every offset: measured once, the boxes follow
        note = _site_label(ax, i, theatre, text, fontsize, offsets[0])
        size = np.array(note.get_window_extent(renderer).size)
        note.remove()
        low = xy[i] + shift - align * size  # (offsets, 2) lower-left corners
        candidates = np.hstack([low, low + size])
        cost = 3.0 * _overlaps(candidates, placed).sum(axis=1)
        others = owners != i
        cost += (_overlaps(candidates, boxes[others]) * weights[others]).sum(axis=1)
        inside = (
            (axes_box.x0 <= candidates[:, 0])
            & (candidates[:, 2] <= axes_box.x1)
            & (axes_box.y0 <= candidates[:, 1])
            & (candidates[:, 3] <= axes_box.y1)
        )
        cost += np.where(inside, 0.0, 1e7) + distance
        best = offsets[int(np.argmin(cost))]  # the nearest of the cheapest
        # a label moved away from its site gets a leader line
        note = _site_label(ax, i, theatre, text, fontsize, best, leader=math.hypot(*best[0]) > 12)
        box = note.get_window_extent(renderer)
        placed = np.vstack([placed, [box.x0, box.y0, box.x1, box.y1]])


def _scaled(box: np.ndarray, factor: float) -> np.ndarray:
    """A box (x0, y0, x1, y1) scaled by ``factor`` about its centre (``Bbox.expanded``),
    as a (1, 4) array."""
    centre, half = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) / 2 * factor
    return np.concatenate([centre - half, centre + half])[None, :]


def _overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) areas shared by each box of ``a`` with each of ``b`` (x0, y0, x1, y1)."""
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return np.where((w > 0) & (h > 0), w * h, 0.0)


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
