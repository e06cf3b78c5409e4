"""Figures of a run, and the PNG files of one replicate.

One module per figure, each built on an Agg canvas without pyplot:

- :mod:`sim.plots.timeline` draws the escalation timeline of one replicate (its bottom panel
  in :mod:`sim.plots.timeline_weekly`, its key-event labels in :mod:`sim.plots.timeline_labels`);
- :mod:`sim.plots.theatre_map` draws the theatre map of one replicate (its layers and inset in
  :mod:`sim.plots.map_drawing`, its site labels in :mod:`sim.plots.map_labels`, its borders
  and rivers from the Natural Earth extract of :mod:`sim.plots.basemap`, which
  :mod:`sim.plots.natural_earth` writes);
- :mod:`sim.plots.comparison` draws the comparison of variants on the same random draws;
- :mod:`sim.plots.style` holds the palette, sizes, marker styles and shared helpers.

This module writes the timeline and the map of one replicate as PNG files
(:func:`save_figures`); :mod:`sim.io` writes a run's figures through it, so no figure
module imports :mod:`sim.io` (nor any command-line module).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sim.files import atomic_write
from sim.plots.comparison import ladder_comparison_figure
from sim.plots.style import DPI, MAP_SIZE, TIMELINE_SIZE
from sim.plots.theatre_map import map_figure
from sim.plots.timeline import timeline_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.engine import RunResult

__all__ = [
    "DPI",
    "MAP_SIZE",
    "TIMELINE_SIZE",
    "ladder_comparison_figure",
    "map_figure",
    "save_figures",
    "timeline_figure",
]


def save_figures(result: RunResult, out_dir: str | os.PathLike, replicate: int = 0) -> list[Path]:
    """Write ``timeline.png`` and ``map.png`` for one replicate into ``out_dir``.

    Each file is written to a temporary name in the same directory and renamed into place,
    so a reader never sees a half-written PNG.

    Args:
        result: a finished run.
        out_dir: directory for the files (created if missing).
        replicate: which replicate to draw.

    Returns:
        The paths of the timeline and the map, in that order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in (("timeline.png", timeline_figure), ("map.png", map_figure)):
        fig = draw(result, replicate)
        try:
            paths.append(_save_atomic(fig, out / name))
        finally:
            fig.clear()
    return paths


def _save_atomic(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path``, atomically."""
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))
