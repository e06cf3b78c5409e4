"""A seminar run as a precomputed history: both sides' whole runs, day by day, for the page.

Reset computes both sides to the horizon at once in the NumPy engine (:class:`sim.engine.
Simulation`, one replicate each, the same seed) and hands the page, as JSON, what it shows
on each day: the rung, the running counters, the day's events in words and where they
happened. The page then plays this back without asking the server again, so Step, Pause,
"go to day" and the scrubber are exact and instant. Nothing here restates a rule: every
number is read from the engine's daily record and event log.

:func:`side_history` reads any stepped :class:`~sim.engine.Simulation`. The wargame
(:mod:`sim.app.game`) words its news the same way, from what the public knows of each
event (:func:`public`: never the true attacker).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config import BaseConfig, leaves
from sim.engine import Simulation
from sim.plots import basemap
from sim.plots.style import _short_label
from sim.theatre import Theatre

#: the counters the page shows: key -> (label, event kinds counted; None: from the daily
#: record). US strikes count strikes in Iraq and Syria and leadership strikes; Iranian
#: strikes count days with a direct strike (one salvo may hit two bases), as the run's
#: summary does.
COUNTERS: dict[str, str] = {
    "attacks": "Militia attacks",
    "killed_us": "US killed",
    "wounded_us": "US wounded",
    "killed_iraqi": "Iraqis killed",
    "us_strikes": "US strikes",
    "raids": "Iraqi raids",
    "israeli_strikes": "Israeli strikes",
    "iranian_strikes": "Iranian strikes",
}
US_STRIKE_KINDS = ("us_strike_iraq", "us_strike_syria", "decapitation")
ATTACK_KINDS = ("base_attack", "convoy_ied")

#: how the day's news names what happened: kind -> wording ({target} is the place)
NEWS = {
    "us_strike_iraq": "US airstrike on {target}",
    "us_strike_syria": "US airstrike on {target} (Syria)",
    "decapitation": "US strike kills militia leaders at {target}",
    "embassy_assault": "crowd storms {target}",
    "iran_direct_strike": "Iranian ballistic missiles on {target}",
    "open_war": "open war between the US and Iran",
    "israeli_strike": "Israeli airstrike on {target}",
    "iraqi_raid": "Iraqi forces raid {target}",
    "fighters_released": "Iraq releases detained fighters",
    "expulsion_vote": "Iraqi parliament votes to expel US forces",
    "embassy_closure_threat": "US threatens to close its embassy",
    "truce": "militias announce a truce",
    "show_of_force": "US show of force",
    "site_closed": "US forces leave {target}",
    "air_defence_upgrade": "US air defences upgraded at {target}",
    "drawdown": "US troop drawdown",
    "us_withdrawal": "US forces withdraw from Iraq",
    "build_up": "US troop build-up",
    "talks_open": "US-Iran talks open",
    "talks_collapse": "US-Iran talks collapse",
    "iranians_struck": "Iranian personnel killed in a strike at {target}",
    "iran_absorbs": "Iran absorbs the blow and holds back",
    "iran_envoy_visit": "Iranian envoy visits Baghdad",
    "splinter_formed": "a splinter group forms",
}


@dataclass(frozen=True)
class Names:
    """Display names of groups and places, as a class knows them."""

    groups: dict[str, str]  # militia key, or front key -> name
    places: dict[str, str]  # site key or convoy:<segment> -> name

    @classmethod
    def of(cls, config: BaseConfig, theatre: Theatre) -> Names:
        groups = {}
        for m in config.actors.militias:
            groups[m.name] = m.label or m.name.replace("_", " ")
            if m.front:
                groups[m.front] = m.front.replace("_", " ").title().replace(" Al ", " al-")
        for state in ("us", "iran", "israel", "iraq_gov"):
            groups.setdefault(state, {"us": "the US", "iraq_gov": "Baghdad"}.get(state, state))
        places = {s.name: _short_label(s.label or s.name) for s in theatre.config.sites}
        for seg in theatre.segments:
            a, b = (places[theatre.site_names[i]] for i in (seg.a, seg.b))
            places[f"convoy:{seg.name}"] = f"between {a} and {b}"
        return cls(groups, places)

    def group(self, key: str) -> str:
        return self.groups.get(key, key.replace("_", " "))

    def place(self, key: str) -> str:
        return self.places.get(key, key.replace("_", " "))


def _casualties(e) -> str:
    parts = []
    if e.killed_us or e.wounded_us:
        us = [f"{int(e.killed_us)} US killed"] * bool(e.killed_us)
        us += [f"{int(e.wounded_us)} US wounded"] * bool(e.wounded_us)
        parts.append(" and ".join(us))
    if e.killed_iraqi:
        parts.append(f"{int(e.killed_iraqi)} Iraqi{'s' * (e.killed_iraqi != 1)} killed")
    if e.killed_militia:
        parts.append(f"{int(e.killed_militia)} militia killed")
    return ", ".join(parts)


def news_line(e, names: Names) -> str:
    """One event in a line of news: what, where, the toll, and who claimed or is blamed."""
    place = names.place(e.target) if e.target else ""
    weapon = str(e.weapon).replace("_", " ")  # by its key: no weapon is named in code
    weapon = weapon.upper() if len(weapon) <= 3 else weapon  # a short key is an acronym
    if e.kind == "base_attack":
        what = f"{weapon} attack on {place}"
        if e.munitions > 1:
            what += f" ({int(e.munitions)} fired)"
    elif e.kind == "convoy_ied":
        what = f"{weapon} on a US supply convoy {place}"
    else:
        what = NEWS.get(e.kind, e.kind.replace("_", " ") + " {target}").format(target=place)
        what = what.replace("  ", " ").strip()
    toll = _casualties(e)
    if e.intercepted:
        toll = "intercepted" + (f", {toll}" if toll else "")
    line = what + (f", {toll}" if toll else "")
    if e.kind in ATTACK_KINDS:
        if e.claimed_by:
            line += f"; claimed by {names.group(e.claimed_by)}"
        else:
            line += "; unclaimed"
        if e.blamed:
            line += f"; the US blames {names.group(e.blamed)}"
    elif e.blamed and e.blamed != e.source and e.actor != "militia":
        line += f"; blamed on {names.group(e.blamed)}"
    return line[0].upper() + line[1:]


#: the roles a wargame's team may play (sim.app.game)
ROLES = {"us": "US command", "iran": "Iran"}

#: the event columns a menu may read (never ``source``: the true attacker)
SHOWN_COLUMNS = (
    "day",
    "actor",
    "kind",
    "weapon",
    "target",
    "claimed_by",
    "blamed",
    "munitions",
    "intercepted",
    "killed_us",
    "wounded_us",
    "killed_iraqi",
    "killed_militia",
    "rung",
)


def public(events: pd.DataFrame) -> pd.DataFrame:
    """The events as the public knows them: the shown columns only, a state actor as its
    own source and a militia attack with none (the true attacker is not known)."""
    known = events.loc[:, list(SHOWN_COLUMNS)].copy()
    actor = known["actor"].astype(str)
    known["source"] = np.where(actor == "militia", "", actor)
    return known


def news(events: pd.DataFrame, names: Names) -> list[str]:
    """The events' lines of news, from what the public knows of them (:func:`public`)."""
    return [news_line(e, names) for e in public(events).itertuples()]


