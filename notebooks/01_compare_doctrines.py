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
# # Six US doctrines on the same random draws
#
# The six US doctrines of `configs/doctrine/us/` (restraint, proportional, red line,
# decapitation, Syria-only strikes, maximum pressure) run on **common random numbers**: replicate
# *k* of every doctrine draws the same numbers wherever its rules do not change the course of
# events, so the difference between two doctrines, replicate by replicate, shows the effect of
# the doctrine rather than the noise of different draws.
#
# Sizes come from `ESCALATION_NOTEBOOK_SCALE`: `full` (the default, 1,000 replicates of the
# default 365-day scenario, about half a minute) or `small` (a quick check).

# %%
# %matplotlib inline
import os

import pandas as pd

import sim

SCALE = os.environ.get("ESCALATION_NOTEBOOK_SCALE", "full")
SIZES = {"full": {"replicates": 1000, "days": 365}, "small": {"replicates": 40, "days": 90}}
if SCALE not in SIZES:
    raise ValueError(f"ESCALATION_NOTEBOOK_SCALE = {SCALE!r}: must be one of full, small")
SIZE = SIZES[SCALE]
pd.set_option("display.width", 160)
SIZE  # noqa: B018 (shown by the notebook)

# %% [markdown]
# ## Run the six doctrines
#
# Each variant is named as on the command line (`doctrine/us=...`); `restraint`, the doctrine
# that never strikes back, is the baseline of the paired differences.

# %%
DOCTRINES = ["restraint", "proportional", "red_line", "decapitation", "syria_only", "max_pressure"]
comparison = sim.compare_scenarios(
    {name: [f"doctrine/us={name}"] for name in DOCTRINES}, seed=0, **SIZE
)
comparison  # noqa: B018 (shown by the notebook)

# %% [markdown]
# ## Distributions across replicates
#
# The highest rung each replicate reached, its militia attacks per month and its US deaths.

# %%
comparison.plot_distributions()

# %% [markdown]
# ## How soon: survival curves
#
# The share of replicates in which the event has not yet happened, by day (Kaplan-Meier
# estimates; a replicate without the event is censored at the horizon; shaded: 95% bands).
# First, the first US death:

# %%
comparison.plot_survival("first_us_death")

# %% [markdown]
# Then rung 5 or above (a US strike inside Iraq, an embassy assault, or worse):

# %%
comparison.plot_survival("rung5")

# %% [markdown]
# ## Paired differences from restraint
#
# Mean difference from the baseline over the same replicates, with a 95% t interval of the
# paired differences. `p_rung5` and `p_us_death` are shares of replicates (differences in
# percentage points / 100).

# %%
METRICS = ["max_rung", "attacks_per_month", "killed_us", "p_rung5", "p_us_death"]
differences = comparison.differences(METRICS)
differences.round(3)

# %%
comparison.plot_differences(["max_rung", "attacks_per_month", "killed_us"])

# %% [markdown]
# The regimes each doctrine ends in (share of replicates):

# %%
regimes = pd.DataFrame(
    {
        name: e.replicates["outcome"].value_counts(normalize=True)
        for name, e in comparison.ensembles.items()
    }
).T.fillna(0.0)
regimes.round(3)

# %% [markdown]
# The escalation ladder over time under each doctrine:

# %%
comparison.plot()

# %% [markdown]
# ## Reading the results
#
# *Written from a full-size run (1,000 replicates, seed 0, 365 days of the default scenario);
# the small test size gives noisier numbers, and changes to the model may move them.*
#
# In this model, striking back buys fewer attacks at the price of a higher ladder. Every
# doctrine that responds cut militia attacks per month against restraint (about 12 a month),
# maximum pressure most (to roughly a quarter of that) and proportional responses next; the red
# line, decapitation and Syria-only doctrines sat together at about 9 a month. The price shows
# on the ladder: restraint never went above rung 3 (US casualties) and Syria-only strikes
# stopped at rung 4, while the red line and decapitation doctrines reached rung 5 or above in
# most replicates and the proportional and maximum-pressure doctrines in all of them. Only
# decapitation and maximum pressure ended in spirals or open war at all: about one replicate in
# eight under decapitation, and more than four in five under maximum pressure (two in three a
# spiral, about one in seven open war). US deaths moved far less than attacks: the paired
# intervals of the red line, decapitation and Syria-only doctrines against restraint straddle
# or sit close to zero, and only maximum pressure and, less markedly, proportional responses
# lowered them (under maximum pressure about four replicates in ten saw no US death, against
# about one in ten under restraint). These are statements about the model's rules and
# parameters (docs/ODD.md, docs/doctrines.md), not forecasts: the model leaves out, among much
# else, domestic politics in Washington and Tehran and any learning about the other side's
# doctrine.
