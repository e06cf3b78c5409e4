"""The validation scorecard: stylised facts of an event record, observed or simulated.

Every statistic is a pure function of a record in the schema of ``docs/data.md`` (see
:mod:`sim.record`) and of the window it covers. Simulated events are first turned into
that schema by :func:`events_to_record`, so observed and simulated series are measured by
the same code. A statistic the record cannot support is NaN with a reason, never noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, signal, special, stats

from sim.config import LadderConfig, TheatreConfig
from sim.record import ACTIONS, COUNTRIES, TARGETS
from sim.record import attacks as record_attacks

#: militia actions with a named weapon; the per-weapon rates are of these
WEAPON_ACTIONS = ("rocket", "ied_convoy", "drone")
#: militia actions that are attacks: all but a ground assault, as in sim.events.is_attack
#: (the model's militia events other than attacks, the embassy assault and a group's
#: split, are an assault and left out of the record form). The model's militias attack
#: only with the weapons above; a record may also hold ``other`` (a weapon it does not name).
ATTACK_ACTIONS = tuple(action for action in ACTIONS if action != "assault")
#: days after an attack that kills a US national within which a US strike counts as its answer
STRIKE_WINDOW_DAYS = 14
#: mean days in a month, for rates per month over windows of any length
DAYS_PER_MONTH = 365.25 / 12

# --- when a record supports a statistic --------------------------------------------------
#: a monthly rate from less than a month of record is a daily rate in disguise
MIN_WINDOW_DAYS = 28
#: a share of fewer than 10 attacks moves by 10 points with each one
MIN_ATTACKS_WITH_CASUALTY_FIGURES = 10
#: a proportion from n cases has standard error up to 0.5/sqrt(n): 3 keeps it below 0.3
MIN_LETHAL_ATTACKS = 3
#: a median of fewer than three lags is one lag or the mean of two
MIN_LAGS = 3
#: burstiness from fewer than 10 gaps swings with any single gap
MIN_GAPS = 10
#: the Hawkes fit has three parameters; with fewer than 30 events it is not identified
MIN_HAWKES_EVENTS = 30

# --- the record vocabulary for simulated events ------------------------------------------
#: theatre sites named differently in the record's target vocabulary
SITE_ALIASES = {"baghdad_airport": "biap"}
#: the record's targets that are US sites of the theatre (not convoys, Syria, militia, other)
RECORD_TARGETS = tuple(
    t for t in TARGETS if t not in ("convoy", "syria_site", "militia_site", "other")
)


@dataclass(frozen=True)
class Statistic:
    """A value and the number of events it rests on; NaN with a reason when unsupported."""

    value: float
    n: int
    reason: str = ""
    #: the estimate's standard error where the statistic has one (the Hawkes branching ratio)
    se: float = math.nan

    @property
    def supported(self) -> bool:
        return not math.isnan(self.value)


def _unsupported(n: int, k: int, what: str) -> Statistic:
    return Statistic(math.nan, n, f"too few {what}: n = {n} < {k}")


@dataclass(frozen=True)
class Window:
    """The days a record covers, first and last included."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> int:
        return int((self.end - self.start).days) + 1

    def clip(self, record: pd.DataFrame) -> pd.DataFrame:
        return record[(record["date"] >= self.start) & (record["date"] <= self.end)]


# --- simulated events in the record schema ----------------------------------------------------


def _target_names(theatre: TheatreConfig) -> dict[str, tuple[str, str]]:
    """Theatre site -> (record target, record country)."""
    names = {}
    for site in theatre.sites:
        name = SITE_ALIASES.get(site.name, site.name)
        if name not in RECORD_TARGETS:
            name = (
                "syria_site"
                if site.kind == "syria_outpost"
                else "militia_site"
                if site.side == "militia"
                else "other"
            )
        country = site.country if site.country in COUNTRIES else "iraq"
        names[site.name] = (name, country)
    return names


