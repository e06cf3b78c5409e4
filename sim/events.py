"""The event vocabulary and a columnar, append-only event log.

Every phase of the core appends whole batches of events (NumPy arrays, one element
per replicate that had the event) instead of Python objects, so the log costs the
same whether R is 1 or 10,000.
"""

from __future__ import annotations

from enum import IntEnum, unique

import numpy as np
import pandas as pd

from sim.numerics.reductions import row_range
from sim.numerics.tallies import tally


@unique
class Actor(IntEnum):
    MILITIA = 0
    US = 1
    IRAN = 2
    ISRAEL = 3
    IRAQ_GOV = 4


@unique
class Action(IntEnum):
    """What an actor did. A militia attack is an ``ATTACK`` in the log; its action in the
    events table is its weapon's (``weapons.<name>.action``, the record's vocabulary)."""

    ATTACK = 0
    BALLISTIC_MISSILE = 1
    AIRSTRIKE = 2
    RAID = 3
    ASSAULT = 4
    OTHER = 5


@unique
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
    BUILD_UP = 20
    TALKS_OPEN = 21
    TALKS_COLLAPSE = 22
    IRANIANS_STRUCK = 23
    IRAN_ABSORBS = 24
    IRAN_ENVOY_VISIT = 25
    SPLINTER_FORMED = 26


@unique
class Signal(IntEnum):
    """What an act said in public, apart from what it meant and what it did."""

    NONE = 0
    CLAIMED = 1  # claimed by the group in its own name
    CLAIMED_BY_FRONT = 2  # claimed under a front name: deniable
    UNCLAIMED = 3
    WARNED = 4  # the target was warned first
    UNWARNED = 5
    ANNOUNCED = 6  # the actor said it did it


@unique
class Intent(IntEnum):
    """What an act was meant to do."""

    NONE = 0
    HARASS = 1  # aimed to avoid casualties
    KILL = 2
    RETALIATE = 3
    DECAPITATE = 4
    INTERDICT = 5
    ENFORCE = 6  # a government enforcing the law on a group
    PROTEST = 7


#: the columns of whole numbers: the replicate, the day, and codes of names
_CODES = (
    "replicate",
    "day",
    "actor",
    "action",
    "kind",
    "weapon",
    "source",
    "target",
    "claimed_by",
    "blamed",
    "signal",
    "intent",
)
COLUMNS = (
    *_CODES,
    "munitions",
    "intercepted",
    "killed_us",
    "wounded_us",
    "killed_iraqi",
    "wounded_iraqi",
    "killed_militia",
    "rung",
    "score",
)
_INT_COLUMNS = set(_CODES)


#: casualty columns summed per replicate for every event, stored or not
CASUALTY_COLUMNS = ("killed_us", "wounded_us", "killed_iraqi", "wounded_iraqi", "killed_militia")


def is_attack(actor: int, kind: np.ndarray) -> np.ndarray:
    """Which events are militia attacks: those of a weapon's kind (sim.config.WEAPON_KINDS);
    the other militia events (an embassy assault, a group splitting) are not attacks."""
    kind = np.asarray(kind)
    if actor != Actor.MILITIA:
        return np.zeros(kind.shape, dtype=bool)
    return (kind == EventKind.CONVOY_IED) | (kind == EventKind.BASE_ATTACK)


