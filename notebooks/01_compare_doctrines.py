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
# In this model, striking back buys fewer attacks at the price of a higher ladder, and the top
# of the ladder belongs mostly to the doctrines that strike the leadership. Every doctrine that
# responds cut militia attacks per month against restraint (about 11.7 a month): maximum
# pressure most (to about 2.5), proportional responses next (about 5.5), then the Syria-only,
# red line and decapitation doctrines (about 7.4, 7.5 and 7.9). Restraint never struck, yet
# nearly a third of its replicates (31%) reached rung 5, every one of them through an embassy
# assault: the street's outrage at Israeli strikes blamed on the US and at Iraqi raids, and the
# protest movement, bring crowds to the embassy without any US strike. It went no higher.
# Syria-only strikes, which never touch Iraqi soil, reached rung 5 just as often (31%).
#
# Iran's affront grows with a leadership strike (half of Iran's red line, all of it when IRGC
# officers die with the leaders), with a US strike that hits its own personnel in Syria (half of
# it too) and with the proxy fighters US strikes kill; once it passes the red line Iran strikes
# (or, one time in ten, absorbs the loss). The red line doctrine, the automatic one (it answers
# every US death, whoever it blames, and never strikes the leadership), reached rung 5 in about
# nine replicates in ten (89%) but never went higher: its strikes, strong as they are, never
# carried Iran's affront to the red line, and every replicate stayed in chronic harassment.
# Decapitation reached rung 5 in 92% and struck the leadership in 24%; Iran's missiles came in
# 11%, every time after a leadership strike (Iran answered 47% of them): 23% spiral, 1.3% war.
# Syria-only strikes brought Iran's missiles in one replicate in a thousand (0.1%), which
# spiralled; none ended at war. Proportional responses, many small strikes, half of them in
# Syria, never struck the leadership, yet brought Iran's missiles in about 3% of replicates
# (2.7%), each time after its strikes in Syria had hit Iranian personnel (almost always twice or
# more), on top of the proxies' losses: 2.4% spiral, 0.3% war. Maximum pressure struck the
# leadership in 84% and Iran fired in 85%, in about one replicate in thirteen (7.8%) without any
# leadership strike (its escalating strikes kill proxy fighters by the hundred); 73% spiralled
# and 18% ended at war, 6.5% stayed in chronic harassment and 1.7% saw deterrence hold, the only
# replicates of any doctrine where it did. The other routes to Iran's missiles stay open, but
# only the doctrines of many strikes (proportional responses and maximum pressure) travelled
# them more than once in a thousand replicates. Spirals and wars came in nine maximum-pressure
# replicates in ten and in about a quarter of the decapitation ones, against about one in forty
# under proportional responses, one in a thousand under Syria-only strikes and none under the
# red line or restraint.
#
# US deaths moved less than attacks, but every doctrine that responds lowered them, each with a
# paired interval against restraint clear of zero: the Syria-only, red line and decapitation
# doctrines by about 0.31, 0.30 and 0.25 US deaths per replicate, proportional responses by
# about 0.74 and maximum pressure by about 1.4; under maximum pressure about two replicates in
# five (39%) saw no US death, against 9% under restraint. These are statements about the
# model's rules and parameters (docs/ODD.md, docs/doctrines.md), not forecasts: the model leaves
# out, among much else, domestic politics in Washington and Tehran and any learning about the
# other side's doctrine.
