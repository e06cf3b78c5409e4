"""Played decisions: a team's choices entering the rules as decision inputs (the wargame).

In a wargame a team commands one actor (the US, or Iran) in some replicates ("played
rows"); the model plays every other actor, and every other replicate, under its doctrine.
The rules stay where they are (``sim/rules/us.py``, ``sim/rules/iran.py``): where a rule
draws its actor's decision, it asks :class:`Played` to replace the drawn decision of the
played rows by the team's choice, and nothing else changes. The consequences of a choice
(the lag before a strike lands, its size, what it kills, the answer of the others) are the
rules' own, on the same random draws. With no ``Played`` (``None``, every run but a game)
the rules take the path they always took.

A choice here is mechanical, not a rule: which rows a team plays, and what it chose today
(the US: a strike on a group in Iraq or Syria, a strike on its leaders, the posture change,
open war after an Iranian strike; Iran: a green light level and a supply level that hold
until changed, restraint, a direct strike).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.state import NEVER, State

NONE = -1  # no group chosen


def _rows(values=()) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).reshape(-1)


@dataclass
class Played:
    """Which replicate rows each team plays, and its choices (one entry per played row).

    ``us`` and ``iran`` hold the rows the US team and the Iran team play (empty: none).
    The US fields and Iran's ``restrain``/``strike`` are the day's choices (reset by
    :meth:`new_day`); Iran's ``green_light`` and ``supply`` are standing orders.
    """

    us: np.ndarray = field(default_factory=_rows)
    iran: np.ndarray = field(default_factory=_rows)
    # the US team's decision of the day, one per row of ``us``
    strike_group: np.ndarray = field(default_factory=_rows)  # group to strike, or NONE
    strike_in_iraq: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    leaders_group: np.ndarray = field(default_factory=_rows)  # group whose leaders, or NONE
    posture: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    war: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # the Iran team's standing orders and decision of the day, one per row of ``iran``
    green_light: np.ndarray = field(default_factory=lambda: np.zeros(0))
    supply: np.ndarray = field(default_factory=lambda: np.zeros(0))
    restrain: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    strike: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @classmethod
    def teams(cls, us=(), iran=(), green_light: float = 1.0) -> Played:
        """Teams playing the US in rows ``us`` and Iran in rows ``iran``, nothing chosen
        yet (Iran's standing orders: ``green_light``, normal supply)."""
        us, iran = _rows(us), _rows(iran)
        played = cls(us=us, iran=iran)
        played.green_light = np.full(len(iran), float(green_light))
        played.supply = np.ones(len(iran))
        played.new_day()
        return played

    def new_day(self) -> None:
        """Forget the day's choices (standing orders hold)."""
        n, k = len(self.us), len(self.iran)
        self.strike_group = np.full(n, NONE, dtype=np.int64)
        self.strike_in_iraq = np.zeros(n, dtype=bool)
        self.leaders_group = np.full(n, NONE, dtype=np.int64)
        self.posture = np.zeros(n, dtype=bool)
        self.war = np.zeros(n, dtype=bool)
        self.restrain = np.zeros(k, dtype=bool)
        self.strike = np.zeros(k, dtype=bool)

    # --- what the rules ask ------------------------------------------------------------

    @staticmethod
    def _without(rows: np.ndarray, played: np.ndarray) -> np.ndarray:
        """Mask of ``rows`` the doctrine still decides (not among ``played``)."""
        return ~np.isin(rows, played)

    def doctrine_rows(self, rows: np.ndarray, actor: str) -> np.ndarray:
        """Those of ``rows`` whose ``actor`` ("us" or "iran") follows its doctrine."""
        return rows[self._without(rows, getattr(self, actor))]

    def us_strikes(
        self, rows: np.ndarray, militia: np.ndarray, state: State
    ) -> tuple[np.ndarray, np.ndarray]:
        """The (row, group) strike decisions of the day: the drawn ones of rows the doctrine
        decides, and the US team's (a group with no strike already due), in row order."""
        keep = self._without(rows, self.us)
        chosen = self.strike_group >= 0
        r, g = self.us[chosen], self.strike_group[chosen]
        ok = state.active[r] & (state.response_due[r, g] == NEVER)
        return _merged(rows[keep], militia[keep], r[ok], g[ok])

    def us_strike_in_iraq(self, rows: np.ndarray, in_iraq: np.ndarray) -> np.ndarray:
        """Where each decided strike lands: the team's choice for its rows."""
        out = in_iraq.copy()
        for row, where in zip(self.us, self.strike_in_iraq, strict=True):
            out[rows == row] = where
        return out

    def us_leaders(
        self, rows: np.ndarray, group: np.ndarray, eligible: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The leadership strikes decided today: the drawn ones of doctrine rows, and the
        team's where ``eligible`` (R, M) allows (idle, an intact leadership, formed)."""
        keep = self._without(rows, self.us)
        chosen = self.leaders_group >= 0
        r, g = self.us[chosen], self.leaders_group[chosen]
        ok = eligible[r, g]
        return _merged(rows[keep], group[keep], r[ok], g[ok])

    def us_posture(self, rows: np.ndarray) -> np.ndarray:
        """Rows starting the posture change today: the doctrine's trigger in its rows, and
        the team's choice in its own."""
        return np.union1d(self.doctrine_rows(rows, "us"), self.us[self.posture])

    def us_war(self, rows: np.ndarray, war: np.ndarray) -> np.ndarray:
        """Rows of ``rows`` (struck by Iran today) going to war: the drawn ones of doctrine
        rows, and those where the US team chose war."""
        team = self.us[self.war]
        return np.union1d(self.doctrine_rows(war, "us"), np.intersect1d(rows, team))

    def iran_supplied(self, shipped: np.ndarray) -> np.ndarray:
        """(R, ...) what Iran ships: the doctrine's, scaled by the team's supply order."""
        if len(self.iran) == 0:
            return shipped
        out = np.array(shipped, dtype=np.float64, copy=True)
        out[self.iran] *= self.supply.reshape((-1,) + (1,) * (out.ndim - 1))
        return out

    def iran_green(self, green: np.ndarray) -> np.ndarray:
        """The green light before restraint and talks: the team's level in its rows."""
        out = np.array(green, dtype=np.float64, copy=True)
        out[self.iran] = self.green_light
        return out

    def iran_restrains(self) -> np.ndarray:
        """Rows where the Iran team orders its proxies to hold back today."""
        return self.iran[self.restrain]

    def iran_strikes(self, state: State) -> np.ndarray:
        """Rows where the Iran team orders a direct strike today (none already due)."""
        rows = self.iran[self.strike]
        return rows[state.active[rows] & (state.retaliation_due[rows] == NEVER)]


def _merged(
    rows: np.ndarray, cols: np.ndarray, more_rows: np.ndarray, more_cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two sets of (row, column) cells as one, in row then column order."""
    r = np.concatenate([rows, more_rows]).astype(np.int64)
    c = np.concatenate([cols, more_cols]).astype(np.int64)
    order = np.lexsort((c, r))
    return r[order], c[order]