class EventLog:
    """Columnar event store. ``add`` takes arrays of equal length (or scalars to broadcast).

    ``source`` and ``target`` are indices into the name lists given to ``to_frame``
    (actors' and sites' names); -1 means none.

    Args:
        replicates: how many replicates (rows) the run has; the tallies grow on demand
            when it is not given.
        keep: which rows' events to store, a boolean mask of length ``replicates``
            (default: every row). Rows not kept still count in the tallies.

    Tallies, one row per replicate, kept for every replicate whatever ``keep`` says:
    ``kind_counts`` (events of each :class:`EventKind`), ``kind_days`` (days with at
    least one event of each kind; events are added day by day, in order of days),
    ``attack_counts`` (militia attacks by weapon, last column for attacks without a
    weapon) and ``casualties`` (sums of :data:`CASUALTY_COLUMNS`).

    ``weapons`` is the number of militia weapons (the ``weapon`` codes 0 .. weapons - 1).
    """

    def __init__(
        self, replicates: int = 0, keep: np.ndarray | None = None, weapons: int = 0
    ) -> None:
        self._chunks: list[dict[str, np.ndarray]] = []
        self._keep = None if keep is None else np.asarray(keep, dtype=bool)
        if self._keep is not None and len(self._keep) != replicates:
            raise ValueError(f"keep has {len(self._keep)} rows for {replicates} replicates")
        # rows from this one on are never kept (a sample is the first rows): most batches
        # of events then need no look at the mask
        self._kept_below = replicates
        if self._keep is not None:
            self._kept_below = int(np.flatnonzero(self._keep)[-1]) + 1 if self._keep.any() else 0
        # (count, days, last day counted) of each (kind, row) side by side, kind by kind: a
        # batch of events of one kind, rows in order, walks one slab of the table in order
        # and touches one cache line an event (at 10,000 rows the table is megabytes)
        self._kinds = np.zeros((len(EventKind), replicates, 3), dtype=np.int64)
        self._kinds[:, :, 2] = -1
        self.attack_counts = np.zeros((replicates, weapons + 1), dtype=np.int64)
        self.casualties = np.zeros((replicates, len(CASUALTY_COLUMNS)))

    @property
    def replicates(self) -> int:
        """Rows of the tallies."""
        return self._kinds.shape[1]

    @property
    def kind_counts(self) -> np.ndarray:
        """(rows, kinds) events of each kind (a view)."""
        return self._kinds[:, :, 0].T

    @property
    def kind_days(self) -> np.ndarray:
        """(rows, kinds) days with at least one event of each kind (a view)."""
        return self._kinds[:, :, 1].T

    @property
    def _last_day(self) -> np.ndarray:
        """(rows, kinds) the last day counted in ``kind_days`` (a view)."""
        return self._kinds[:, :, 2].T

    def grow(self, replicates: int) -> None:
        """Make room in the tallies for ``replicates`` rows (new rows start at zero)."""
        extra = replicates - self.replicates
        if extra <= 0:
            return

        def pad(a: np.ndarray, axis: int = 0) -> np.ndarray:
            shape = list(a.shape)
            shape[axis] = extra
            return np.concatenate([a, np.zeros(shape, dtype=a.dtype)], axis=axis)

        self._kinds = pad(self._kinds, axis=1)
        self._kinds[:, -extra:, 2] = -1
        self.attack_counts = pad(self.attack_counts)
        self.casualties = pad(self.casualties)
        if self._keep is not None:
            self._keep = np.concatenate([self._keep, np.zeros(extra, dtype=bool)])

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
        claimed_by: np.ndarray | int = -1,
        blamed: np.ndarray | int = -1,
        signal: np.ndarray | int = Signal.NONE,
        intent: np.ndarray | int = Intent.NONE,
        munitions: np.ndarray | float = 0,
        intercepted: np.ndarray | bool = False,
        killed_us: np.ndarray | float = 0,
        wounded_us: np.ndarray | float = 0,
        killed_iraqi: np.ndarray | float = 0,
        wounded_iraqi: np.ndarray | float = 0,
        killed_militia: np.ndarray | float = 0,
        rung: np.ndarray | int = 0,
        score: np.ndarray | float = 0.0,
    ) -> None:
        """Append one event per element of ``replicate`` (a row index of the run).

        Every event counts in the tallies; only those of kept rows are stored.
        """
        n = len(replicate)
        if n == 0:
            return
        rows = np.asarray(replicate, dtype=np.int64)
        if isinstance(kind, np.ndarray) and kind.ndim:
            kind = as_column(kind, n, np.int64)
        else:  # one kind for the whole batch: stored (and tallied) as that one value
            kind = int(kind)
        casualties = (killed_us, wounded_us, killed_iraqi, wounded_iraqi, killed_militia)
        lowest = self._tally(rows, int(day), int(actor), kind, weapon, casualties)
        stored = None  # positions of the events kept (None: all)
        if self._keep is not None:
            if lowest >= self._kept_below:
                return
            kept = self._keep[rows]
            if not kept.any():
                return
            if not kept.all():
                stored = np.flatnonzero(kept)
        values = {
            "replicate": rows,
            "day": day,
            "actor": int(actor),
            "action": action,
            "kind": kind,
            "weapon": weapon,
            "source": source,
            "target": target,
            "claimed_by": claimed_by,
            "blamed": blamed,
            "signal": int(signal) if isinstance(signal, Signal) else signal,
            "intent": int(intent) if isinstance(intent, Intent) else intent,
            "munitions": munitions,
            "intercepted": intercepted,
            "killed_us": killed_us,
            "wounded_us": wounded_us,
            "killed_iraqi": killed_iraqi,
            "wounded_iraqi": wounded_iraqi,
            "killed_militia": killed_militia,
            "rung": rung,
            "score": score,
        }
        # a column given as one value for every event is kept as that value, converted
        # when ``columns`` spreads it: converting a dozen of them per batch cost more than
        # the batch
        chunk = {}
        for name, value in values.items():
            if not isinstance(value, np.ndarray):
                chunk[name] = value
            elif value.ndim == 0:
                chunk[name] = value.item()
            elif stored is None:
                chunk[name] = value.astype(_DTYPES[name])  # a copy
            else:  # select first: in a sample, few of the events are kept
                chunk[name] = value[stored].astype(_DTYPES[name], copy=False)
        self._chunks.append(chunk)

    def _tally(self, rows, day: int, actor: int, kind, weapon, casualties) -> int:
        """Count a batch of events in the tallies; returns the lowest row of the batch.

        ``kind`` and ``weapon`` are one value for the batch or one per event."""
        n = len(rows)
        lowest, top = row_range(rows)
        if top >= self.replicates:
            self.grow(int(top) + 1)
        # the casualty columns with something to add (a scalar is most often zero)
        added = [
            (i, value)
            for i, value in enumerate(casualties)
            if isinstance(value, np.ndarray) or value != 0
        ]
        values, columns = _NO_VALUES, _NO_COLUMNS
        if added:
            values = np.empty((len(added), n))
            for j, (_, value) in enumerate(added):
                values[j] = value
            columns = np.array([i for i, _ in added], dtype=np.int64)
        attack = np.asarray(is_attack(actor, kind)).reshape(-1)  # one flag, or each
        tally(
            rows, _one_or_each(kind), day, attack, _one_or_each(weapon), self._kinds,
            self.attack_counts, columns, values, self.casualties,
        )  # fmt: skip
        return int(lowest)

    def __len__(self) -> int:
        """Events stored (the tallies also count those of rows not kept)."""
        return sum(len(c["replicate"]) for c in self._chunks)

    def columns(self) -> dict[str, np.ndarray]:
        """All events as arrays, sorted by (replicate, day, order of insertion)."""
        if not self._chunks:
            return {name: np.zeros(0, dtype=_dtype(name)) for name in COLUMNS}
        sizes = np.array([len(c["replicate"]) for c in self._chunks])
        ends = np.cumsum(sizes)
        cols = {}
        for name in COLUMNS:
            dtype = _dtype(name)
            parts = [c[name] for c in self._chunks]
            spread = [not isinstance(p, np.ndarray) for p in parts]
            if not any(spread):
                cols[name] = np.concatenate(parts)
                continue
            # the single values first, each over its batch; then the batches of arrays
            single = [p if s else 0 for p, s in zip(parts, spread, strict=True)]
            col = np.repeat(np.array(single, dtype), sizes)
            for i in np.flatnonzero(~np.array(spread)):
                col[ends[i] - sizes[i] : ends[i]] = parts[i]
            cols[name] = col
        order = np.lexsort((np.arange(len(cols["day"])), cols["day"], cols["replicate"]))
        return {name: col[order] for name, col in cols.items()}

    def to_frame(
        self,
        start_date: str,
        actor_names: list[str],
        site_names: list[str],
        weapon_names: list[str] = (),
        weapon_actions: list[str] = (),
        claimant_names: list[str] = (),
        replicate_offset: int = 0,
    ) -> pd.DataFrame:
        """The log as a tidy DataFrame with dates and readable categorical names; an
        attack's action is its weapon's (``weapon_actions``, one per weapon). ``blamed``
        indexes ``actor_names`` like ``source``; ``claimed_by`` indexes ``claimant_names``."""
        cols = self.columns()
        frame = pd.DataFrame(cols)
        frame["replicate"] += replicate_offset
        frame.insert(2, "date", pd.Timestamp(start_date) + pd.to_timedelta(frame["day"], "D"))
        frame["actor"] = _names(frame["actor"], [a.name.lower() for a in Actor])
        codes = frame["action"].to_numpy()
        action = np.array([a.name.lower() for a in Action], dtype=object)[codes]
        attacks = codes == Action.ATTACK
        weapons = frame["weapon"].to_numpy()[attacks]
        action[attacks] = np.asarray(list(weapon_actions), dtype=object)[weapons]
        frame["action"] = pd.Series(action, index=frame.index, dtype="string")
        frame["kind"] = _names(frame["kind"], [k.name.lower() for k in EventKind])
        frame["weapon"] = _names(frame["weapon"], list(weapon_names))
        frame["source"] = _names(frame["source"], actor_names)
        frame["target"] = _names(frame["target"], site_names)
        frame["claimed_by"] = _names(frame["claimed_by"], list(claimant_names))
        frame["blamed"] = _names(frame["blamed"], actor_names)
        frame["signal"] = _names(frame["signal"], [s.name.lower() for s in Signal])
        frame["intent"] = _names(frame["intent"], [i.name.lower() for i in Intent])
        for name in ("killed_us", "wounded_us", "killed_iraqi", "wounded_iraqi", "killed_militia"):
            frame[name] = frame[name].round().astype(np.int64)
        frame["munitions"] = frame["munitions"].round().astype(np.int64)
        frame["rung"] = frame["rung"].astype(np.int64)
        return frame


