# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reading a parameter sweep
#
# A sweep (`escalation-sim -m experiment=...`) writes `sweep.parquet` at its root: one row
# per job and replicate, a column per swept parameter (named by its override key, e.g.
# `doctrine.us.kill_threshold`) and every per-replicate outcome (`outcome`, `max_rung`,
# `attacks`, `killed_us`, ...); `sweep_summary.csv` holds one row per job.
#
# Set `ESCALATION_SWEEP` to a sweep folder to read it. Without it, the notebook runs a small
# sweep of the `deterrence_threshold` experiment (US response threshold x response lag under
# the red-line doctrine) in a temporary folder. `ESCALATION_NOTEBOOK_SCALE=small` shrinks
# that sweep to a quick check.

# %%
# %matplotlib inline
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import display

import sim

SCALE = os.environ.get("ESCALATION_NOTEBOOK_SCALE", "full")
SIZES = {
    "full": ["replicates=20", "days=120"],
    "small": [
        "replicates=8",
        "days=60",
        "doctrine.us.kill_threshold=1,3",
        "doctrine.us.response_lag_days=0,7,30",
    ],
}
if SCALE not in SIZES:
    raise ValueError(f"ESCALATION_NOTEBOOK_SCALE = {SCALE!r}: must be one of full, small")
pd.set_option("display.width", 160)


def escalation_sim() -> list[str]:
    """The escalation-sim command of this environment (beside this Python, else on PATH)."""
    here = Path(sys.executable).parent / "escalation-sim"
    found = str(here) if here.is_file() else shutil.which("escalation-sim")
    if found is None:
        raise FileNotFoundError("escalation-sim: not installed in this environment")
    return [found]


SWEEP = os.environ.get("ESCALATION_SWEEP")
if SWEEP is None:
    SWEEP = str(Path(tempfile.mkdtemp(prefix="sweep_")) / "deterrence_threshold")
    command = [
        *escalation_sim(), "-m", "experiment=deterrence_threshold", *SIZES[SCALE],
        f"hydra.sweep.dir={SWEEP}", "output.quiet=true",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    print(done.stdout[done.stdout.rfind("Sweep ") :])
    if done.returncode != 0:
        raise RuntimeError(f"the sweep failed ({done.returncode}): {done.stderr[-600:]}")
sweep = sim.load_sweep(SWEEP)
sweep  # noqa: B018 (shown by the notebook)

# %% [markdown]
# The per-job summary: status, swept values and the headline measures.

# %%
columns = [*sweep.keys, "replicates", "p_rung5", "attacks_per_month", "p_withdrawal"]
sweep.summary[["job", "status", *[c for c in columns if c in sweep.summary]]].round(3)

# %% [markdown]
# ## Heatmaps over the two swept parameters
#
# The probability of rung 5 or above, the mean militia attacks per month and the probability
# of US withdrawal for each combination (grey: no finished job).

# %%
if len(sweep.keys) >= 2:
    display(sweep.plot_heatmaps())

# %% [markdown]
# ## Each parameter with its interval
#
# Against one swept parameter, pooling the replicates over the others: shares with 90% Wilson
# intervals, attacks per month with the 90% t interval of the mean.

# %%
for key in sweep.keys:
    display(sweep.plot_lines(key))

# %% [markdown]
# ## Regimes
#
# Every replicate is classed (`sim.metrics.classify`) as **war** (Iran's direct war with the
# US), **withdrawal** (US resolve fell below the doctrine's threshold and forces left),
# **spiral** (the ladder reached `ladder.spiral_min_rung`), **chronic harassment** (attacks per
# month at or above `ladder.chronic_attacks_per_month`) or **deterrence holds** (none of
# these).

# %%
regimes = sweep.regimes()
regimes.round(3)

# %%
sweep.plot_regimes()

# %% [markdown]
# Where each regime is most common in this sweep:

# %%
for regime in regimes.columns:
    share = regimes[regime].max()
    if share == 0:
        print(f"{regime:>20}: in no replicate")
        continue
    top = regimes[regime].idxmax()
    values = top if isinstance(top, tuple) else (top,)
    where = ", ".join(
        f"{k.split('.')[-1]}={v}" for k, v in zip(regimes.index.names, values, strict=True)
    )
    print(f"{regime:>20}: at most {share:.0%} of replicates ({where})")

# %% [markdown]
# ## Reading
#
# *Written from the notebook's own sweep at full size (15 jobs of 20 replicates, 120 days);
# a sweep given through `ESCALATION_SWEEP` needs its own reading.*
#
# Over this grid the regimes do not change: every replicate ended in chronic harassment, with
# no deterrence, no spiral and no withdrawal in 120 days. What moves is whether the US
# strikes at all. Under the red-line doctrine only an attack that kills at least
# `kill_threshold` US nationals is answered: with a threshold of one death, about a fifth to
# a quarter of the replicates reached rung 5 (a US strike in Iraq) within 120 days; with two
# deaths about one in twenty; with three, none, since attacks that kill three are rare. Yet
# attacks per month hardly moved (about 10 a month in every cell, slightly fewer where the
# US strikes most), and US deaths stayed the same: in this model a red line decides how
# often the US escalates, not how often militias attack. The lag mattered little here,
# because few replicates had a strike to delay. With 20 replicates per job the intervals are
# wide: a longer horizon and more replicates would be the next sweep to run before drawing
# any conclusion about deterrence.