def events_to_record(events: pd.DataFrame, theatre: TheatreConfig) -> pd.DataFrame:
    """Simulated events (``Simulation.events_frame``) in the record schema, plus ``replicate``.

    Actors and actions share the record's names. Targets: US sites keep their names
    (Baghdad airport is ``biap``), convoy road segments are ``convoy``, Syrian outposts
    ``syria_site``, militia strongholds and depots ``militia_site``, anything else
    ``other``; the country is the site's (``iraq`` for convoys, for events without a
    target and for sites outside the record's countries; ``iran`` for Iran's own acts
    without a target). ``notes`` holds the engine's event kind. A group's split
    (``splinter_formed``) has no row: the record lists acts, and a split is none.
    """
    sites = _target_names(theatre)
    # a group splitting is not an act the record lists (and not an attack)
    events = events[events["kind"].astype(str) != "splinter_formed"]
    target = events["target"].astype(str)
    convoy = target.str.startswith("convoy:")
    mapped = target.map(lambda t: sites.get(t, ("other", "iraq")))
    record_target = np.where(convoy, "convoy", mapped.str[0])
    no_target = target.eq("")
    own = np.where(events["actor"].astype(str).eq("iran"), "iran", "iraq")
    country = np.where(convoy, "iraq", np.where(no_target, own, mapped.str[1]))
    return pd.DataFrame(
        {
            "replicate": events["replicate"].to_numpy(),
            "date": pd.to_datetime(events["date"]).astype("datetime64[ns]").to_numpy(),
            "actor": events["actor"].astype(str).to_numpy(),
            "action": events["action"].astype(str).to_numpy(),
            "target": record_target,
            "country": country,
            "killed_us": events["killed_us"].astype("Int64").to_numpy(),
            "wounded_us": events["wounded_us"].astype("Int64").to_numpy(),
            "notes": events["kind"].astype(str).to_numpy(),
            "source": "simulation",
        }
    )


# --- the pieces every statistic uses ---------------------------------------------------------


def attacks(record: pd.DataFrame) -> pd.DataFrame:
    """Militia attacks: every militia row but an assault (see :data:`ATTACK_ACTIONS`)."""
    found = record_attacks(record)
    return found[found["action"].astype(str).isin(ATTACK_ACTIONS)]


def us_strikes(record: pd.DataFrame) -> pd.DataFrame:
    """US airstrikes (leadership strikes included)."""
    return record[(record["actor"].astype(str) == "us") & (record["action"] == "airstrike")]


def _days(frame: pd.DataFrame, window: Window) -> np.ndarray:
    """Day numbers (0 = window start), sorted."""
    return np.sort((frame["date"] - window.start).dt.days.to_numpy(dtype=np.int64))


def _next_after(days: np.ndarray, later: np.ndarray) -> np.ndarray:
    """For each day, days until the first of ``later`` strictly after it (NaN if none).

    Strictly after because a record gives dates, not hours: an event on the same day may
    have come first.
    """
    later = np.sort(later)
    idx = np.searchsorted(later, days, side="right")
    found = idx < len(later)
    out = np.full(len(days), np.nan)
    out[found] = later[idx[found]] - days[found]
    return out


def _lethal_attack_days(record: pd.DataFrame, window: Window) -> np.ndarray:
    found = attacks(record)
    return _days(found[found["killed_us"].fillna(0) > 0], window)


# --- the statistics ----------------------------------------------------------------------------


def attacks_per_month(record: pd.DataFrame, window: Window, weapon: str | None = None) -> Statistic:
    """Militia attacks (of one weapon, or all) per month of the window.

    By weapon only when the record names the weapon (rocket, convoy IED, drone) of at
    least one attack; other attacks count in the total alone.
    """
    found = attacks(record)
    if weapon is not None:
        if not record_attacks(record)["action"].astype(str).isin(WEAPON_ACTIONS).any():
            return Statistic(math.nan, 0, "the record names no weapons")
        found = found[found["action"].astype(str) == weapon]
    if window.days < MIN_WINDOW_DAYS:
        return _unsupported(window.days, MIN_WINDOW_DAYS, "days in the window")
    return Statistic(len(found) / (window.days / DAYS_PER_MONTH), len(found))