#: the casualty values and columns of a batch that adds none
_NO_VALUES = np.zeros((0, 0))
_NO_COLUMNS = np.zeros(0, dtype=np.int64)


def _one_or_each(value) -> np.ndarray:
    """A batch's int column as the compiled tally reads it: one value, or one per event."""
    if isinstance(value, np.ndarray) and value.ndim:
        return value if value.dtype == np.int64 else value.astype(np.int64)
    return np.array((value,), dtype=np.int64)


def as_column(value, n: int, dtype) -> np.ndarray:
    """``value`` (a scalar or an array of n) as an array of n elements of ``dtype``."""
    if isinstance(value, np.ndarray) and value.ndim:
        return value if value.dtype == dtype else value.astype(dtype)
    if np.ndim(value) == 0:
        return np.full(n, value, dtype=dtype)
    return np.asarray(value, dtype=dtype)


def _dtype(name: str) -> type:
    if name in _INT_COLUMNS:
        return np.int64
    return bool if name == "intercepted" else np.float64


_DTYPES = {name: _dtype(name) for name in COLUMNS}


def _names(codes: pd.Series, names: list[str]) -> pd.Series:
    lookup = np.array([*names, ""], dtype=object)  # -1 (none) maps to ""
    return pd.Series(lookup[codes.to_numpy()], index=codes.index, dtype="string")
