"""Summary statistics of the calibration, computed over replicates at once.

The calibration (:mod:`sim.calibrate`, docs/validation.md) compares an observed event
record with many simulated replicates, each run at its own parameter point. Every
statistic here is computed by the same code for the observed record (one "replicate")
and for all simulated replicates together, as NumPy over an (R, K) table: the
per-replicate Python loop of the scorecard (:mod:`sim.scorecard`) would cost more than the
simulation. The definitions follow the scorecard's where they overlap (an attack, a US
strike, a lethal attack, burstiness, the 14-day response window, the support thresholds).

**The observation model.** A dated list of attacks is a sample: outside July-September
2020 the press counted more attacks than the list dates (docs/data.md, "How complete the
dated list is"). A simulated attack that kills or wounds US personnel is taken as listed;
any other is listed with probability ``observation.listed_share`` (a free parameter of the
calibration), independently. Statistics of the dated list are computed on the listed
attacks; the tallies (aggregate press counts) are compared with all simulated attacks
of their kind, place and days. US strikes are taken as all listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.scorecard import (
    ATTACK_ACTIONS,
    MIN_ATTACKS_WITH_CASUALTY_FIGURES,
    MIN_GAPS,
    MIN_LETHAL_ATTACKS,
    STRIKE_WINDOW_DAYS,
    Window,
)

#: a quarter's weapon mix from fewer named attacks is one or two attacks' weapons
MIN_MIX_ATTACKS = 5
#: a dispersion index of weekly counts from fewer attacks is mostly the count itself
MIN_DISPERSION_ATTACKS = 10
#: floors of a statistic's scale in the distance (see :func:`scales`), by kind: a count's
#: square root moves by 0.5 per Poisson standard deviation; a share by 0.05 is 1 in 20
SCALE_FLOOR = {"count": 0.5, "share": 0.05, "burstiness": 0.05, "dispersion": 0.1}
#: 1.4826 x the median absolute deviation is the standard deviation of a normal
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Observed:
    """A record's attacks and US strikes as arrays, the form the statistics read.

    ``replicate`` numbers rows 0..R-1; ``day`` counts days from the window's first;
    ``action`` is the record's action name; ``hit`` marks attacks that killed or wounded
    US personnel, ``lethal`` those that killed; ``known`` those whose casualty figures are
    given (all simulated ones).
    """

    replicates: int
    replicate: np.ndarray
    day: np.ndarray
    action: np.ndarray
    target: np.ndarray
    country: np.ndarray
    hit: np.ndarray
    lethal: np.ndarray
    known: np.ndarray
    strike_replicate: np.ndarray
    strike_day: np.ndarray


def from_record(record: pd.DataFrame, window: Window, replicates: int | None = None) -> Observed:
    """The attacks and US strikes of a record (with a ``replicate`` column for simulated
    ones: R replicates numbered 0..R-1; without it, one observed record), in the window."""
    frame = window.clip(record)
    if "replicate" in frame.columns:
        rep = frame["replicate"].to_numpy(dtype=np.int64)
        R = int(replicates if replicates is not None else (rep.max() + 1 if len(rep) else 1))
    else:
        rep, R = np.zeros(len(frame), dtype=np.int64), 1
    actor = frame["actor"].astype(str).to_numpy()
    action = frame["action"].astype(str).to_numpy()
    day = (frame["date"] - window.start).dt.days.to_numpy(dtype=np.int64)
    attack = (actor == "militia") & np.isin(action, ATTACK_ACTIONS)
    strike = (actor == "us") & (action == "airstrike")
    killed = frame["killed_us"].astype("Float64")
    wounded = frame["wounded_us"].astype("Float64")
    known = (killed.notna() | wounded.notna()).to_numpy()
    hit = ((killed.fillna(0) > 0) | (wounded.fillna(0) > 0)).to_numpy(dtype=bool)
    lethal = (killed.fillna(0) > 0).to_numpy(dtype=bool)
    return Observed(
        replicates=R,
        replicate=rep[attack],
        day=day[attack],
        action=action[attack],
        target=frame["target"].astype(str).to_numpy()[attack],
        country=frame["country"].astype(str).to_numpy()[attack],
        hit=hit[attack],
        lethal=lethal[attack],
        known=known[attack],
        strike_replicate=rep[strike],
        strike_day=day[strike],
    )


def listed(events: Observed, share: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which simulated attacks the dated list holds (the observation model above): those
    that hit US personnel, and each other one with its replicate's ``share``."""
    keep = rng.random(len(events.day)) < np.asarray(share, dtype=float)[events.replicate]
    return keep | events.hit


