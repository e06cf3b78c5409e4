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
# # Sensitivity, scenario discovery and robust doctrines
#
# Three questions a sweep alone does not answer, each asked of one parameter-batched design
# (every point on the same replicates, common random numbers):
#
# 1. **Which parameters drive the outcomes?** Sobol indices (SALib) of five free
#    parameters, those no seed pins down (`configs/analysis/sensitivity.yaml`), over their
#    search ranges.
# 2. **Where in parameter space does war come from?** PRIM scenario discovery (the EMA
#    Workbench) over the assumed parameters of `configs/analysis/assumptions.yaml`.
# 3. **Which US doctrine does least badly whatever Iran and the militias turn out to be?**
#    A tournament of the six US doctrines against the four Iranian ones across sampled
#    worlds of deep uncertainty (`configs/analysis/deep_uncertainties.yaml`).
#
# The same analyses run from the command line as `escalation-sensitivity`,
# `escalation-discover` and `escalation-tournament`. Sizes come from
# `ESCALATION_NOTEBOOK_SCALE`: `full` (the default, about a minute on two cores)
# or `small` (a quick check).

# %%
# %matplotlib inline
import os

import pandas as pd

from sim.analysis.discover import run_discovery
from sim.analysis.sensitivity import run_sensitivity
from sim.analysis.tournament import run_tournament

SCALE = os.environ.get("ESCALATION_NOTEBOOK_SCALE", "full")
SIZES = {
    "full": {"sobol_n": 128, "points": 300, "worlds": 30, "replicates": 20, "days": 365},
    "small": {"sobol_n": 4, "points": 16, "worlds": 2, "replicates": 4, "days": 60},
}
if SCALE not in SIZES:
    raise ValueError(f"ESCALATION_NOTEBOOK_SCALE = {SCALE!r}: must be one of full, small")
SIZE = SIZES[SCALE]
DAYS = f"days={SIZE['days']}"
pd.set_option("display.width", 160)
SIZE  # noqa: B018 (shown by the notebook)

# %% [markdown]
# ## 1. Sobol indices of the free parameters
#
# Saltelli sampling with `n` base samples gives n x (5 + 2) points. S1 is the share of an
# output's variance a parameter explains alone; ST adds its interactions with the others.

# %%
indices = run_sensitivity(
    DAYS,
    n=SIZE["sobol_n"],
    replicates=SIZE["replicates"],
    outputs="attacks_per_month,us_deaths,p_rung5,p_war",
)
indices.plot()

# %%
pd.concat(
    {
        name: indices.ranked(name)[["parameter", "S1", "ST"]].head(3)
        for name in indices.meta["outputs"]
    }
)

# %%
indices.noise  # noqa: B018 (shown: the share of each output's spread replicate noise could make)

# %% [markdown]
# ## 2. Where war comes from: a PRIM box
#
# A Latin hypercube over the assumed parameters; PRIM treats each replicate as a case and
# peels towards a box where war is frequent. *Coverage*: the share of the war replicates
# inside the box; *density*: the share of the box's replicates that end in war.

# %%
found = run_discovery(
    DAYS, points=SIZE["points"], replicates=SIZE["replicates"], outcomes="war,spiral"
)
found.meta["share_of_replicates"]

# %%
for box in found.boxes:
    print(box.outcome, {k: round(v, 3) for k, v in box.stats.items()})
    print(box.limits.to_string(index=False), "\n")

# %%
# at the small size, no replicate of the sample may end in war: then there is no box to draw
has_war = any(box.outcome == "war" for box in found.boxes)
found.plot_box("war") if has_war else "no war in this sample"  # noqa: B018 (shown)

# %%
found.scores  # noqa: B018 (shown by the notebook)

# %% [markdown]
# ## 3. The doctrine tournament
#
# Every US doctrine against every Iranian doctrine in sampled worlds of militia and Iranian
# parameters that no doctrine sets. A doctrine is *robust* in a world where mean US deaths
# stay at or under 3 and P(war) at or under 5%; its *regret* is how much worse it does than
# the best US doctrine in that world.

# %%
contest = run_tournament(DAYS, worlds=SIZE["worlds"], replicates=SIZE["replicates"])
contest.ranking[
    ["rank", "us", "robustness", "mean_us_deaths", "worst_us_deaths", "max_regret_us_deaths",
     "mean_p_war", "worst_p_war"]
]  # fmt: skip

# %%
contest.plot()

# %% [markdown]
# ## Reading
#
# *Which parameters matter.* Over the free parameters' search ranges, militia attacks per
# month are nearly all convoy traffic (`actors.convoys_per_day`: S1 about 0.91), and US
# deaths nearly all the lethality of a rocket (`weapons.rocket.kill_per_munition`: S1 about
# 0.90). The share of replicates reaching rung 5 depends on both, convoy traffic first, and
# through their interaction: ST about 0.62 and 0.54, more than their S1 (0.36 and 0.32). For
# P(war) the replicate noise is about as large as the spread between points (the noise share
# is near 1): at 20 replicates a point, war is too rare (a few percent of replicates) for
# Sobol indices to rank anything, and the next two analyses read it better.
#
# *Where war comes from.* About 3.4% of the discovery's replicates end in war. The densest
# PRIM box holding at least half of them ends in war 8.2% of the time, about two and a half
# times the base rate; it asks for convoy traffic over about 0.9 convoys a day, a
# leadership-strike probability over about 0.2 and an Iranian red line under about 3.2, and
# trims a little off several other ranges. The extra-trees scores agree on convoy traffic
# for war (0.22, the largest), and put the leadership-strike probability first for a spiral
# (0.27), with convoy traffic and rocket lethality next (about 0.12 each); the spiral box
# (37% spiral against 28% overall) asks for a leadership-strike probability over about 0.33.
# The box is a description of this sample, not a proof: at this size, war rests on about 200
# replicates.
#
# *Which doctrine is robust.* Across 120 US worlds (30 sampled worlds x 4 Iranian
# doctrines), restraint keeps mean US deaths under 3 and war under 5% in all but one (99%;
# mean 2.1 US deaths, no war), red_line in 96%, syria_only in 91% and proportional in 90%
# (each of the four failing only in some worlds against `revenge`), decapitation in 65% and
# max_pressure in 30%: max pressure deters the militias best (2.3 attacks a month against
# restraint's 11.2) and is robust in every world only against an Iran that restrains its
# proxies (in a tenth of them or none against the others); against `revenge` it averages
# about 18 US deaths and 59.5% war. Restraint's price is the most attacks: its regret in attacks
# per month reaches 15.3. Against `talks_first` every doctrine does exactly as against
# `calibrated`, because no talks open in the default scenario.
