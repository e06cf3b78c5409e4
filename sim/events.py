"""The event vocabulary and a columnar, append-only event log.

Every phase of the core appends whole batches of events (NumPy arrays, one element
per replicate that had the event) instead of Python objects, so the log costs the
same whether R is 1 or 10,000.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pandas as pd


class Actor(IntEnum):
    MILITIA = 0
    US = 1
    IRAN = 2
    ISRAEL = 3
    IRAQ_GOV = 4


class Action(IntEnum):
    ROCKET = 0
    IED_CONVOY = 1
    DRONE = 2
    BALLISTIC_MISSILE = 3
    AIRSTRIKE = 4
    RAID = 5
    ASSAULT = 6
    OTHER = 7


class Weapon(IntEnum):
    """Militia weapons, in the order of the weapon axis of the state arrays."""

    ROCKET = 0
    IED = 1
    DRONE = 2


WEAPON_ACTION = (Action.ROCKET, Action.IED_CONVOY, Action.DRONE)


class EventKind(IntEnum):
    """What happened, in the terms the escalation ladder (configs/ladder/) maps to rungs."""

    CONVOY_IED = 0
    BASE_ATTACK = 1
    US_CASUALTIES = 2
    US_STRIKE_SYRIA = 3
    US_STRIKE_IRAQ = 4
    EMBASSY_ASSAULT = 5
    DECAPITATION = 6
    IRAN_DIRECT_STRIKE = 7
    OPEN_WAR = 8
    ISRAELI_STRIKE = 9
    IRAQI_RAID = 10
    FIGHTERS_RELEASED = 11
    EXPULSION_VOTE = 12
    EMBASSY_CLOSURE_THREAT = 13
    TRUCE = 14
    SHOW_OF_FORCE = 15
    SITE_CLOSED = 16
    AIR_DEFENCE_UPGRADE = 17
    DRAWDOWN = 18
    US_WITHDRAWAL = 19


COLUMNS = (
    "replicate",
    "day",
    "actor",
    "action",
    "kind",
    "weapon",
    "source",
    "target",
    "munitions",
    "intercepted",
    "killed_us",
    "wounded_us",
    "killed_iraqi",
    "wounded_iraqi",
    "killed_militia",
    "rung",
)
_INT_COLUMNS = {"replicate", "day", "actor", "action", "kind", "weapon", "source", "target"}


class EventLog:
    """Columnar event store. ``add`` takes arrays of equal length (or scalars to broadcast).

    ``source`` and ``target`` are indices into the name lists given to ``to_frame``
    (actors' and sites' names); -1 means none.
    """

    def __init__(self) -> None:
        self._chunks: list[dict[str, np.ndarray]] = []

    def add(
        self,
        replicate: np.ndarray,
        day: int,
        *,
        actor: Actor,
        action: Action | np.ndarray,
        kind: np.ndarray | int,
        weapon: np.ndarray | int = -1,
        source: np.ndarray | int = -1,
        target: np.ndarray | int = -1,
        munitions: np.ndarray | float = 0,
        intercepted: np.ndarray | bool = False,
        killed_us: np.ndarray | float = 0,
        wounded_us: np.ndarray | float = 0,
        killed_iraqi: np.ndarray | float = 0,
        wounded_iraqi: np.ndarray | float = 0,
        killed_militia: np.ndarray | float = 0,
        rung: np.ndarray | int = 0,
    ) -> None:
        """Append one event per element of ``replicate``."""
        n = len(replicate)
        if n == 0:
            return
        values = {
            "replicate": replicate,
            "day": day,
            "actor": int(actor),
            "action": action,
            "kind": kind,
            "weapon": weapon,
            "source": source,
            "target": target,
            "munitions": munitions,
            "intercepted": intercepted,
            "killed_us": killed_us,
            "wounded_us": wounded_us,
            "killed_iraqi": killed_iraqi,
            "wounded_iraqi": wounded_iraqi,
            "killed_militia": killed_militia,
            "rung": rung,
        }
        chunk = {}
        for name, value in values.items():
            dtype = (
                np.int64 if name in _INT_COLUMNS else bool if name == "intercepted" else np.float64
            )
            chunk[name] = np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()
        self._chunks.append(chunk)

    def __len__(self) -> int:
        return sum(len(c["replicate"]) for c in self._chunks)

    def columns(self) -> dict[str, np.ndarray]:
        """All events as arrays, sorted by (replicate, day, order of insertion)."""
        if not self._chunks:
            return {
                name: np.zeros(0, dtype=np.int64 if name in _INT_COLUMNS else np.float64)
                for name in COLUMNS
            }
        cols = {name: np.concatenate([c[name] for c in self._chunks]) for name in COLUMNS}
        order = np.lexsort((np.arange(len(cols["day"])), cols["day"], cols["replicate"]))
        return {name: col[order] for name, col in cols.items()}

    def to_frame(
        self,
        start_date: str,
        actor_names: list[str],
        site_names: list[str],
        replicate_offset: int = 0,
    ) -> pd.DataFrame:
        """The log as a tidy DataFrame with dates and readable categorical names."""
        cols = self.columns()
        frame = pd.DataFrame(cols)
        frame["replicate"] += replicate_offset
        frame.insert(2, "date", pd.Timestamp(start_date) + pd.to_timedelta(frame["day"], "D"))
        frame["actor"] = _names(frame["actor"], [a.name.lower() for a in Actor])
        frame["action"] = _names(frame["action"], [a.name.lower() for a in Action])
        frame["kind"] = _names(frame["kind"], [k.name.lower() for k in EventKind])
        frame["weapon"] = _names(frame["weapon"], [w.name.lower() for w in Weapon])
        frame["source"] = _names(frame["source"], actor_names)
        frame["target"] = _names(frame["target"], site_names)
        for name in ("killed_us", "wounded_us", "killed_iraqi", "wounded_iraqi", "killed_militia"):
            frame[name] = frame[name].round().astype(np.int64)
        frame["munitions"] = frame["munitions"].round().astype(np.int64)
        frame["rung"] = frame["rung"].astype(np.int64)
        return frame


def _names(codes: pd.Series, names: list[str]) -> pd.Series:
    lookup = np.array([*names, ""], dtype=object)  # -1 (none) maps to ""
    return pd.Series(lookup[codes.to_numpy()], index=codes.index, dtype="string")