def casualty_share(record: pd.DataFrame, window: Window) -> Statistic:
    """Share of attacks that kill or wound US personnel, of those whose casualties are known."""
    n, hit = _casualty_counts(record)
    if n < MIN_ATTACKS_WITH_CASUALTY_FIGURES:
        return _unsupported(n, MIN_ATTACKS_WITH_CASUALTY_FIGURES, "attacks with casualty figures")
    return Statistic(hit / n, n)


def _casualty_counts(record: pd.DataFrame) -> tuple[int, int]:
    """Attacks whose casualties are known, and those of them that kill or wound US personnel."""
    found = attacks(record)
    killed, wounded = found["killed_us"], found["wounded_us"]
    known = (killed.notna() | wounded.notna()).to_numpy()
    hit = ((killed.fillna(0) > 0) | (wounded.fillna(0) > 0)).to_numpy()
    return int(known.sum()), int((hit & known).sum())


def _strike_followed(record: pd.DataFrame, window: Window) -> np.ndarray:
    """For each lethal attack: a US strike 1-14 days later?"""
    lag = _next_after(_lethal_attack_days(record, window), _days(us_strikes(record), window))
    return lag <= STRIKE_WINDOW_DAYS


def _death_strike_lags(record: pd.DataFrame, window: Window) -> np.ndarray:
    lag = _next_after(_lethal_attack_days(record, window), _days(us_strikes(record), window))
    return lag[~np.isnan(lag)]


def _strike_attack_lags(record: pd.DataFrame, window: Window) -> np.ndarray:
    lag = _next_after(_days(us_strikes(record), window), _days(attacks(record), window))
    return lag[~np.isnan(lag)]


def p_strike_after_death(record: pd.DataFrame, window: Window) -> Statistic:
    """P(a US strike 1-14 days after an attack that kills a US national)."""
    followed = _strike_followed(record, window)
    if len(followed) < MIN_LETHAL_ATTACKS:
        return _unsupported(len(followed), MIN_LETHAL_ATTACKS, "attacks that kill US nationals")
    return Statistic(float(np.mean(followed)), len(followed))


def lag_death_to_strike(record: pd.DataFrame, window: Window) -> Statistic:
    """Median days from an attack that kills a US national to the next US strike."""
    lag = _death_strike_lags(record, window)
    if len(lag) < MIN_LAGS:
        return _unsupported(len(lag), MIN_LAGS, "lethal attacks followed by a US strike")
    return Statistic(float(np.median(lag)), len(lag))


def lag_strike_to_attack(record: pd.DataFrame, window: Window) -> Statistic:
    """Median days from a US strike to the next militia attack."""
    lag = _strike_attack_lags(record, window)
    if len(lag) < MIN_LAGS:
        return _unsupported(len(lag), MIN_LAGS, "US strikes followed by an attack")
    return Statistic(float(np.median(lag)), len(lag))


def burstiness(record: pd.DataFrame, window: Window) -> Statistic:
    """(sigma - mu) / (sigma + mu) of the days between attacks (0 on the same day).

    Near 0 for a Poisson process, towards 1 for bursts, -1 for a regular beat.
    """
    gaps = np.diff(_days(attacks(record), window))
    if len(gaps) < MIN_GAPS:
        return _unsupported(len(gaps), MIN_GAPS, "gaps between attacks")
    mu, sigma = gaps.mean(), gaps.std()
    if mu + sigma == 0:
        return Statistic(math.nan, len(gaps), "every attack on one day")
    return Statistic(float((sigma - mu) / (sigma + mu)), len(gaps))


def daily_counts(record: pd.DataFrame, window: Window) -> np.ndarray:
    """Attacks on each day of the window."""
    return np.bincount(_days(attacks(record), window), minlength=window.days)[: window.days]


def branching_ratio(record: pd.DataFrame, window: Window) -> Statistic:
    """Branching ratio of a discrete-time Hawkes process fitted to daily attack counts."""
    counts = daily_counts(record, window)
    n = int(counts.sum())
    if n < MIN_HAWKES_EVENTS:
        return _unsupported(n, MIN_HAWKES_EVENTS, "attacks")
    fit = fit_hawkes(counts)
    return Statistic(fit.branching, n, se=hawkes_branching_se(counts, fit))


