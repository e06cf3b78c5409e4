"""Labels of the key events on the timeline's top panel.

Each day with an event at rung 5 or above (or a US withdrawal) gets a framed label with
what happened, where and when, placed above the rung profile and clear of the other labels
and of the highest-rung star.
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from sim.plots.style import FONT, STAR_AREA, _event_x, _overlap, _pretty, _short_label, _text

if TYPE_CHECKING:
    from matplotlib.axes import Axes


#: short names for the annotations of key events
KIND_TEXT = {
    "us_strike_syria": "US strike in Syria",
    "us_strike_iraq": "US strike in Iraq",
    "decapitation": "Decapitation strike",
    "embassy_assault": "Embassy assault",
    "splinter_formed": "A group splits",
    "iran_direct_strike": "Iranian missile strike",
    "open_war": "Open war",
    "us_withdrawal": "US withdrawal",
}
#: rung at or above which an event is annotated on the timeline
KEY_RUNG = 5
#: at most this many key days get a text label (the rest keep their markers)
MAX_ANNOTATIONS = 10


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