def _cumulative(values: np.ndarray) -> list[int]:
    return np.cumsum(np.rint(values)).astype(np.int64).tolist()


def _per_day(events: pd.DataFrame, mask: np.ndarray, days: int, column: str | None = None):
    chosen = events[mask]
    weights = None if column is None else chosen[column].to_numpy(dtype=float)
    return np.bincount(chosen["day"].to_numpy(), weights=weights, minlength=days)[:days]


def side_history(sim: Simulation, names: Names) -> dict:
    """What the page shows of one side on each day stepped so far (replicate 0)."""
    days = sim.day
    events = sim.events_frame()
    daily = sim.daily_frame()
    kind = events["kind"].astype(str).to_numpy()
    counts = {
        "attacks": _per_day(events, np.isin(kind, ATTACK_KINDS), days),
        "killed_us": _per_day(events, np.ones(len(events), bool), days, "killed_us"),
        "wounded_us": _per_day(events, np.ones(len(events), bool), days, "wounded_us"),
        "killed_iraqi": _per_day(events, np.ones(len(events), bool), days, "killed_iraqi"),
        "us_strikes": _per_day(events, np.isin(kind, US_STRIKE_KINDS), days),
        "raids": _per_day(events, kind == "iraqi_raid", days),
        "israeli_strikes": _per_day(events, kind == "israeli_strike", days),
        "iranian_strikes": _per_day(events, kind == "iran_direct_strike", days) > 0,
    }
    theatre = sim.params.theatre
    mids = {f"convoy:{s.name}": i for i, s in enumerate(theatre.segments)}
    news = []
    for e in events.itertuples():
        where = None
        if e.target in theatre.site_index:
            i = theatre.site_index[e.target]
            where = [float(theatre.lon[i]), float(theatre.lat[i])]
        elif e.target in mids:
            seg = theatre.segments[mids[e.target]]
            where = [
                float((theatre.lon[seg.a] + theatre.lon[seg.b]) / 2),
                float((theatre.lat[seg.a] + theatre.lat[seg.b]) / 2),
            ]
        news.append(
            {
                "day": int(e.day),
                "kind": e.kind,
                "actor": e.actor,
                "text": news_line(e, names),
                "at": where,
                "rung": int(e.rung),
            }
        )
    return {
        "rung": daily["rung"].to_numpy(dtype=np.int64).tolist(),
        "counters": {key: _cumulative(values) for key, values in counts.items()},
        "events": news,
        "doctrine": sim.config.doctrine.us.name,
    }


