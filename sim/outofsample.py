"""Out of sample: a preset run over a period it was never fitted to, against that period's
dated record and tallies.

A :class:`Period` names a preset, its dated record and its window. ``escalation-validate
--record NAME`` runs the preset over the window (the scorecard of :mod:`sim.validate`,
the highest rung among its statistics) and :func:`compare` adds what a thin dated record
and running tallies can say: the simulated attacks over each tally's days against the
count (the Pentagon's running counts, for ``gaza2023``), the attacks of each month against
the record's listed events (a lower bound), the weapon mix of the attacks whose weapon is
named, and US killed and wounded. Every simulated value is a median with the 90% interval
over the replicates; an observed value inside it is "inside".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.record import ATTACK_ACTIONS as TALLY_ATTACK_ACTIONS
from sim.record import gaza2023_record
from sim.scorecard import WEAPON_ACTIONS, Window, attacks

#: the interval reported beside the simulated median (as sim.validate's)
INTERVAL = (0.05, 0.95)


@dataclass(frozen=True)
class Period:
    """An out-of-sample period: the preset configured for it, its dated record, its days,
    and what the record cannot hold but a source reported (US wounded over the period)."""

    name: str
    scenario: str
    record: Callable[[], Path]
    start: str
    end: str
    wounded_reported: int | None = None  # US wounded a source reports ("more than N")
    wounded_source: str = ""

    @property
    def window(self) -> Window:
        return Window(pd.Timestamp(self.start), pd.Timestamp(self.end))


#: the periods the project ships, by the name ``--record`` takes
PERIODS: dict[str, Period] = {
    "gaza2023": Period(
        name="gaza2023",
        scenario="gaza2023",
        record=gaza2023_record,
        start="2023-10-17",
        end="2024-03-31",
        wounded_reported=140,
        wounded_source=(
            "https://www.washingtonexaminer.com/?p=2865061 ('more than 140 service members "
            "have been wounded in all of these attacks', February 2024)"
        ),
    ),
}


def tallies_in(counts: pd.DataFrame, window: Window) -> pd.DataFrame:
    """The tallies of militia attacks whose days lie inside the window, in file order."""
    inside = (counts["start"] >= window.start) & (counts["end"] <= window.end)
    return counts[inside & (counts["actor"].astype(str) == "militia")].reset_index(drop=True)


def _matching(record: pd.DataFrame, tally: Any) -> np.ndarray:
    """Rows of a record (observed or simulated, in the record schema) a tally counts: its
    actor, action (``attack``: any attack), target and country (``any``: all), its days."""
    wanted = TALLY_ATTACK_ACTIONS if str(tally.action) == "attack" else (str(tally.action),)
    dates = record["date"].to_numpy()
    match = (dates >= np.datetime64(tally.start)) & (dates <= np.datetime64(tally.end))
    match &= record["actor"].astype(str).to_numpy() == str(tally.actor)
    match &= np.isin(record["action"].astype(str).to_numpy(), wanted)
    if str(tally.target) != "any":
        match &= record["target"].astype(str).to_numpy() == str(tally.target)
    if str(tally.country) != "any":
        match &= record["country"].astype(str).to_numpy() == str(tally.country)
    return match


def per_replicate(simulated: pd.DataFrame, mask: np.ndarray, replicates: np.ndarray) -> np.ndarray:
    """How many rows of ``simulated`` under ``mask`` each replicate has (0 for none)."""
    counts = simulated.loc[mask, "replicate"].value_counts()
    return counts.reindex(replicates, fill_value=0).to_numpy(dtype=float)


def summary(values: np.ndarray, observed: float | None) -> dict[str, Any]:
    """Median and 90% interval of simulated values, and whether the observation is inside."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return {"median": None, "low": None, "high": None, "inside": None,
                "replicates_supported": 0}  # fmt: skip
    low, median, high = np.quantile(values, [INTERVAL[0], 0.5, INTERVAL[1]])
    inside = None if observed is None else bool(low <= observed <= high)
    return {"median": float(median), "low": float(low), "high": float(high), "inside": inside,
            "replicates_supported": int(len(values))}  # fmt: skip


