"""What the page shows of one side: its counters (read from the engine) and its two figures.

The map reuses the theatre map's layers (:mod:`sim.plots.map_drawing`) and the timeline the
escalation timeline's rung steps and event markers (:mod:`sim.plots.timeline`), drawn larger
for a projector, with the day's events ringed on the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.model import EscalationModel
from sim.plots.map_drawing import CLOSED_OR_HANDED_OVER, _draw_map
from sim.plots.style import BLACK, _handle, _new_figure, _text
from sim.plots.theatre_map import _map_layers, _segment_midpoints
from sim.plots.timeline import _draw_event_markers, _draw_rungs

#: font size of figure text on the page (a projector at the back of a room)
BIG = 15


@dataclass(frozen=True)
class Snapshot:
    """The numbers a side shows, all taken from the engine's daily record and event log."""

    day: int
    date: str
    rung: int
    rung_name: str
    highest: int
    attacks_by_weapon: dict[str, int]  # militia attacks with each weapon, in weapon order
    killed_us: int
    wounded_us: int
    killed_iraqi: int
    responses: int
    us_troops: int
    doctrine: str
    done: bool

    @property
    def attacks(self) -> int:
        return sum(self.attacks_by_weapon.values())

    def count(self, key: str) -> int:
        """A counter by its name: a field, ``attacks`` or ``attacks_<weapon>``."""
        weapon = key.removeprefix("attacks_")
        if key.startswith("attacks_") and weapon in self.attacks_by_weapon:
            return self.attacks_by_weapon[weapon]
        return getattr(self, key)


def rung_names(model: EscalationModel) -> dict[int, str]:
    """Rung level -> name, from the ladder configuration."""
    return {r.level: r.name for r in model.config.ladder.rungs}


def snapshot(model: EscalationModel) -> Snapshot:
    """The side's state after the days stepped so far (zeros before the first step)."""
    daily = model.simulation.daily_frame()
    total = daily.sum(numeric_only=True) if len(daily) else pd.Series(dtype=float)
    rung = int(daily["rung"].iloc[-1]) if len(daily) else 0
    last = model.date - pd.Timedelta(days=1) if model.day else model.date
    return Snapshot(
        day=model.day,
        date=f"{last:%d %b %Y}",
        rung=rung,
        rung_name=rung_names(model).get(rung, str(rung)),
        highest=int(daily["rung"].max()) if len(daily) else 0,
        attacks_by_weapon={
            w: int(total.get(f"attacks_{w}", 0)) for w in model.simulation.params.weapon_names
        },
        killed_us=int(round(total.get("killed_us", 0))),
        wounded_us=int(round(total.get("wounded_us", 0))),
        killed_iraqi=int(round(total.get("killed_iraqi", 0))),
        responses=int(total.get("responses", 0)),
        us_troops=int(round(model.us.troops)),
        doctrine=model.us.doctrine,
        done=not model.running,
    )


def today_events(model: EscalationModel) -> list[str]:
    """The last day's events in words: who did what to whom, who claimed an attack and whom
    the US blamed for it, whom the public blames for a strike, and whether it was warned."""
    events = model.simulation.events_frame()
    if not model.day or events.empty:
        return []
    lines = []
    for e in events[events["day"] == model.day - 1].itertuples():
        what = f"{e.source or e.actor}: {e.kind.replace('_', ' ')}"
        if e.weapon:
            what += f" ({e.weapon})"
        if e.target:
            what += f" on {e.target}"
        if e.kind in ("base_attack", "convoy_ied"):
            claim = f"claimed by {e.claimed_by}" if e.claimed_by else "unclaimed"
            what += f"; {claim}; the US blames {e.blamed}"
            if e.killed_us or e.wounded_us:
                what += f"; US {e.killed_us} killed, {e.wounded_us} wounded"
        elif e.blamed and e.blamed != e.source:
            what += f"; blamed on {e.blamed}"
        if e.signal in ("warned", "unwarned"):
            what += f"; {e.signal}"
        lines.append(what)
    return lines


