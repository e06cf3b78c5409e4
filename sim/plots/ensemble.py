"""Figures of ensembles: distributions across replicates, survival curves, paired differences,
daily quantile bands, and the interval and regime plots of a sweep.

Each function takes plain DataFrames (replicate tables, waiting times, difference tables) so
it draws results from a run, a comparison or a sweep alike. Survival curves are Kaplan-Meier
estimates from :func:`scipy.stats.ecdf` on right-censored data (censored at the horizon),
with log-log 95% confidence bands.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from sim.plots.comparison import VARIANT_COLOURS
from sim.plots.style import BLUE, FONT, GREEN, GREY, ORANGE, PURPLE, VERMILLION, _new_figure
from sim.plots.sweep import wilson_interval
from sim.sweep import HEADLINE_RUNG

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: regimes in the order of the stacked bars, with their colours (Okabe-Ito)
REGIME_COLOURS = {
    "deterrence_holds": GREEN,
    "chronic_harassment": ORANGE,
    "spiral": VERMILLION,
    "withdrawal": BLUE,
    "war": "#000000",
}
#: readable names of replicate-table metrics in figure titles
METRIC_LABELS = {
    "max_rung": "highest rung",
    "attacks_per_month": "attacks per month",
    "killed_us": "US killed",
    "wounded_us": "US wounded",
    "p_rung5": "P(rung 5 or above)",
    "p_us_death": "P(a US death)",
}
#: how many US deaths get a bar of their own; more are pooled in the last bar
DEATHS_SHOWN = 6


def _colours(n: int) -> list[str]:
    return [VARIANT_COLOURS[i % len(VARIANT_COLOURS)] for i in range(n)]


def _grouped_shares(ax, tables: Mapping[str, pd.DataFrame], column: str, levels, labels) -> None:
    """Bars of the share of replicates at each level, one bar per variant in each group."""
    n = len(tables)
    width = 0.8 / n
    x = np.arange(len(levels))
    for i, ((name, table), colour) in enumerate(zip(tables.items(), _colours(n), strict=True)):
        values = table[column].to_numpy()
        shares = [
            np.mean(values >= lv) if lv == levels[-1] and labels[-1].endswith("+")
            else np.mean(values == lv)
            for lv in levels
        ]  # fmt: skip
        ax.bar(x - 0.4 + width * (i + 0.5), shares, width, color=colour, label=name)
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.set_ylabel("share of replicates", fontsize=FONT + 1)
    ax.grid(axis="y", color="#E5E5E5")


def distribution_figure(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """The highest rung, attacks per month and US deaths across replicates, per variant.

    ``tables`` maps a label to a replicate table with ``max_rung``, ``attacks_per_month``
    and ``killed_us`` columns (as :attr:`sim.api.Ensemble.replicates`).
    """
    fig = _new_figure((16.0, 5.2))
    rung_ax, attack_ax, death_ax = fig.subplots(1, 3, width_ratios=[1.3, 1, 1.1])
    top = max(int(t["max_rung"].max()) for t in tables.values())
    levels = list(range(top + 1))
    _grouped_shares(rung_ax, tables, "max_rung", levels, [str(v) for v in levels])
    rung_ax.set_xlabel("highest rung reached", fontsize=FONT + 1)
    rung_ax.set_title("Highest rung of the escalation ladder", fontsize=FONT + 2)

    data = [t["attacks_per_month"].to_numpy(float) for t in tables.values()]
    parts = attack_ax.boxplot(
        data, whis=(5, 95), showfliers=False, patch_artist=True, widths=0.6,
        medianprops={"color": "black", "lw": 1.6},
    )  # fmt: skip
    for box, colour in zip(parts["boxes"], _colours(len(data)), strict=True):
        box.set_facecolor(colour)
        box.set_alpha(0.75)
    for i, values in enumerate(data, start=1):
        attack_ax.plot(i, values.mean(), "D", color="white", mec="black", ms=7)
    attack_ax.set_xticks(range(1, len(data) + 1), list(tables), rotation=30, ha="right")
    attack_ax.set_ylabel("militia attacks per month", fontsize=FONT + 1)
    attack_ax.set_title("Attacks per month\n(box: 25-75%, whiskers: 5-95%, ◇ mean)",
                        fontsize=FONT + 2)  # fmt: skip
    attack_ax.grid(axis="y", color="#E5E5E5")

    top_deaths = max(int(t["killed_us"].max()) for t in tables.values())
    shown = min(top_deaths, DEATHS_SHOWN)
    levels = list(range(shown + 1))
    labels = [str(v) for v in levels]
    if top_deaths > DEATHS_SHOWN:
        labels[-1] += "+"
    _grouped_shares(death_ax, tables, "killed_us", levels, labels)
    death_ax.set_xlabel("US killed in the run", fontsize=FONT + 1)
    death_ax.set_title("US deaths", fontsize=FONT + 2)
    if len(tables) > 1:
        rung_ax.legend(fontsize=FONT, title="variant", title_fontsize=FONT, frameon=False)
    for ax in (rung_ax, attack_ax, death_ax):
        ax.tick_params(labelsize=FONT)
    replicates = {len(t) for t in tables.values()}
    fig.suptitle(
        f"Distributions across {'/'.join(map(str, sorted(replicates)))} replicates",
        fontsize=FONT + 3,
    )
    return fig


def kaplan_meier(duration: np.ndarray, observed: np.ndarray, level: float = 0.95):
    """Kaplan-Meier survival with a log-log confidence band: (days, survival, low, high).

    ``duration`` is the day of the event, or the horizon where ``observed`` is False.
    """
    duration = np.asarray(duration, float)
    observed = np.asarray(observed, bool)
    data = stats.CensoredData(uncensored=duration[observed], right=duration[~observed])
    if not observed.any():  # nothing happened: the curve stays at one
        horizon = float(duration.max()) if len(duration) else 0.0
        days = np.array([0.0, horizon])
        ones = np.ones(2)
        return days, ones, ones, ones
    sf = stats.ecdf(data).sf
    with warnings.catch_warnings():  # undefined where the estimate is 0: no band there
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(level, method="log-log")
    days = np.concatenate([[0.0], sf.quantiles])
    low = np.where(np.isnan(band.low.probabilities), sf.probabilities, band.low.probabilities)
    high = np.where(np.isnan(band.high.probabilities), sf.probabilities, band.high.probabilities)
    return (
        days,
        np.concatenate([[1.0], sf.probabilities]),
        np.concatenate([[1.0], low]),
        np.concatenate([[1.0], high]),
    )


def survival_figure(curves: Mapping[str, pd.DataFrame], what: str, horizon: int) -> Figure:
    """Kaplan-Meier curves of the share of replicates still without the event, by day.

    ``curves`` maps a label to a frame with ``duration`` and ``observed`` columns (as
    :meth:`sim.api.Ensemble.survival`); replicates without the event are censored at
    ``horizon``.
    """
    fig = _new_figure((11.0, 6.0))
    ax = fig.subplots()
    for (name, frame), colour in zip(curves.items(), _colours(len(curves)), strict=True):
        days, surv, low, high = kaplan_meier(frame["duration"], frame["observed"])
        days, surv = np.append(days, horizon), np.append(surv, surv[-1])
        low, high = np.append(low, low[-1]), np.append(high, high[-1])
        ax.fill_between(days, low, high, step="post", color=colour, alpha=0.18, lw=0)
        share = float(frame["observed"].mean())
        ax.step(days, surv, where="post", color=colour, lw=2.4,
                label=f"{name} (event in {share:.0%})")  # fmt: skip
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.set_xlabel("days from the start", fontsize=FONT + 2)
    ax.set_ylabel("replicates without the event yet", fontsize=FONT + 2)
    ax.grid(color="#E5E5E5")
    ax.tick_params(labelsize=FONT + 1)
    ax.legend(fontsize=FONT + 1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(
        f"Survival: {what} (Kaplan-Meier, shaded: 95% band; censored at day {horizon})",
        fontsize=FONT + 2,
    )
    return fig


def difference_figure(differences: pd.DataFrame, baseline: str) -> Figure:
    """Paired differences from the baseline with their intervals: one panel per metric.

    ``differences`` has ``variant``, ``metric``, ``difference``, ``ci_low`` and ``ci_high``
    columns (as :meth:`sim.api.ScenarioComparison.differences`).
    """
    metrics = list(dict.fromkeys(differences["metric"]))
    variants = list(dict.fromkeys(differences["variant"]))
    fig = _new_figure((5.0 * len(metrics), 1.2 + 0.55 * len(variants)))
    axes = np.atleast_1d(fig.subplots(1, len(metrics), sharey=True))
    y = np.arange(len(variants))[::-1]
    colours = _colours(len(variants) + 1)[1:]  # the baseline keeps the first colour
    for ax, metric in zip(axes, metrics, strict=True):
        rows = differences[differences["metric"] == metric].set_index("variant").loc[variants]
        d = rows["difference"].to_numpy(float)
        err = np.vstack([d - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - d])
        for k in range(len(variants)):
            ax.errorbar(d[k], y[k], xerr=err[:, k : k + 1], fmt="o", color=colours[k],
                        ms=8, capsize=4, lw=2)  # fmt: skip
        ax.axvline(0, color=GREY, lw=1.2)
        ax.set_title(METRIC_LABELS.get(metric, metric.replace("_", " ")), fontsize=FONT + 2)
        ax.set_xlabel(f"difference from {baseline}", fontsize=FONT + 1)
        ax.grid(axis="x", color="#E5E5E5")
        ax.tick_params(labelsize=FONT + 1)
    axes[0].set_yticks(y, variants)
    fig.suptitle("Paired differences on the same random draws (mean and 95% interval)",
                 fontsize=FONT + 2)  # fmt: skip
    return fig


def quantile_band_figure(quantiles: pd.DataFrame, column: str = "rung") -> Figure:
    """A daily column's median, 50% and 90% bands and mean across replicates, by date."""
    needed = [f"{column}_{s}" for s in ("q05", "q25", "q50", "q75", "q95", "mean")]
    missing = [c for c in needed if c not in quantiles]
    if missing:
        names = sorted({c.rsplit("_", 1)[0] for c in quantiles.columns if c.endswith("_q50")})
        raise ValueError(f"column = {column!r}: must be one of {', '.join(names)}")
    fig = _new_figure((12.0, 4.8))
    ax = fig.subplots()
    x = quantiles["date"]
    bands = ((0, 4, 0.2, "90% of replicates"), (1, 3, 0.4, "50% of replicates"))
    for lo, hi, alpha, label in bands:
        ax.fill_between(x, quantiles[needed[lo]], quantiles[needed[hi]], step="mid",
                        color=PURPLE, alpha=alpha, lw=0, label=label)  # fmt: skip
    ax.plot(x, quantiles[needed[2]], color=PURPLE, lw=2, drawstyle="steps-mid", label="median")
    ax.plot(x, quantiles[needed[5]], color="black", lw=1.4, ls="--", label="mean")
    ax.set_title(f"{column.replace('_', ' ')} by day across replicates", fontsize=FONT + 2)
    ax.set_ylabel(column.replace("_", " "), fontsize=FONT + 1)
    ax.grid(color="#E5E5E5")
    ax.legend(fontsize=FONT, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


# --- sweeps -------------------------------------------------------------------------------------

#: (column or rule, title, colour, is a share) of the interval plot of a sweep
SWEEP_MEASURES = (
    ("p_rung5", "P(rung 5 or above)", VERMILLION, True),
    ("attacks_per_month", "Militia attacks per month", PURPLE, False),
    ("p_withdrawal", "P(US withdrawal)", BLUE, True),
)


def sweep_interval_figure(table: pd.DataFrame, key: str, level: float = 0.90) -> Figure:
    """The headline measures against one swept key, pooling replicates over the other keys.

    Shares carry Wilson intervals; attacks per month the t interval of the mean (both at
    ``level``). ``table`` is a ``sweep.parquet`` table.
    """
    frame = table.assign(
        p_rung5=(table["max_rung"] >= HEADLINE_RUNG).astype(float),
        p_withdrawal=(table["outcome"] == "withdrawal").astype(float),
    )
    grouped = frame.groupby(key)
    levels = list(grouped.groups)
    numeric = all(isinstance(v, int | float | np.number) for v in levels)
    x = np.asarray(levels, float) if numeric else np.arange(len(levels), dtype=float)
    n = grouped.size().to_numpy(float)
    fig = _new_figure((5.2 * len(SWEEP_MEASURES), 4.4))
    axes = fig.subplots(1, len(SWEEP_MEASURES))
    for ax, (column, title, colour, is_share) in zip(axes, SWEEP_MEASURES, strict=True):
        mean = grouped[column].mean().to_numpy(float)
        if is_share:
            low, high = wilson_interval(mean, n, level)
        else:
            sem = grouped[column].sem().fillna(0).to_numpy(float)
            half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sem
            low, high = mean - half, mean + half
        if numeric:  # a band and a line along an ordered axis
            ax.fill_between(x, low, high, color=colour, alpha=0.22, lw=0,
                            label=f"{level:.0%} interval")  # fmt: skip
            ax.plot(x, mean, "o-", color=colour, lw=2, label="estimate")
        else:  # options with no order between them (a config group): no line joins them
            ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o", color=colour,
                        ms=8, capsize=5, lw=2, label=f"estimate, {level:.0%} interval")  # fmt: skip
        if not numeric or len(levels) <= 12:
            ax.set_xticks(x, [f"{v:g}" if isinstance(v, float) else str(v) for v in levels])
        ax.set_xlabel(key.split(".")[-1].replace("_", " "), fontsize=FONT + 1)
        ax.set_title(title, fontsize=FONT + 2)
        if is_share:
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter("{x:.0%}")
        ax.grid(color="#E5E5E5")
        ax.legend(fontsize=FONT, loc="best")
    fig.suptitle(f"Against {key} ({int(n.min())}+ replicates per point, other keys pooled)",
                 fontsize=FONT + 2)  # fmt: skip
    return fig