def ladder_kinds(record: pd.DataFrame) -> list[list[str]]:
    """The ladder event kinds (configs/ladder/) each row of a record reaches.

    Attacks on a convoy are ``convoy_ied``, on anything else ``base_attack``, plus
    ``us_casualties`` when they kill or wound US personnel; a militia assault on the
    embassy is ``embassy_assault``; a US airstrike is ``us_strike_iraq`` or
    ``us_strike_syria`` by country; an Iranian ballistic missile is
    ``iran_direct_strike``; an Israeli airstrike ``israeli_strike``; an Iraqi raid
    ``iraqi_raid``. The schema cannot mark a leadership strike, so ``decapitation`` is
    never reached from a record (a simulated one counts as a US strike in Iraq).
    """
    actor = record["actor"].astype(str).to_numpy()
    action = record["action"].astype(str).to_numpy()
    target = record["target"].astype(str).to_numpy()
    country = record["country"].astype(str).to_numpy()
    hurt = (record["killed_us"].fillna(0) > 0).to_numpy() | (
        record["wounded_us"].fillna(0) > 0
    ).to_numpy()
    kinds: list[list[str]] = []
    for a, act, t, c, h in zip(actor, action, target, country, hurt, strict=True):
        row: list[str] = []
        if a == "militia" and act in ATTACK_ACTIONS:
            row.append("convoy_ied" if t == "convoy" else "base_attack")
            if h:
                row.append("us_casualties")
        elif a == "militia" and act == "assault" and t == "baghdad_embassy":
            row.append("embassy_assault")
        elif a == "us" and act == "airstrike" and c in ("iraq", "syria"):
            row.append(f"us_strike_{c}")
        elif a == "iran" and act == "ballistic_missile":
            row.append("iran_direct_strike")
        elif a == "israel" and act == "airstrike":
            row.append("israeli_strike")
        elif a == "iraq_gov" and act == "raid":
            row.append("iraqi_raid")
        kinds.append(row)
    return kinds


def highest_rung(record: pd.DataFrame, window: Window, ladder: LadderConfig) -> Statistic:
    """The highest ladder rung any event of the record reaches (see :func:`ladder_kinds`)."""
    rung_of = {kind: rung.level for rung in ladder.rungs for kind in rung.events}
    kinds = ladder_kinds(window.clip(record))
    levels = [rung_of.get(kind, 0) for row in kinds for kind in row]
    return Statistic(float(max(levels, default=0)), len(record))


# --- the Hawkes fit ------------------------------------------------------------------------------

#: kernel decay per day, e^-beta: a mean lag of 1 to 33 days; a longer memory over a record
#: of a few years cannot be told from a slow change of the background rate
DECAY_BOUNDS = (0.01, 0.97)
#: a branching ratio of 1 or more is explosive, not a stationary process
BRANCHING_BOUNDS = (0.0, 0.99)


@dataclass(frozen=True)
class HawkesFit:
    """Maximum-likelihood fit of the discrete-time Hawkes model (see :func:`fit_hawkes`)."""

    baseline: float  # background attacks per day, mu
    branching: float  # expected attacks each attack triggers, n
    decay: float  # kernel decay per day, e^-beta
    loglik: float
    loglik_poisson: float  # best fit with n = 0 (a constant rate)

    @property
    def lr_statistic(self) -> float:
        """2 (loglik - loglik_poisson): evidence of self-excitation."""
        return 2.0 * (self.loglik - self.loglik_poisson)


def _excitation(counts: np.ndarray, decay: float) -> np.ndarray:
    """S_t = decay S_{t-1} + (1 - decay) N_{t-1}, S_0 = 0 (the kernel sums to 1)."""
    return signal.lfilter([0.0, 1.0 - decay], [1.0, -decay], counts.astype(np.float64))


def hawkes_loglik(counts: np.ndarray, baseline: float, branching: float, decay: float) -> float:
    """Log-likelihood of daily counts under N_t ~ Poisson(mu + n S_t)."""
    rate = baseline + branching * _excitation(counts, decay)
    return float(np.sum(counts * np.log(rate) - rate - special.gammaln(counts + 1.0)))