def _today_points(model: EscalationModel, events: pd.DataFrame) -> np.ndarray:
    """Map positions (lon, lat) of the events of the last day stepped."""
    if not model.day or events.empty:
        return np.zeros((0, 2))
    theatre = model.simulation.params.theatre
    mids = _segment_midpoints(theatre)
    today = events[events["day"] == model.day - 1]
    points = []
    for target in _text(today["target"]):
        if target in theatre.site_index:
            i = theatre.site_index[target]
            points.append((theatre.lon[i], theatre.lat[i]))
        elif target in mids:
            points.append(mids[target])
    return np.array(points).reshape(-1, 2)


def closed_sites(model: EscalationModel) -> np.ndarray:
    """Per theatre site, True where the US holds it no longer: handed over before the start
    (``scenario.sites_handed_over``) or closed since; read from the engine's state."""
    theatre = model.simulation.params.theatre
    return (theatre.side == "us") & ~model.simulation.state.site_open[0]


def map_figure(model: EscalationModel) -> Figure:
    """The theatre with the side's events so far; the last day's events ringed in black.

    Sites are coloured by side; US sites the US no longer holds are hollow and grey,
    whether they closed during the run or were handed over before it began.
    """
    theatre = model.simulation.params.theatre
    events = model.simulation.events_frame()
    bounds = theatre.config
    fig = _new_figure((8.6, 7.4))
    ax = fig.add_subplot()
    aspect = 1.0 / math.cos(math.radians((bounds.lat_min + bounds.lat_max) / 2))
    layers = _map_layers(theatre, events)
    layers["closed"] = layers["closed"] | closed_sites(model)
    layers["closed_label"] = CLOSED_OR_HANDED_OVER
    handles = _draw_map(ax, theatre, layers, aspect)
    today = _today_points(model, events)
    if len(today):
        ax.scatter(
            today[:, 0], today[:, 1], s=900, facecolors="none", edgecolors=BLACK, lw=2.5, zorder=6
        )
    handles.append(_handle("Today's events", "none", "o", 16, edge=BLACK, markeredgewidth=2.5))
    ax.set_xlim(bounds.lon_min, bounds.lon_max)
    ax.set_ylim(bounds.lat_min, bounds.lat_max)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}°E"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}°N"))
    ax.tick_params(labelsize=BIG - 3)
    ax.grid(color="#EBEBEB", lw=0.8, zorder=0)
    ax.set_axisbelow(True)
    _legend_below(ax, handles, -0.06, ncol=3)
    ax.set_title(f"Theatre, day {model.day}", fontsize=BIG + 2)
    return fig


def _legend_below(ax, handles: list, y: float, ncol: int) -> None:
    """A frameless legend under the axes, in the projector's font size."""
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, y), ncol=ncol,
        fontsize=BIG - 4, frameon=False, columnspacing=1.0, handletextpad=0.3,
    )  # fmt: skip


def timeline_figure(model: EscalationModel) -> Figure:
    """The rung reached each day so far and each event at its rung, over the whole horizon."""
    cfg = model.config
    daily = model.simulation.daily_frame()
    events = model.simulation.events_frame()
    rungs = sorted(cfg.ladder.rungs, key=lambda r: r.level)
    start = mdates.date2num(pd.Timestamp(cfg.scenario.start_date))
    fig = _new_figure((8.6, 5.8))
    ax = fig.add_subplot()
    n = max(len(daily), 1)
    edges = start + np.arange(n + 1, dtype=float)
    rung = daily["rung"].to_numpy(dtype=float) if len(daily) else np.zeros(1)
    handles = _draw_rungs(ax, edges, rung, rungs)
    handles += _draw_event_markers(ax, events, model.simulation.params.weapon_names)
    ax.set_xlim(start, start + cfg.days)
    ax.set_ylim(-0.6, rungs[-1].level + 0.6)
    ax.set_yticklabels([f"{r.level} {r.name}" for r in rungs], fontsize=BIG - 3)
    ax.set_ylabel("")
    locator = mdates.AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(axis="x", labelsize=BIG - 3)
    _legend_below(ax, handles, -0.12, ncol=2)
    ax.set_title("Events so far, at the rung each reached", fontsize=BIG + 1)
    return fig