def regime_figure(shares: pd.DataFrame) -> Figure:
    """Stacked bars of the share of replicates in each regime, one bar per row of ``shares``
    (rows: combinations of swept values; columns: regimes, as :meth:`sim.api.Sweep.regimes`)."""
    fig = _new_figure((max(8.0, 0.5 * len(shares) + 4.0), 5.4))
    ax = fig.subplots()
    x = np.arange(len(shares))
    bottom = np.zeros(len(shares))
    for regime, colour in REGIME_COLOURS.items():
        if regime not in shares:
            continue
        values = shares[regime].to_numpy(float)
        ax.bar(x, values, 0.85, bottom=bottom, color=colour, label=regime.replace("_", " "))
        bottom += values
    names = shares.index.names
    values = [idx if isinstance(idx, tuple) else (idx,) for idx in shares.index]
    if max(len(str(v)) for row in values for v in row) <= 6:  # short numbers: stacked, level
        ax.set_xticks(x, ["\n".join(map(str, row)) for row in values], fontsize=FONT - 1)
    else:  # names (a config group's options) would run into each other: one upright line
        ax.set_xticks(x, [" / ".join(map(str, row)) for row in values], fontsize=FONT - 1,
                      rotation=90)  # fmt: skip
    ax.set_xlabel(" / ".join(str(n).split(".")[-1] for n in names), fontsize=FONT + 1)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.set_ylabel("share of replicates", fontsize=FONT + 1)
    ax.legend(fontsize=FONT, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Regimes by swept values", fontsize=FONT + 2)
    return fig
