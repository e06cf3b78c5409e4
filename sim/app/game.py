"""The seminar as a wargame: a team commands the US or Iran, the model plays the others.

A game steps the engine (:class:`sim.engine.Simulation`) on two rows of the same replicate:
row 0 is the game, where the teams' choices enter the rules as decision inputs
(:mod:`sim.played`); row 1 is the doctrine's run on the same random draws (common random
numbers), which the debrief sets beside the game. Nothing here restates a rule.

A day with a decision due is stepped, looked at and stepped again: the random draws are
a function of (replicate, day, stream), so a day stepped twice from the same state makes
the same events up to the point where a team decides, and the menu shows those events
(:func:`_shown_before`). After the choice, the day is stepped again from its morning with
the choice in. Decision points of a day, in the order of the rules (docs/ODD.md 3):

- ``us_response`` (US team, after the day's attacks, step 3): no response, a strike on a
  group in Iraq or in Syria, a strike on a group's leaders, or the posture change;
- ``iran`` (Iran team, after the US response, step 4; also on the first day): a green light
  level and a supply level (standing orders) and restraint or a direct strike;
- ``us_war`` (US team, the day Iranian missiles strike US forces): open war or absorb.

The menu holds what the team would know then: the day's events in the words of the news
(who claims, whom the US blames, the casualties, the rung), never the true attacker of an
attack (the events' ``source``) nor the other side's doctrine or plans.
"""

from __future__ import annotations

import copy
import dataclasses
import secrets
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.app import debrief
from sim.app.history import ATTACK_KINDS, ROLES, US_STRIKE_KINDS, Names, news, public
from sim.config import BaseConfig
from sim.engine import Simulation
from sim.played import Played
from sim.state import NEVER, Outcome

WHOSE = {"us": "the US command's", "iran": "Iran's"}
NAMED = {"us": "the US command", "iran": "Iran"}
#: the point of the day at which each decision is taken, and the team taking it
POINTS = {"us_response": "us", "iran": "iran", "us_war": "us"}
#: Iran's standing orders: the levels a team may choose
GREEN_LEVELS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
SUPPLY_LEVELS = {"0": "halt shipments", "0.5": "half", "1": "as usual", "2": "double"}
#: the letters of a game's code (no 0/O, 1/I/L)
CODE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: a game nobody has touched for this long is dropped (seconds)
ABANDONED_AFTER = 45 * 60
#: replicates of the doctrine's outcome distribution in the debrief
DEBRIEF_REPLICATES = 1000


class GameError(ValueError):
    """A request the game refuses: one line, shown to the team as it is."""


def _shown_before(point: str, kind: str, actor: str) -> bool:
    """Whether an event of the day happens before ``point`` (what the team then knows)."""
    if point == "us_response":
        return kind in ATTACK_KINDS or kind == "embassy_assault"
    before_iran = actor in ("militia", "us") and kind not in ("open_war", "us_withdrawal")
    if point == "iran":
        return before_iran
    return before_iran or kind in ("iran_direct_strike", "iran_absorbs")


def menu_events(events: pd.DataFrame, point: str, names: Names) -> list[dict]:
    """The day's events a team knows at ``point``, as news (from the shown columns only)."""
    known = public(events)
    shown = [_shown_before(point, k, a) for k, a in zip(known["kind"], known["actor"], strict=True)]
    known = known[np.asarray(shown, dtype=bool)]
    return [
        {"kind": str(e.kind), "text": line, "rung": int(e.rung)}
        for e, line in zip(known.itertuples(), news(known, names), strict=True)
    ]


@dataclass
class Decision:
    day: int
    date: str
    role: str
    point: str
    choice: dict[str, str]
    said: str  # the choice in words
    timed_out: bool = False


@dataclass
class Pending:
    point: str
    role: str
    menu: dict
    deadline: float | None


