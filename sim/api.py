"""The notebook surface of the project: run, compare, load a sweep, plot.

Configurations are named exactly as on the command line and composed by Hydra through
:func:`sim.config.compose`; keyword arguments are turned into the same override strings, so
there is one parameter system. The functions return objects holding pandas DataFrames, with
a readable ``repr`` and ``plot_*`` methods that return matplotlib figures.

``sim.compare`` stays the module of the ``escalation-compare`` command; the function that
compares scenarios here is :func:`compare_scenarios`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import sim
from sim.compare import Comparison, compare_configs, paired_difference
from sim.config import BaseConfig, ConfigError
from sim.config import compose as compose_config
from sim.design import DesignResult, read_design, run_design
from sim.engine import RunResult, Simulation
from sim.errors import COMPOSE_ERRORS, one_line
from sim.metrics import daily_quantiles
from sim.outcomes import OUTCOMES
from sim.plots import map_figure, timeline_figure
from sim.plots.ensemble import (
    difference_figure,
    distribution_figure,
    quantile_band_figure,
    regime_figure,
    survival_figure,
    sweep_interval_figure,
)
from sim.plots.sweep import heatmap_figure
from sim.report import SUMMARY_TABLE, SWEEP_TABLE
from sim.state import NEVER
from sim.sweep import DAYS_PER_MONTH, HEADLINE_RUNG, SweepError, SweepPlan

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = list(sim._API)  # the names ``import sim`` re-exports, listed once there

#: the waiting times :meth:`Ensemble.survival` knows: name -> description
EVENTS = {
    "first_us_death": "days to the first US death",
    "rung5": f"days to rung {HEADLINE_RUNG} or above",
}


# --- composition ------------------------------------------------------------------------------


def _setting(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"{name}={str(value).lower()}"
    return f"{name}={value}"


def compose(*overrides: str, **settings: Any) -> BaseConfig:
    """Compose and validate a configuration from command-line overrides.

    Keyword arguments become overrides (``seed=3`` -> ``"seed=3"``; ``None`` is skipped) and
    come after the positional ones, so they win. A bad group, key or value raises
    :class:`sim.config.ConfigError` with one line naming it.
    """
    for i, item in enumerate(overrides):
        if not isinstance(item, str):
            raise ConfigError(
                f"overrides[{i}] = {item!r}: must be a string such as 'doctrine/us=red_line'"
            )
    extra = [_setting(k, v) for k, v in settings.items() if v is not None]
    try:
        return compose_config(*overrides, *extra)
    except ConfigError:
        raise
    except COMPOSE_ERRORS as exc:
        raise ConfigError(one_line(exc)) from None


# --- one configuration, many replicates -------------------------------------------------------


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def first_day_at(rungs: np.ndarray, level: int) -> np.ndarray:
    """Per replicate, the first day (0-based) the rung was ``level`` or above; NEVER if not.

    ``rungs`` is the (days, replicates) array of daily rungs.
    """
    reached = np.asarray(rungs) >= level
    return np.where(reached.any(axis=0), reached.argmax(axis=0), NEVER)


def _step_all(config: BaseConfig) -> tuple[RunResult, np.ndarray]:
    """Run ``config`` and keep the daily rung of every replicate (days, replicates)."""
    simulation = Simulation(config)
    rungs = np.empty((config.days, len(simulation.replicate_ids)), dtype=np.int8)
    while not simulation.done:
        simulation.step()
        rungs[simulation.day - 1] = simulation.state.rung_today
    return simulation.result(), rungs


@dataclass(repr=False)
class Ensemble:
    """The replicates of one configuration: tables, headline numbers and figures.

    Attributes:
        result: the engine's :class:`sim.engine.RunResult`.
        rungs: daily rung of every replicate, an int8 array (days, replicates).
    """

    result: RunResult
    rungs: np.ndarray = field(repr=False)

    @property
    def config(self) -> BaseConfig:
        return self.result.config

    @property
    def replicates(self) -> pd.DataFrame:
        """One row per replicate (the engine's table plus ``attacks_per_month``)."""
        table = self.result.replicates.copy()
        table["attacks_per_month"] = table["attacks"] * DAYS_PER_MONTH / self.config.days
        return table

    @property
    def events(self) -> pd.DataFrame:
        """Events of the replicates kept (``output.events``: all, sample or none)."""
        return self.result.events

    @property
    def daily(self) -> pd.DataFrame:
        """Full daily series (one row per replicate and day) of the replicates kept."""
        return self.result.daily

    @property
    def quantiles(self) -> pd.DataFrame:
        """One row per day: quantiles and mean of each daily column across replicates."""
        if self.result.daily_quantiles is not None:
            return self.result.daily_quantiles
        return daily_quantiles(self.result.daily, self.config.scenario.start_date)

    def headline(self) -> dict[str, float]:
        """The numbers the repr leads with: shares of replicates and per-replicate means."""
        t = self.replicates
        out = {f"p_{name}": float((t["outcome"] == name).mean()) for name in OUTCOMES}
        out |= {
            f"p_rung{HEADLINE_RUNG}": float((t["max_rung"] >= HEADLINE_RUNG).mean()),
            "p_us_death": float((t["killed_us"] > 0).mean()),
            "attacks_per_month": float(t["attacks_per_month"].mean()),
            "killed_us": float(t["killed_us"].mean()),
            "max_rung": float(t["max_rung"].mean()),
        }
        return out

    def survival(self, event: str = "first_us_death") -> pd.DataFrame:
        """Per replicate, the waiting time to ``event`` (a key of :data:`EVENTS`).

        Columns: ``replicate``, ``duration`` (days from the start; the horizon when the event
        did not happen) and ``observed`` (False: censored at the horizon).
        """
        if event == "first_us_death":
            day = self.result.replicates["first_us_death_day"].to_numpy()
        elif event == "rung5":
            day = first_day_at(self.rungs, HEADLINE_RUNG)
        else:
            raise ConfigError(f"event = {event!r}: must be one of {', '.join(EVENTS)}")
        observed = day != NEVER
        return pd.DataFrame(
            {
                "replicate": self.result.replicates["replicate"].to_numpy(),
                "duration": np.where(observed, day, self.config.days),
                "observed": observed,
            }
        )

    def __repr__(self) -> str:
        cfg, t, h = self.config, self.result.replicates, self.headline()
        d = cfg.doctrine
        shares = ", ".join(f"{name} {h[f'p_{name}']:.0%}" for name in OUTCOMES)
        kept = self.events["replicate"].nunique() if len(self.events) else 0
        return "\n".join(
            [
                f"Ensemble: scenario {cfg.scenario.name}, {cfg.days} days from "
                f"{cfg.scenario.start_date}, seed {cfg.seed}, {_plural(len(t), 'replicate')}",
                f"  doctrines: US {d.us.name}, Iran {d.iran.name}, Israel {d.israel.name}, "
                f"Iraq {d.iraq.name}",
                f"  outcomes: {shares}",
                f"  per replicate (mean): {h['attacks_per_month']:.1f} attacks/month, "
                f"{h['killed_us']:.2f} US killed, highest rung {h['max_rung']:.2f}",
                f"  P(rung {HEADLINE_RUNG}+) {h[f'p_rung{HEADLINE_RUNG}']:.0%}, "
                f"P(a US death) {h['p_us_death']:.0%}",
                f"  tables: .replicates ({_plural(len(t), 'row')}), .events "
                f"({_plural(len(self.events), 'row')}, {_plural(kept, 'replicate')} kept), "
                f".daily ({_plural(len(self.daily), 'row')}), .quantiles",
            ]
        )

    # --- figures ---------------------------------------------------------------------

    def plot_timeline(self, replicate: int = 0) -> Figure:
        """The escalation timeline of one replicate (its events must be kept)."""
        return timeline_figure(self.result, self._kept(replicate))

    def plot_map(self, replicate: int = 0) -> Figure:
        """The theatre map of one replicate (its events must be kept)."""
        return map_figure(self.result, self._kept(replicate))

    def _kept(self, replicate: int) -> int:
        """``replicate``, once it is known to be one whose events the run kept: a figure of
        another would show an empty history."""
        ids = self.result.replicates["replicate"].to_numpy()
        if replicate not in ids:
            raise ConfigError(
                f"replicate = {replicate}: not a replicate of this run ({ids.min()} to {ids.max()})"
            )
        out = self.config.output
        kept = {"all": len(ids), "sample": out.event_sample, "none": 0}[out.events]
        if replicate not in ids[:kept]:
            raise ConfigError(
                f"replicate = {replicate}: its events were not kept (output.events="
                f"{out.events} keeps {_plural(min(kept, len(ids)), 'replicate')}, the first); "
                f"run with 'output.events=all', or 'output.event_sample={replicate + 1}'"
            )
        return replicate

    def plot_distributions(self) -> Figure:
        """Distributions across replicates of the highest rung, attacks/month, US deaths."""
        return distribution_figure({self.config.doctrine.us.name: self.replicates})

    def plot_survival(self, event: str = "first_us_death") -> Figure:
        """Kaplan-Meier curve, with a 95% band, of the days to ``event``."""
        return survival_figure(
            {self.config.doctrine.us.name: self.survival(event)},
            EVENTS[event],
            self.config.days,
        )

    def plot_quantiles(self, column: str = "rung") -> Figure:
        """A daily column's median with its 50% and 90% bands across replicates."""
        return quantile_band_figure(self.quantiles, column)


def run(
    *overrides: str,
    replicates: int | None = None,
    seed: int | None = None,
    days: int | None = None,
    design: pd.DataFrame | str | Path | None = None,
    **settings: Any,
) -> Ensemble | DesignResult:
    """Run a configuration named as on the command line; every replicate stepped together.

    With ``design`` (a table, or a CSV or Parquet file, one row per parameter point, one
    column per parameter: a dotted numeric path or a config group such as
    ``doctrine/us``), every point runs ``replicates`` replicates on the same draws, points
    batched together, and a :class:`sim.design.DesignResult` comes back: its
    ``replicates`` table has one row per point and replicate, ``summary()`` one per point.

    Args:
        overrides: ``"scenario=dec2019_crisis"``, ``"doctrine/us=syria_only"``,
            ``"doctrine.us.response_lag_days=5"``, ...
        replicates, seed, days: shorthands for the overrides of the same names (None keeps
            the configuration's value).
        settings: other top-level keys as keyword arguments; nested keys go in
            ``overrides`` (``"output.events=all"``).

    Example:
        ``sim.run("scenario=dec2019_crisis", "doctrine/us=syria_only", replicates=1000)``;
        ``sim.run(days=180, replicates=200, design=pd.DataFrame({"doctrine.us.response_lag_days":
        [0, 2, 7]}))``
    """
    if design is not None:
        return _run_design(design, overrides, replicates, seed, days, settings)
    config = compose(*overrides, replicates=replicates, seed=seed, days=days, **settings)
    return Ensemble(*_step_all(config))


def _run_design(design, overrides, replicates, seed, days, settings) -> DesignResult:
    table = design if isinstance(design, pd.DataFrame) else read_design(design)
    where = "design" if isinstance(design, pd.DataFrame) else f"design {design}"
    settings = {"seed": seed, "days": days, **settings, "output.events": "none"}
    extra = [_setting(k, v) for k, v in settings.items() if v is not None]
    if replicates is not None:
        extra.append(_setting("replicates", replicates))
    return run_design(table, *overrides, *extra, replicates=replicates, where=where)


# --- several configurations on the same draws --------------------------------------------------


@dataclass(repr=False)
class ScenarioComparison:
    """Variants run on the same random draws (common random numbers), paired by replicate.

    Attributes:
        comparison: the :class:`sim.compare.Comparison` (its ``table`` holds, per metric and
            variant, the mean and the paired difference from the first variant with its
            confidence interval).
        ensembles: each variant's :class:`Ensemble`, by label.
    """

    comparison: Comparison
    ensembles: dict[str, Ensemble]

    @property
    def baseline(self) -> str:
        return next(iter(self.ensembles))

    @property
    def table(self) -> pd.DataFrame:
        return self.comparison.table

    def differences(
        self, metrics: Sequence[str] = ("max_rung", "attacks_per_month", "killed_us")
    ) -> pd.DataFrame:
        """Paired differences from the baseline, with confidence intervals, for any columns
        of the replicate tables (``p_rung5`` and ``p_us_death`` are shares of replicates)."""
        base = self._values(self.baseline, metrics)
        rows = []
        for name in list(self.ensembles)[1:]:
            values = self._values(name, metrics)
            for metric in metrics:
                diff, low, high = paired_difference(
                    values[metric], base[metric], self.comparison.confidence
                )
                rows.append(
                    {
                        "variant": name,
                        "metric": metric,
                        "baseline_mean": float(base[metric].mean()),
                        "variant_mean": float(values[metric].mean()),
                        "difference": diff,
                        "ci_low": low,
                        "ci_high": high,
                    }
                )
        return pd.DataFrame(rows)

    def _values(self, name: str, metrics: Sequence[str]) -> dict[str, np.ndarray]:
        t = self.ensembles[name].replicates
        derived = {
            f"p_rung{HEADLINE_RUNG}": lambda: (t["max_rung"] >= HEADLINE_RUNG).astype(float),
            "p_us_death": lambda: (t["killed_us"] > 0).astype(float),
        }
        out = {}
        for metric in metrics:
            if metric in derived:
                out[metric] = derived[metric]().to_numpy(float)
            elif metric in t:
                out[metric] = t[metric].to_numpy(float)
            else:
                allowed = ", ".join([*derived, *t.columns.drop(["replicate", "outcome"])])
                raise ConfigError(f"metric = {metric!r}: must be one of {allowed}")
        return out

    def __repr__(self) -> str:
        first = self.ensembles[self.baseline].config
        head = (
            f"ScenarioComparison: {len(self.ensembles)} variants on the same draws "
            f"(scenario {first.scenario.name}, {first.days} days, seed {first.seed}, "
            f"{first.replicates} replicates; baseline {self.baseline})"
        )
        lines = [head]
        for name, ensemble in self.ensembles.items():
            h = ensemble.headline()
            lines.append(
                f"  {name}: highest rung {h['max_rung']:.2f}, "
                f"{h['attacks_per_month']:.1f} attacks/month, {h['killed_us']:.2f} US killed, "
                f"P(rung {HEADLINE_RUNG}+) {h[f'p_rung{HEADLINE_RUNG}']:.0%}"
            )
        lines.append("  tables: .table, .differences(), .ensembles[label].replicates")
        return "\n".join(lines)

    # --- figures ---------------------------------------------------------------------

    def plot(self) -> Figure:
        """The escalation ladder over time under each variant."""
        return self.comparison.figure()

    def plot_distributions(self) -> Figure:
        """Distributions of the highest rung, attacks per month and US deaths per variant."""
        return distribution_figure({k: e.replicates for k, e in self.ensembles.items()})

    def plot_survival(self, event: str = "first_us_death") -> Figure:
        """Kaplan-Meier curves, with 95% bands, of the days to ``event`` per variant."""
        if event not in EVENTS:
            raise ConfigError(f"event = {event!r}: must be one of {', '.join(EVENTS)}")
        curves = {k: e.survival(event) for k, e in self.ensembles.items()}
        return survival_figure(curves, EVENTS[event], self.ensembles[self.baseline].config.days)

    def plot_differences(
        self, metrics: Sequence[str] = ("max_rung", "attacks_per_month", "killed_us")
    ) -> Figure:
        """Paired differences from the baseline with their confidence intervals."""
        return difference_figure(self.differences(metrics), self.baseline)


def compare_scenarios(
    variants: Mapping[str, Sequence[str] | str] | Sequence[str],
    *common: str,
    replicates: int = 200,
    seed: int = 0,
    days: int | None = None,
    confidence: float = 0.95,
) -> ScenarioComparison:
    """Run variants on the same random draws and pair them replicate by replicate.

    Args:
        variants: ``{"label": ["doctrine/us=red_line", ...], ...}`` (a single string is split
            on spaces), or a list of override strings used as their own labels. The first
            is the baseline.
        common: overrides applied to every variant, e.g. ``"scenario=dec2019_crisis"``.
        replicates, seed, days: shared by every variant (None days: the configuration's).
        confidence: level of the paired-difference intervals.

    Wraps :func:`sim.compare.compare_configs` (the ``escalation-compare`` command's engine).
    """
    if not isinstance(variants, Mapping):
        variants = {v: v for v in variants}
    if len(variants) < 2:
        raise ConfigError("variants: at least two are needed")
    if not 0.5 <= confidence < 1.0:
        raise ConfigError(f"confidence = {confidence}: must be in [0.5, 1)")
    if replicates < 2:
        raise ConfigError(f"replicates = {replicates}: must be at least 2 to pair differences")
    configs = {}
    for name, overrides in variants.items():
        items = overrides.split() if isinstance(overrides, str) else list(overrides)
        configs[name] = compose(*common, *items, replicates=replicates, seed=seed, days=days)
    comparison = compare_configs(configs, confidence)
    ensembles = {
        name: Ensemble(comparison.results[name], comparison.rungs[name]) for name in configs
    }
    return ScenarioComparison(comparison, ensembles)


# --- sweeps ---------------------------------------------------------------------------------


@dataclass(repr=False)
class Sweep:
    """A finished multirun: ``table`` (``sweep.parquet``, one row per job and replicate),
    ``summary`` (``sweep_summary.csv``, one row per job) and the swept keys."""

    path: Path
    table: pd.DataFrame
    summary: pd.DataFrame
    plan: SweepPlan

    @property
    def keys(self) -> tuple[str, ...]:
        return self.plan.keys

    def regimes(self) -> pd.DataFrame:
        """Share of replicates in each regime, one row per combination of swept values."""
        shares = pd.crosstab(
            [self.table[k] for k in self.keys] if self.keys else self.table["job"],
            self.table["outcome"],
            normalize="index",
        )
        return shares.reindex(columns=[o for o in OUTCOMES], fill_value=0.0)

    def __repr__(self) -> str:
        ok = int((self.summary["status"] == "ok").sum()) if "status" in self.summary else 0
        keys = ", ".join(f"{k} ({len(set(v))})" for k, v in self.plan.values.items())
        return (
            f"Sweep {self.path.name}: {ok}/{len(self.summary)} jobs finished over "
            f"{keys or 'no swept keys'}; {len(self.table)} replicate rows"
        )

    def plot_heatmaps(self) -> Figure:
        """Heatmaps of the headline measures over the first two swept keys."""
        if len(self.keys) < 2:
            raise ConfigError(f"sweep {self.path}: heatmaps need two swept keys, has {self.keys}")
        return heatmap_figure(self.summary, self.plan)

    def plot_lines(self, key: str | None = None) -> Figure:
        """Headline measures against one swept key with 90% intervals (other keys pooled)."""
        key = key or (self.keys[0] if self.keys else None)
        if key not in self.keys:
            raise ConfigError(f"key = {key!r}: must be one of {', '.join(self.keys)}")
        return sweep_interval_figure(self.table, key)

    def plot_regimes(self) -> Figure:
        """Stacked shares of the regimes for every combination of swept values."""
        return regime_figure(self.regimes())


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep folder (the ``hydra.sweep.dir`` of a multirun) or its ``sweep.parquet``."""
    folder = Path(path)
    if folder.name == SWEEP_TABLE:
        folder = folder.parent
    table_path = folder / SWEEP_TABLE
    if not table_path.is_file():
        raise ConfigError(
            f"sweep path = {str(path)!r}: no {SWEEP_TABLE} there (give the folder of a "
            "finished multirun; escalation-report <folder> rebuilds it)"
        )
    try:
        plan = SweepPlan.read(folder)
    except SweepError as exc:
        raise ConfigError(f"sweep path: {exc}") from None
    summary_path = folder / SUMMARY_TABLE
    summary = pd.read_csv(summary_path) if summary_path.is_file() else pd.DataFrame()
    return Sweep(folder, pd.read_parquet(table_path), summary, plan)