def _sites(theatre: Theatre, handed_over: list[str]) -> list[dict]:
    return [
        {
            "name": s.name,
            "label": s.label or s.name,
            "short": _short_label(s.label or s.name),
            "lon": s.lon,
            "lat": s.lat,
            "side": s.side,
            "closed": s.name in handed_over,
        }
        for s in theatre.config.sites
    ]


def theatre_map(theatre: Theatre, handed_over: list[str]) -> dict:
    """The map the page draws: bounds, base map (:func:`sim.plots.basemap.view`), sites,
    routes, and a scale bar (km, degrees of longitude)."""
    c = theatre.config
    sites = tuple(zip(theatre.lon.tolist(), theatre.lat.tolist(), strict=True))
    km, width = basemap.scale_bar_km(c.lon_min, c.lon_max, c.lat_min)
    routes = [
        {
            "kind": seg.kind,
            "line": [
                [float(theatre.lon[seg.a]), float(theatre.lat[seg.a])],
                [float(theatre.lon[seg.b]), float(theatre.lat[seg.b])],
            ],
        }
        for seg in theatre.segments
    ]
    return {
        "bounds": [c.lon_min, c.lat_min, c.lon_max, c.lat_max],
        "aspect": 1.0 / math.cos(math.radians((c.lat_min + c.lat_max) / 2)),
        "base": basemap.view(c.lon_min, c.lat_min, c.lon_max, c.lat_max, avoid=sites),
        "sites": _sites(theatre, list(handed_over)),
        "routes": routes,
        "scale": {"km": km, "degrees": width},
    }


def _shown(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


def differences(config_a: BaseConfig, config_b: BaseConfig) -> list[list[str]]:
    """What differs between the two sides' configurations: [setting, A, B] (the seminar's
    sides differ in the US doctrine only; any other difference is listed too)."""
    a, b = leaves(config_a), leaves(config_b)
    rows = []
    for path in sorted(set(a) | set(b)):
        if path.endswith(".source") or a.get(path) == b.get(path):
            continue
        label = path.removeprefix("doctrine.us.").replace("_", " ")
        label = "US doctrine" if path == "doctrine.us.name" else label
        rows.append([label, _shown(a.get(path, "")), _shown(b.get(path, ""))])
    rows.sort(key=lambda row: row[0] != "US doctrine")
    return rows


def run_pair(config_a: BaseConfig, config_b: BaseConfig) -> dict:
    """Both sides to the horizon: the history the page plays back."""
    sides = {}
    for side, config in (("A", config_a), ("B", config_b)):
        sim = Simulation(config, replicates=[0])
        sim.run()
        sides[side] = side_history(sim, Names.of(config, sim.params.theatre))
        theatre = sim.params.theatre
    start = pd.Timestamp(config_a.scenario.start_date)
    dates = pd.date_range(start, periods=config_a.days, freq="D")
    return {
        "days": config_a.days,
        "dates": [f"{d.day} {d:%b %Y}" for d in dates],
        "rungs": [[r.level, r.name] for r in sorted(config_a.ladder.rungs, key=lambda r: r.level)],
        "counters": COUNTERS,
        "sides": sides,
        "map": theatre_map(theatre, config_a.scenario.sites_handed_over),
        "seed": config_a.seed,
        "scenario": config_a.scenario.name,
        "differs": differences(config_a, config_b),
    }