@dataclass
class Game:
    """One game: its engine, its teams and their decisions, until its debrief."""

    config: BaseConfig
    roles: tuple[str, ...]
    timer: int | None = None  # seconds per decision (None: no clock)
    replicate: int = 0
    code: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # role -> the joined team's token
    decisions: list[Decision] = field(default_factory=list)
    pending: Pending | None = None
    debrief: dict | None = None
    touched: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        config = dataclasses.replace(
            self.config,
            output=dataclasses.replace(self.config.output, events="all", daily="full"),
        )
        self.config = config
        self.sim = Simulation(config, replicates=[self.replicate, self.replicate], runs=2)
        self.sim.played = Played.teams(
            us=[0] if "us" in self.roles else [],
            iran=[0] if "iran" in self.roles else [],
            green_light=config.doctrine.iran.green_light,
        )
        self.names = Names.of(config, self.sim.params.theatre)
        self.dates = pd.date_range(config.scenario.start_date, periods=config.days + 1, freq="D")
        self._morning = None  # the state before the day being decided
        self._decided: set[str] = set()  # points decided today
        self.lock = threading.Lock()

    # --- the game's course -------------------------------------------------------------

    @property
    def day(self) -> int:
        return self.sim.day

    @property
    def ended(self) -> bool:
        return self.debrief is not None or self._over()

    def _over(self) -> bool:
        return bool(self.sim.done or self.sim.state.outcome[0] != Outcome.ONGOING)

    def advance(self, until_decision: bool) -> None:
        """Step a day (or days until a decision is due, or the end)."""
        if self.ended:
            raise GameError("the game has ended: see the debrief")
        if self.pending is not None:
            raise GameError(f"{WHOSE[self.pending.role]} decision is due first")
        while True:
            self._day()
            if self.pending is not None or self._over() or not until_decision:
                break

    def _day(self) -> None:
        """Step the day from its morning; pause at the first decision due, or keep it."""
        if self._morning is None:
            self._morning = self._snapshot()
        else:
            self._restore(self._morning)
        self.sim.step()
        point = self._due()
        if point is None:
            self._morning = None
            self._decided.clear()
            self.sim.played.new_day()
            return
        self.pending = Pending(
            point,
            POINTS[point],
            self.menu(point),
            None if not self.timer else time.monotonic() + self.timer,
        )

    def _snapshot(self):
        sim = self.sim
        return (copy.deepcopy(sim.state), copy.deepcopy(sim.log), sim.day, len(sim._days))

    def _restore(self, morning) -> None:
        state, log, day, days = morning
        sim = self.sim
        del sim._days[days:]  # the days recorded since that morning
        sim.state, sim.log, sim.day = copy.deepcopy(state), copy.deepcopy(log), day

    def _today(self, row: int = 0) -> pd.DataFrame:
        """The events of the day just stepped in ``row`` (0: the game)."""
        frame, rows = self.sim._events()
        return frame[(rows == row) & (frame["day"].to_numpy() == self.sim.day - 1)]

    def _due(self) -> str | None:
        """The first decision point of the day stepped that a team must decide."""
        events = self._today()
        kinds = set(events["kind"].astype(str))
        day = self.sim.day - 1
        due = {
            "us_response": bool(kinds & {*ATTACK_KINDS, "embassy_assault"}),
            "iran": day == 0 or bool(kinds & {*US_STRIKE_KINDS, "iranians_struck"}),
            "us_war": "iran_direct_strike" in kinds,
        }
        for point, role in POINTS.items():
            if role in self.roles and due[point] and point not in self._decided:
                return point
        return None

    # --- menus and decisions -----------------------------------------------------------

    def _group(self, i: int) -> str:
        return self.config.actors.militias[i].name

    def menu(self, point: str) -> dict:
        """What the team deciding at ``point`` sees and may choose (nothing hidden)."""
        state, day = self.sim.state, self.sim.day - 1
        fields: dict[str, list[dict]] = {}
        if point == "us_response":
            acts = [{"id": "none", "label": "No response"}]
            formed = np.flatnonzero(state.formed[0])
            for where, label in (("syria", "in Syria"), ("iraq", "in Iraq")):
                for i in formed:
                    if state.response_due[0, i] == NEVER:
                        name = self.names.group(self._group(i))
                        acts.append(
                            {
                                "id": f"strike_{where}:{self._group(i)}",
                                "label": f"Strike {name} {label}",
                            }
                        )
            if state.decapitation_due[0] == NEVER:
                for i in formed:
                    if state.leadership[0, i] >= 1.0:
                        name = self.names.group(self._group(i))
                        acts.append(
                            {
                                "id": f"leaders:{self._group(i)}",
                                "label": f"Strike the leaders of {name}",
                            }
                        )
            if state.consolidation_start[0] == NEVER:
                us = self.config.doctrine.us
                acts.append(
                    {
                        "id": "posture",
                        "label": (
                            f"Change posture: consolidate bases, move to "
                            f"{us.drawdown_target_troops:,.0f} troops, upgrade air defence"
                        ),
                    }
                )
            fields["act"] = acts
        elif point == "iran":
            played = self.sim.played
            fields["green"] = [
                {"id": f"{g:g}", "label": f"green light {g:g}"} for g in GREEN_LEVELS
            ]
            fields["supply"] = [
                {"id": k, "label": f"supply: {v}"} for k, v in SUPPLY_LEVELS.items()
            ]
            acts = [
                {"id": "none", "label": "Nothing more"},
                {
                    "id": "restrain",
                    "label": (
                        f"Rein in the proxies for {self.config.doctrine.iran.restraint_days:g} days"
                    ),
                },
            ]
            if state.retaliation_due[0] == NEVER:
                acts.append(
                    {"id": "strike", "label": "Ballistic missiles on US bases (after a few days)"}
                )
            fields["act"] = acts
            current = {"green": f"{played.green_light[0]:g}", "supply": f"{played.supply[0]:g}"}
        else:
            fields["answer"] = [
                {"id": "absorb", "label": "Absorb the strike"},
                {"id": "open_war", "label": "Open war on Iran"},
            ]
        defaults = {name: options[0]["id"] for name, options in fields.items()}
        if point == "iran":
            defaults.update(current)
        return {
            "point": point,
            "role": POINTS[point],
            "day": day,
            "date": self._date(day),
            "events": menu_events(self._today(), point, self.names),
            "so_far": self._so_far(day),
            "fields": fields,
            "defaults": defaults,
        }

    def _date(self, day: int) -> str:
        d = self.dates[day]
        return f"{d.day} {d:%b %Y}"

    def _so_far(self, upto: int) -> dict:
        """Counters of the game before day ``upto`` (public knowledge), and the ladder."""
        frame, rows = self.sim._events()
        past = frame[(rows == 0) & (frame["day"].to_numpy() < upto)]
        kind = past["kind"].astype(str)
        rungs = {r.level: r.name for r in self.config.ladder.rungs}
        top = int(past["rung"].max()) if len(past) else 0
        return {
            "attacks": int(kind.isin(ATTACK_KINDS).sum()),
            "killed_us": int(past["killed_us"].sum()),
            "wounded_us": int(past["wounded_us"].sum()),
            "us_strikes": int(kind.isin(US_STRIKE_KINDS).sum()),
            "highest_rung": f"{top} {rungs.get(top, '')}".strip(),
        }

    def decide(self, role: str, choice: dict, timed_out: bool = False) -> None:
        """The team of ``role`` decides the pending point; the day is stepped again."""
        if self.ended:
            raise GameError("the game has ended: no more decisions")
        pending = self.pending
        if pending is None:
            raise GameError("no decision is due now")
        if role != pending.role:
            raise GameError(f"this decision is {WHOSE[pending.role]}, not {WHOSE[role]}")
        if not isinstance(choice, dict):
            raise GameError("a decision is a set of choices (field: option)")
        fields = pending.menu["fields"]
        unknown = sorted(set(choice) - set(fields))
        if unknown:
            raise GameError(f"{unknown[0]}: not a choice here (choose {', '.join(fields)})")
        picked = {}
        for name, options in fields.items():
            value = str(choice.get(name, ""))
            ids = [o["id"] for o in options]
            if value not in ids:
                raise GameError(f"{name}: {value!r} is not on the menu")
            picked[name] = value
        said = "; ".join(
            next(o["label"] for o in fields[n] if o["id"] == v) for n, v in picked.items()
        )
        self._apply(pending.point, picked)
        day = pending.menu["day"]
        self.decisions.append(
            Decision(day, self._date(day), role, pending.point, picked, said, timed_out)
        )
        self._decided.add(pending.point)
        self.pending = None
        self._day()

    def _apply(self, point: str, picked: dict[str, str]) -> None:
        played = self.sim.played
        militias = [m.name for m in self.config.actors.militias]
        if point == "us_response":
            act, _, group = picked["act"].partition(":")
            if act.startswith("strike_"):
                played.strike_group[0] = militias.index(group)
                played.strike_in_iraq[0] = act == "strike_iraq"
            elif act == "leaders":
                played.leaders_group[0] = militias.index(group)
            elif act == "posture":
                played.posture[0] = True
        elif point == "iran":
            played.green_light[0] = float(picked["green"])
            played.supply[0] = float(picked["supply"])
            played.restrain[0] = picked["act"] == "restrain"
            played.strike[0] = picked["act"] == "strike"
        else:
            played.war[0] = picked["answer"] == "open_war"

    def expire(self) -> None:
        """A decision whose clock ran out: the menu's first options (no action; Iran's
        standing orders hold)."""
        p = self.pending
        if p is not None and p.deadline is not None and time.monotonic() >= p.deadline:
            self.decide(p.role, dict(p.menu["defaults"]), timed_out=True)

    # --- what the page shows -----------------------------------------------------------

    def view(self, role: str | None) -> dict:
        """The game as the team of ``role`` sees it (the menu only if its decision is due)."""
        frame, rows = self.sim._events()
        day_done = self.sim.day - (self.pending is not None)
        mine = frame[(rows == 0) & (frame["day"].to_numpy() < day_done)]
        lines = [
            {"day": int(e.day), "date": self._date(int(e.day)), "text": text, "rung": int(e.rung)}
            for e, text in zip(mine.itertuples(), news(mine, self.names), strict=True)
        ]
        pending = None
        if self.pending is not None:
            p = self.pending
            left = None if p.deadline is None else max(0.0, p.deadline - time.monotonic())
            pending = {
                "point": p.point,
                "role": p.role,
                "seconds_left": left,
                "menu": p.menu if role == p.role else None,
            }
        return {
            "code": self.code,
            "roles": {r: {"label": ROLES[r], "joined": r in self.tokens} for r in self.roles},
            "role": role,
            "day": day_done,
            "days": self.config.days,
            "date": self._date(min(day_done, self.config.days)),
            "news": lines[-60:],
            "so_far": self._so_far(day_done),
            "pending": pending,
            "ended": self.ended,
            # a team's own decisions only: the other team's orders are its secret
            "decisions": [dataclasses.asdict(d) for d in self.decisions if d.role == role],
            "timer": self.timer,
        }

    def roles_of(self, token: str) -> str:
        """The role a team's token plays."""
        return next(role for role, known in self.tokens.items() if known == token)

    def view_ended(self, role: str | None) -> dict:
        """The game after its end: its decisions and its debrief (without the files)."""
        return {
            "code": self.code,
            "roles": {r: {"label": ROLES[r], "joined": r in self.tokens} for r in self.roles},
            "role": role,
            "ended": True,
            "pending": None,
            "decisions": [dataclasses.asdict(d) for d in self.decisions],
            "debrief": {k: v for k, v in (self.debrief or {}).items() if k != "files"},
        }

    # --- the end -------------------------------------------------------------------------

    def finish(self, replicates: int = DEBRIEF_REPLICATES) -> dict:
        """The debrief (:mod:`sim.app.debrief`); the engine is freed."""
        if self.debrief is None:
            if self.pending is not None:  # ended while a team decides: the days before it
                self._restore(self._morning)
            self.pending = None
            self.debrief = debrief.build(self, replicates)
            self.sim = None  # the engine's memory goes with it
        return self.debrief


def new_code(taken) -> str:
    """A short code for the projector, not one of ``taken``."""
    while True:
        code = "".join(secrets.choice(CODE_LETTERS) for _ in range(5))
        if code not in taken:
            return code