def fit_hawkes(counts: np.ndarray) -> HawkesFit:
    """Fit a Hawkes process with an exponential kernel to daily counts, by maximum likelihood.

    Discrete time: the counts of day t are Poisson with mean mu + n S_t, where S_t is
    the past days' counts weighted by a geometric kernel (1 - d) d^(k-1) at lag k >= 1
    days, which sums to 1, so n is the branching ratio. L-BFGS-B from a few starting
    points, within :data:`BRANCHING_BOUNDS` and :data:`DECAY_BOUNDS`.
    """
    counts = np.asarray(counts, dtype=np.float64)
    mean = max(counts.mean(), 1e-9)

    def negative(x: np.ndarray) -> float:
        return -hawkes_loglik(counts, math.exp(x[0]), x[1], x[2])

    bounds = [(math.log(mean) - 12.0, math.log(mean) + 2.0), BRANCHING_BOUNDS, DECAY_BOUNDS]
    best = None
    for n0 in (0.1, 0.5):
        for d0 in (0.5, 0.9):
            x0 = [math.log(mean * (1.0 - n0)), n0, d0]
            fit = optimize.minimize(negative, x0, method="L-BFGS-B", bounds=bounds)
            if best is None or fit.fun < best.fun:
                best = fit
    assert best is not None
    poisson = hawkes_loglik(counts, mean, 0.0, 0.5)
    return HawkesFit(
        float(math.exp(best.x[0])), float(best.x[1]), float(best.x[2]), -best.fun, poisson
    )


def hawkes_branching_se(counts: np.ndarray, fit: HawkesFit, step: float = 1e-4) -> float:
    """Standard error of the fitted branching ratio from the observed information: the
    inverse of the log-likelihood's Hessian in (log mu, n, d), by central differences at
    the fit. At a bound of :data:`BRANCHING_BOUNDS` or :data:`DECAY_BOUNDS` the fit is not
    a stationary point, so this is the curvature's reading of the spread, not an exact
    one. Where that information is not positive definite (at n = 0 the decay is not
    identified, and a step below 0 can make a rate negative), the expected information of
    (mu, n) with the decay held at its fitted value is used instead: sum over days of
    (1, S_t)(1, S_t)' / rate_t, which at n = 0 gives sqrt(mu / sum (S_t - mean S)^2). It
    leaves out the decay's uncertainty, so it is a lower bound of the spread there."""
    x0 = np.array([math.log(fit.baseline), fit.branching, fit.decay])

    def loglik(x: np.ndarray) -> float:
        rate_ok = math.exp(x[0]) > 0 and 0 < x[2] < 1
        return hawkes_loglik(counts, math.exp(x[0]), x[1], x[2]) if rate_ok else -math.inf

    hessian = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            ei, ej = np.eye(3)[i] * step, np.eye(3)[j] * step
            hessian[i, j] = (
                loglik(x0 + ei + ej)
                - loglik(x0 + ei - ej)
                - loglik(x0 - ei + ej)
                + loglik(x0 - ei - ej)
            ) / (4 * step * step)
    information = -(hessian + hessian.T) / 2
    if np.all(np.isfinite(information)) and np.all(np.linalg.eigvalsh(information) > 0):
        return float(math.sqrt(np.linalg.inv(information)[1, 1]))
    excitation = _excitation(counts, fit.decay).reshape(-1)
    rate = fit.baseline + fit.branching * excitation
    gradient = np.stack([np.ones_like(excitation), excitation])
    expected = (gradient / rate) @ gradient.T
    if not np.all(np.isfinite(expected)) or np.linalg.det(expected) <= 0:
        return math.nan
    return float(math.sqrt(np.linalg.inv(expected)[1, 1]))


# --- the scorecard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    label: str
    compute: Callable[[pd.DataFrame, Window, LadderConfig], Statistic]


