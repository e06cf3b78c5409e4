"""What every rule of a day works on: the state, the parameters, the day's random draws and
the event log (``Today``), and the day's militia attacks (``Attacks``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.events import Action, Actor, EventKind, EventLog, as_column
from sim.numerics.reductions import add_at, maximum_at
from sim.params import Params
from sim.played import Played
from sim.rng import RandomStreams, Stream
from sim.state import State


@dataclass
class Attacks:
    """Today's militia attacks, one element each (at most one per group and replicate):
    what the attackers did and said, what it did, and whom the US blames for it."""

    rows: np.ndarray
    militia: np.ndarray
    target: np.ndarray
    weapon: np.ndarray
    harass: np.ndarray  # bool: aimed to avoid casualties (else to kill)
    claimed_by: np.ndarray  # the claimant's code (Params.claimant_names), -1 unclaimed
    signal: np.ndarray  # a Signal: claimed, claimed by a front, or unclaimed
    munitions: np.ndarray
    intercepted: np.ndarray
    killed_us: np.ndarray
    wounded_us: np.ndarray
    killed_iraqi: np.ndarray
    wounded_iraqi: np.ndarray
    blamed: np.ndarray | None = None  # the group the US blames (us.attribute)
    confidence: np.ndarray | None = None  # the US's confidence in that blame

    @property
    def n(self) -> int:
        return len(self.rows)

    @classmethod
    def none(cls) -> Attacks:
        empty = np.zeros(0, dtype=np.int64)
        return cls(*[empty] * 13, blamed=empty, confidence=np.zeros(0))


@dataclass
class Today:
    """What every phase of a day works on: state, parameters, random draws, the log, and
    in a wargame the teams' decisions (``played``, :mod:`sim.played`; None otherwise)."""

    state: State
    params: Params
    streams: RandomStreams
    day: int
    log: EventLog
    played: Played | None = None

    def uniform(self, stream: Stream, slots: int, rows: np.ndarray | None = None) -> np.ndarray:
        """(rows, slots) uniforms of today's ``stream``."""
        return self.streams.uniform(self.day, stream, slots, rows)

    def uniform_at(self, stream: Stream, rows: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """One uniform of today's ``stream`` per (row, slot) pair."""
        return self.streams.uniform_at(self.day, stream, rows, slots)

    def uniforms_at(self, streams, rows: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """(len(streams), len(rows)): one uniform of each of today's ``streams`` per (row,
        slot) pair, drawn in one pass."""
        return self.streams.uniforms_at(self.day, streams, rows, slots)

    def below(
        self, stream: Stream, slots: int, threshold, where=True, row_where=True
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, slots) where ``where`` holds, in rows ``row_where`` allows (one flag per
        replicate), and today's uniform is below ``threshold``."""
        return self.streams.below(self.day, stream, slots, threshold, where, row_where)

    def happens(self, stream: Stream, probability, where=True) -> np.ndarray:
        """Rows where ``where`` holds and the day's one uniform of ``stream`` is below
        ``probability`` (a scalar or one per replicate): the rows an event happens to."""
        if np.ndim(probability):
            probability = np.asarray(probability)[:, None]
        return self.below(stream, 1, probability, row_where=where)[0]

    def happens_in(self, stream: Stream, rows: np.ndarray, probability) -> np.ndarray:
        """Those of ``rows`` whose one uniform of ``stream`` today is below ``probability``
        (a scalar or one per row): draws only for the rows given."""
        return rows[self.uniform(stream, 1, rows)[:, 0] < probability]

    def emit(
        self,
        rows: np.ndarray,
        kind: EventKind | np.ndarray,
        actor: Actor,
        action: Action | np.ndarray = Action.OTHER,
        *,
        extra_kinds: tuple[tuple[np.ndarray, EventKind], ...] = (),
        **columns,
    ) -> None:
        """Log events for ``rows``, raise today's rung to theirs and add their escalation
        score to the actor's score of the day.

        A state actor is its own ``source`` unless one is given. ``extra_kinds`` are
        (mask, kind) pairs of further ladder events the same act reaches (an attack that
        also causes US casualties), so its rung is the highest of them, and so is its score.
        """
        if len(rows) == 0:
            return
        if actor != Actor.MILITIA:
            columns.setdefault("source", self.params.source_of(actor))
        if isinstance(kind, np.ndarray) or extra_kinds:
            kind = as_column(kind, len(rows), np.int64)
            rung = self.params.rung_of_kind[kind]
            score = self.params.score_of_kind[kind]
            for mask, extra in extra_kinds:
                rung = np.where(mask, np.maximum(rung, self.params.rung_of_kind[extra]), rung)
                score = np.where(mask, np.maximum(score, self.params.score_of_kind[extra]), score)
        else:  # one kind, one rung, one score
            kind = int(kind)
            rung = self.params.rung_of_kind[kind : kind + 1]
            score = self.params.score_of_kind[kind : kind + 1]
        one_rung = rung[0] if len(rung) == 1 else rung  # the log keeps one value as one
        one_score = score[0] if len(score) == 1 else score
        self.log.add(
            rows,
            self.day,
            actor=actor,
            action=action,
            kind=kind,
            rung=one_rung,
            score=one_score,
            **columns,
        )
        maximum_at(self.state.rung_today, rows, rung)
        add_at(self.state.score_today[:, int(actor)], rows, score)

    def absorb(self, rows: np.ndarray, outcome: int, kind: EventKind, action: Action) -> None:
        """End ``rows`` in an absorbing outcome (war, withdrawal) today."""
        self.state.outcome[rows] = outcome
        self.state.outcome_changed()
        self.state.outcome_day[rows] = self.day
        self.emit(rows, kind, Actor.US, action)