def _per_replicate(rep: np.ndarray, R: int, weights=None) -> np.ndarray:
    return np.bincount(rep, weights=weights, minlength=R).astype(float)


def _burstiness(rep: np.ndarray, day: np.ndarray, R: int) -> np.ndarray:
    """Scorecard's burstiness of each replicate's attack days (NaN under MIN_GAPS gaps)."""
    order = np.lexsort((day, rep))
    rep, day = rep[order], day[order]
    same = rep[1:] == rep[:-1]
    gaps = (day[1:] - day[:-1])[same].astype(float)
    grep = rep[1:][same]
    n = _per_replicate(grep, R)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = _per_replicate(grep, R, gaps) / n
        var = _per_replicate(grep, R, gaps**2) / n - mu**2
        sigma = np.sqrt(np.maximum(var, 0.0))
        b = (sigma - mu) / (sigma + mu)
    b[(n < MIN_GAPS) | (sigma + mu == 0)] = np.nan
    return b


def _response(events: Observed, keep: np.ndarray, R: int) -> np.ndarray:
    """P(a US strike 1-14 days after a listed lethal attack), NaN under MIN_LETHAL_ATTACKS."""
    lethal = keep & events.lethal
    rep, day = events.replicate[lethal], events.day[lethal]
    # the first strike strictly after each lethal attack, in its own replicate
    key = events.strike_replicate * 100_000 + events.strike_day
    order = np.argsort(key)
    key = key[order]
    idx = np.searchsorted(key, rep * 100_000 + day, side="right")
    found = idx < len(key)
    nxt = np.where(found, key[np.minimum(idx, len(key) - 1)], -1)
    answered = found & (nxt // 100_000 == rep) & (nxt - (rep * 100_000 + day) <= STRIKE_WINDOW_DAYS)
    n = _per_replicate(rep, R)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = _per_replicate(rep, R, answered.astype(float)) / n
    p[n < MIN_LETHAL_ATTACKS] = np.nan
    return p


def _quarters(window: Window) -> list[pd.Period]:
    return list(pd.period_range(window.start, window.end, freq="Q"))


def _months(window: Window) -> list[pd.Period]:
    return list(pd.period_range(window.start, window.end, freq="M"))


def _period_index(day: np.ndarray, window: Window, periods: list[pd.Period]) -> np.ndarray:
    """Index in ``periods`` of each day number of the window."""
    edges = np.array([(p.start_time - window.start).days for p in periods[1:]], dtype=np.int64)
    return np.searchsorted(edges, day, side="right")


def names(window: Window, tallies: pd.DataFrame | None) -> list[tuple[str, str]]:
    """(name, kind) of every statistic over ``window``, in the order of :func:`statistics`."""
    out = [(f"attacks listed in {m}", "count") for m in _months(window)]
    for q in _quarters(window):
        out += [(f"convoy IED share {q}", "share"), (f"drone share {q}", "share")]
    out += [
        ("burstiness", "burstiness"),
        ("weekly dispersion", "dispersion"),
        ("US casualty share", "share"),
        ("P(US strike within 14 days of a lethal attack)", "share"),
    ]
    for t in usable_tallies(tallies, window).itertuples():
        out.append((f"tally {t.start.date()} to {t.end.date()} {t.action} on {t.target}", "count"))
    return out


def usable_tallies(tallies: pd.DataFrame | None, window: Window) -> pd.DataFrame:
    """The militia tallies inside the window (the others cannot be compared with it)."""
    if tallies is None or not len(tallies):
        return pd.DataFrame(columns=["start", "end", "action", "target", "country", "count"])
    inside = (
        (tallies["actor"].astype(str) == "militia")
        & (tallies["start"] >= window.start)
        & (tallies["end"] <= window.end)
    )
    return tallies[inside].reset_index(drop=True)


def statistics(
    events: Observed,
    window: Window,
    keep: np.ndarray | None = None,
    tallies: pd.DataFrame | None = None,
) -> np.ndarray:
    """(R, K) statistics of every replicate (NaN where a replicate does not support one).

    ``keep`` marks the attacks the dated list holds (all when None: an observed record is
    its list); the tallies count every attack. Columns as :func:`names`: the square root
    of the listed attacks of each calendar month, the shares of convoy IEDs and drones
    among the listed attacks with a named weapon in each quarter, the burstiness of the
    listed attacks' days, the dispersion index (variance / mean) of their weekly counts,
    the share of listed attacks with casualty figures that killed or wounded US personnel,
    the response probability, and the square root of each tally's simulated count.
    """
    R = events.replicates
    keep = np.ones(len(events.day), dtype=bool) if keep is None else keep
    rep, day, action = events.replicate[keep], events.day[keep], events.action[keep]
    columns = []
    months = _months(window)
    month = _period_index(day, window, months)
    counts = np.zeros((R, len(months)))
    np.add.at(counts, (rep, month), 1.0)
    columns += list(np.sqrt(counts).T)
    quarters = _quarters(window)
    quarter = _period_index(day, window, quarters)
    named = np.isin(action, ("rocket", "ied_convoy", "drone"))
    for q in range(len(quarters)):
        inq = named & (quarter == q)
        n = _per_replicate(rep[inq], R)
        for weapon in ("ied_convoy", "drone"):
            with np.errstate(invalid="ignore", divide="ignore"):
                share = _per_replicate(rep[inq & (action == weapon)], R) / n
            share[n < MIN_MIX_ATTACKS] = np.nan
            columns.append(share)
    columns.append(_burstiness(rep, day, R))
    weeks = window.days // 7
    inweek = day < weeks * 7
    weekly = np.zeros((R, max(weeks, 1)))
    np.add.at(weekly, (rep[inweek], day[inweek] // 7), 1.0)
    total = weekly.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dispersion = weekly.var(axis=1) / weekly.mean(axis=1)
    dispersion[total < MIN_DISPERSION_ATTACKS] = np.nan
    columns.append(dispersion)
    known = events.known[keep]
    n = _per_replicate(rep[known], R)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = _per_replicate(rep[known & events.hit[keep]], R) / n
    share[n < MIN_ATTACKS_WITH_CASUALTY_FIGURES] = np.nan
    columns.append(share)
    columns.append(_response(events, keep, R))
    for t in usable_tallies(tallies, window).itertuples():
        first, last = (t.start - window.start).days, (t.end - window.start).days
        match = (events.day >= first) & (events.day <= last) & (events.country == t.country)
        if t.action != "attack":
            match &= events.action == t.action
        if t.target != "any":
            match &= events.target == t.target
        columns.append(np.sqrt(_per_replicate(events.replicate[match], R)))
    return np.column_stack(columns) if columns else np.zeros((R, 0))


def observed_tallies(tallies: pd.DataFrame | None, window: Window) -> np.ndarray:
    """The square roots of the tallies inside the window (the observed side of the tally
    columns of :func:`statistics`)."""
    return np.sqrt(usable_tallies(tallies, window)["count"].to_numpy(dtype=float))


def scales(simulated: np.ndarray, kinds: list[str]) -> np.ndarray:
    """Each statistic's scale in the distance: 1.4826 x its median absolute deviation over
    the prior's replicates (a robust standard deviation), floored by its kind
    (:data:`SCALE_FLOOR`) so that no statistic that barely varies outweighs the others."""
    out = np.empty(simulated.shape[1])
    for k in range(simulated.shape[1]):
        values = simulated[:, k][~np.isnan(simulated[:, k])]
        mad = MAD_TO_SD * np.median(np.abs(values - np.median(values))) if len(values) else 0.0
        out[k] = max(mad, SCALE_FLOOR[kinds[k]])
    return out


#: a statistic the observed record supports but a replicate does not adds this to that
#: replicate's distance, as an observed value two scales away would
UNSUPPORTED_PENALTY = 4.0


def distances(simulated: np.ndarray, observed: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(R,) distance of each replicate to the observed record: the sum over the statistics
    the observed record supports of ((simulated - observed) / scale)^2, with
    :data:`UNSUPPORTED_PENALTY` for each such statistic the replicate does not support."""
    used = ~np.isnan(observed)
    z2 = ((simulated[:, used] - observed[used]) / scale[used]) ** 2
    z2[np.isnan(z2)] = UNSUPPORTED_PENALTY
    return z2.sum(axis=1)