STATISTICS: dict[str, Definition] = {
    "attacks_per_month": Definition("attacks per month", lambda r, w, _: attacks_per_month(r, w)),
    "rocket_attacks_per_month": Definition(
        "rocket attacks per month", lambda r, w, _: attacks_per_month(r, w, "rocket")
    ),
    "ied_attacks_per_month": Definition(
        "convoy IED attacks per month", lambda r, w, _: attacks_per_month(r, w, "ied_convoy")
    ),
    "drone_attacks_per_month": Definition(
        "drone attacks per month", lambda r, w, _: attacks_per_month(r, w, "drone")
    ),
    "casualty_share": Definition(
        "share of attacks killing or wounding US personnel", lambda r, w, _: casualty_share(r, w)
    ),
    "p_strike_after_death": Definition(
        f"P(US strike within {STRIKE_WINDOW_DAYS} days of a US death)",
        lambda r, w, _: p_strike_after_death(r, w),
    ),
    "lag_death_to_strike": Definition(
        "days from a US death to the US strike", lambda r, w, _: lag_death_to_strike(r, w)
    ),
    "lag_strike_to_attack": Definition(
        "days from a US strike to the next attack", lambda r, w, _: lag_strike_to_attack(r, w)
    ),
    "burstiness": Definition("burstiness of inter-attack days", lambda r, w, _: burstiness(r, w)),
    "branching_ratio": Definition(
        "Hawkes branching ratio (daily counts)", lambda r, w, _: branching_ratio(r, w)
    ),
    "highest_rung": Definition("highest rung reached", highest_rung),
}


def scorecard(record: pd.DataFrame, window: Window, ladder: LadderConfig) -> dict[str, Statistic]:
    """Every statistic of :data:`STATISTICS` for the part of ``record`` inside ``window``."""
    inside = window.clip(record)
    return {name: d.compute(inside, window, ladder) for name, d in STATISTICS.items()}


def monthly_attacks(record: pd.DataFrame, window: Window) -> pd.Series:
    """Attacks in each calendar month the window touches (edge months are partial)."""
    months = pd.period_range(window.start, window.end, freq="M")
    found = attacks(window.clip(record))
    counts = found["date"].dt.to_period("M").value_counts()
    return counts.reindex(months, fill_value=0).astype(np.int64)


# --- the simulated reference of each statistic -------------------------------------------------


@dataclass(frozen=True)
class Parts:
    """What one record adds to the statistics pooled over an ensemble's replicates."""

    casualty_known: int  # attacks with casualty figures
    casualty_hit: int  # of them, those killing or wounding US personnel
    strike_followed: np.ndarray  # per lethal attack: a US strike 1-14 days later
    death_strike_lags: np.ndarray  # days from each lethal attack to the next US strike
    strike_attack_lags: np.ndarray  # days from each US strike to the next attack
    daily: np.ndarray  # attacks on each day of the window


def parts(record: pd.DataFrame, window: Window) -> Parts:
    """The pieces of ``record`` (inside ``window``) that pooled statistics add up."""
    inside = window.clip(record)
    known, hit = _casualty_counts(inside)
    return Parts(
        known,
        hit,
        _strike_followed(inside, window),
        _death_strike_lags(inside, window),
        _strike_attack_lags(inside, window),
        daily_counts(inside, window),
    )


#: how each statistic's simulated value and 90% interval are formed (docs/validation.md):
#: ``replicates_mean`` / ``replicates_median``: the mean or median of the per-replicate values,
#: the 5-95% of them (each replicate is a record of the window's length); ``pooled_share``:
#: the share pooled over every replicate's events, the interval that of a share of the
#: observed number of cases (binomial); ``pooled_median``: the median of every replicate's
#: lags pooled, the interval that of the median of the observed number of lags drawn from
#: them; ``pooled_hawkes``: one fit to every replicate's daily counts, the interval it plus or
#: minus 1.645 standard errors of the observed fit
REFERENCE = {
    "attacks_per_month": "replicates_mean",
    "rocket_attacks_per_month": "replicates_mean",
    "ied_attacks_per_month": "replicates_mean",
    "drone_attacks_per_month": "replicates_mean",
    "casualty_share": "pooled_share",
    "p_strike_after_death": "pooled_share",
    "lag_death_to_strike": "pooled_median",
    "lag_strike_to_attack": "pooled_median",
    "burstiness": "replicates_median",
    "branching_ratio": "pooled_hawkes",
    "highest_rung": "replicates_median",
}
#: how each method reads in a table
REFERENCE_LABEL = {
    "replicates_mean": "mean of replicates; 5-95% of replicates",
    "replicates_median": "median of replicates; 5-95% of replicates",
    "pooled_share": "pooled share; binomial at the observed n",
    "pooled_median": "pooled lags; median of n lags drawn from them",
    "pooled_hawkes": "one fit to all replicates; +/- 1.645 observed s.e.",
}
#: resamples of the median of n pooled lags
BOOTSTRAP_DRAWS = 2000
#: a normal's central 90%: +/- this many standard errors
Z90 = 1.645