def compare(
    period: Period,
    record: pd.DataFrame,
    counts: pd.DataFrame,
    simulated: pd.DataFrame,
    replicates: pd.DataFrame,
    window: Window,
) -> dict[str, list[dict[str, Any]]]:
    """The out-of-sample tables: ``tallies``, ``monthly``, ``weapons`` and ``casualties``.

    Args:
        period: the period compared.
        record: its dated record (``load_events``), clipped to the window.
        counts: tallies (``load_counts``); those of militia attacks inside the window count.
        simulated: the simulated events in the record schema with a ``replicate`` column
            (``sim.scorecard.events_to_record``), every replicate's.
        replicates: the run's replicate table (its ``replicate`` numbers: a replicate
            without an event counts 0).
        window: the days compared.
    """
    ids = replicates["replicate"].to_numpy()
    simulated = window.clip(simulated)
    out: dict[str, list[dict[str, Any]]] = {}

    rows = []
    for tally in tallies_in(counts, window).itertuples(index=False):
        sim = per_replicate(simulated, _matching(simulated, tally), ids)
        rows.append({
            "start": tally.start.date().isoformat(), "end": tally.end.date().isoformat(),
            "country": str(tally.country), "target": str(tally.target),
            "action": str(tally.action), "scope": tally.scope, "source": tally.source,
            "observed": int(tally.count), "listed": int(_matching(record, tally).sum()),
            **summary(sim, float(tally.count)),
        })  # fmt: skip
    out["tallies"] = rows

    observed_attacks, simulated_attacks = attacks(record), attacks(simulated)
    months = pd.period_range(window.start, window.end, freq="M")
    sim_month = simulated_attacks["date"].dt.to_period("M").to_numpy()
    obs_month = observed_attacks["date"].dt.to_period("M").to_numpy()
    rows = []
    for month in months:
        sim = per_replicate(simulated_attacks, sim_month == month, ids)
        listed = int((obs_month == month).sum())
        rows.append({"month": str(month), "listed": listed, **summary(sim, None)})
    out["monthly"] = rows

    rows = []
    named_obs = observed_attacks[observed_attacks["action"].astype(str).isin(WEAPON_ACTIONS)]
    named_sim = simulated_attacks[simulated_attacks["action"].astype(str).isin(WEAPON_ACTIONS)]
    all_named = per_replicate(named_sim, np.ones(len(named_sim), dtype=bool), ids)
    for weapon in WEAPON_ACTIONS:
        n_obs = int((named_obs["action"].astype(str) == weapon).sum())
        share_obs = n_obs / len(named_obs) if len(named_obs) else None
        mine = per_replicate(named_sim, (named_sim["action"].astype(str) == weapon).to_numpy(), ids)
        with np.errstate(divide="ignore", invalid="ignore"):
            share_sim = np.where(all_named > 0, mine / all_named, np.nan)
        rows.append({"weapon": weapon, "observed_n": n_obs, "named_n": len(named_obs),
                     "observed": share_obs, **summary(share_sim, share_obs)})  # fmt: skip
    out["weapons"] = rows

    killed = record.loc[observed_attacks.index, "killed_us"].fillna(0).sum()
    wounded = record.loc[observed_attacks.index, "wounded_us"].fillna(0).sum()
    by_replicate = simulated_attacks.groupby("replicate")[["killed_us", "wounded_us"]].sum()
    by_replicate = by_replicate.reindex(ids, fill_value=0)
    sim_killed = by_replicate["killed_us"].to_numpy(dtype=float)
    sim_wounded = by_replicate["wounded_us"].to_numpy(dtype=float)
    rows = [
        {"what": "US killed by militia attacks", "observed": float(killed),
         "basis": "the dated record", **summary(sim_killed, float(killed))},
        {"what": "US wounded by militia attacks (the record's, a lower bound)",
         "observed": float(wounded), "basis": "the dated record (wounded known in some rows)",
         **summary(sim_wounded, None)},
    ]  # fmt: skip
    if period.wounded_reported is not None:
        reported = float(period.wounded_reported)
        rows.append({"what": "US wounded, as reported over the period (more than)",
                     "observed": reported, "basis": period.wounded_source,
                     **summary(sim_wounded, reported)})  # fmt: skip
    out["casualties"] = rows
    return out


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}" if abs(value) < 1 else f"{value:.3g}"
    return f"{value:.0f}" if isinstance(value, float) else str(value)