@dataclass(frozen=True)
class Reference:
    """A statistic's simulated value and 90% interval, pooled over replicates."""

    value: float | None
    low: float | None
    high: float | None
    n: int  # the simulated cases the value rests on
    reason: str = ""


def pooled_reference(name: str, observed: Statistic, pieces: list[Parts]) -> Reference:
    """The simulated value and 90% interval of a pooled statistic (:data:`REFERENCE`).

    The interval is that of the statistic measured on as many cases as the observed record
    holds (``observed.n``), if the model were true: rare events are judged by what the
    model's pooled rate predicts for the observed sample, not by per-replicate values that
    are mostly undefined or 0.
    """
    method = REFERENCE[name]
    if method == "pooled_share":
        if name == "casualty_share":
            n = sum(p.casualty_known for p in pieces)
            hits, least, what = (
                sum(p.casualty_hit for p in pieces),
                MIN_ATTACKS_WITH_CASUALTY_FIGURES,
                "attacks with casualty figures",
            )
        else:
            followed = np.concatenate([p.strike_followed for p in pieces] or [np.zeros(0)])
            n, hits = len(followed), int(np.sum(followed))
            least, what = MIN_LETHAL_ATTACKS, "attacks that kill US nationals"
        if n < least:
            return Reference(None, None, None, n, f"too few {what} in the ensemble: {n} < {least}")
        share = hits / n
        if not observed.supported:
            return Reference(share, None, None, n)
        low, high = stats.binom.ppf([0.05, 0.95], observed.n, share) / observed.n
        return Reference(share, float(low), float(high), n)
    if method == "pooled_median":
        field_ = "death_strike_lags" if name == "lag_death_to_strike" else "strike_attack_lags"
        lags = np.concatenate([getattr(p, field_) for p in pieces] or [np.zeros(0)])
        if len(lags) < MIN_LAGS:
            return Reference(
                None,
                None,
                None,
                len(lags),
                f"too few lags in the ensemble: {len(lags)} < {MIN_LAGS}",
            )
        value = float(np.median(lags))
        if not observed.supported:
            return Reference(value, None, None, len(lags))
        rng = np.random.default_rng(0)
        medians = np.median(rng.choice(lags, size=(BOOTSTRAP_DRAWS, observed.n)), axis=1)
        low, high = np.quantile(medians, [0.05, 0.95])
        return Reference(value, float(low), float(high), len(lags))
    if method == "pooled_hawkes":
        daily = np.stack([p.daily for p in pieces]) if pieces else np.zeros((0, 0))
        n = int(daily.sum())
        if n < MIN_HAWKES_EVENTS:
            return Reference(
                None, None, None, n, f"too few attacks in the ensemble: {n} < {MIN_HAWKES_EVENTS}"
            )
        value = fit_hawkes(daily).branching
        if not observed.supported:
            return Reference(value, None, None, n)
        if math.isnan(observed.se):
            return Reference(
                value,
                None,
                None,
                n,
                "the observed fit has no standard error (a flat direction of its likelihood)",
            )
        low = max(BRANCHING_BOUNDS[0], value - Z90 * observed.se)
        high = min(BRANCHING_BOUNDS[1], value + Z90 * observed.se)
        return Reference(value, low, high, n)
    raise KeyError(f"{name}: {method} is not pooled")