def _interval(row: dict[str, Any]) -> str:
    return f"{_fmt(row['low'])} - {_fmt(row['high'])}" if row["low"] is not None else ""


def _inside(row: dict[str, Any]) -> str:
    return {True: "yes", False: "no", None: ""}[row["inside"]]


def markdown(tables: dict[str, list[dict[str, Any]]], meta: dict[str, Any]) -> str:
    """``out_of_sample.md``: the four tables and what they were run on."""
    lines = [
        f"# Out of sample: {meta['scenario']} against {meta['record']}",
        "",
        f"Window {meta['start']} to {meta['end']}; {meta['replicates']} replicates, seed "
        f"{meta['seed']}; median and 90% interval over the replicates. The preset was "
        "configured from facts known on its first day and never fitted to these events.",
        "",
    ]
    if meta.get("overrides"):
        lines += [f"Overrides: `{' '.join(meta['overrides'])}`.", ""]
    lines += [
        "## Attacks against the tallies",
        "",
        "| days | country | counted | tallied | listed in the record | simulated median "
        "| 90% interval | inside? |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in tables["tallies"]:
        lines.append(
            f"| {r['start']} to {r['end']} | {r['country']} | {r['action']} on {r['target']} | "
            f"{r['observed']} | {r['listed']} | {_fmt(r['median'])} | {_interval(r)} | "
            f"{_inside(r)} |"
        )
    lines += [
        "",
        "## Attacks by month",
        "",
        "| month | listed in the record (a lower bound) | simulated median | 90% interval |",
        "| --- | --- | --- | --- |",
    ]
    for r in tables["monthly"]:
        lines.append(f"| {r['month']} | {r['listed']} | {_fmt(r['median'])} | {_interval(r)} |")
    lines += [
        "",
        "## Weapon mix (attacks whose weapon is named)",
        "",
        "| weapon | observed share | observed attacks | simulated median | 90% interval | "
        "inside? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in tables["weapons"]:
        lines.append(
            f"| {r['weapon']} | {_fmt(r['observed'])} | {r['observed_n']} of {r['named_n']} | "
            f"{_fmt(r['median'])} | {_interval(r)} | {_inside(r)} |"
        )
    lines += [
        "",
        "## US casualties",
        "",
        "| what | observed | simulated median | 90% interval | inside? | basis |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in tables["casualties"]:
        lines.append(
            f"| {r['what']} | {_fmt(r['observed'])} | {_fmt(r['median'])} | {_interval(r)} | "
            f"{_inside(r)} | {r['basis']} |"
        )
    return "\n".join(lines) + "\n"


def summary_lines(tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The out-of-sample part of the summary printed after a validation."""
    judged = [r for t in ("tallies", "weapons", "casualties") for r in tables[t]
              if r["inside"] is not None]  # fmt: skip
    lines = [f"  Out of sample: {sum(r['inside'] for r in judged)} of {len(judged)} "
             "tallies, shares and casualty figures inside the 90% interval"]  # fmt: skip
    for r in tables["tallies"]:
        mark = {True: "inside", False: "OUTSIDE", None: ""}[r["inside"]]
        lines.append(
            f"    attacks {r['start']} to {r['end']} ({r['country']}): tallied {r['observed']}, "
            f"simulated {_fmt(r['median'])} [{_fmt(r['low'])}, {_fmt(r['high'])}] {mark}"
        )
    return lines
