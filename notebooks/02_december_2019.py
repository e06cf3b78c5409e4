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
# # December 2019, replayed
#
# From 1 October 2019 under the Trump-era doctrines (`scenario=dec2019_crisis`). In the
# record, Kataib Hezbollah's rockets on the K1 base near Kirkuk killed a US contractor
# (32 rockets, 27 December), the US struck Kataib Hezbollah, the embassy in Baghdad was
# assaulted, the US killed Soleimani and al-Muhandis, and Iran fired missiles at Ain al-Asad
# and Erbil (`004_1f3a1c9e903c2ecf.txt`, `002_25cfb80024d744cb.txt`,
# `000_153a2cfa979334c2.txt`). The model scripts none of it: each step happens, or not, by
# the rules. This notebook runs an ensemble, replays one replicate in which the chain went as
# far as a leadership strike, then reruns the same draws without the decapitation option
# (`scenario=dec2019_no_decapitation`: the US keeps to its red line and never strikes the
# leadership) and shows what changed.
#
# Sizes come from `ESCALATION_NOTEBOOK_SCALE` (`full`, the default, or `small`).

# %%
# %matplotlib inline
import os

import pandas as pd

import sim

SCALE = os.environ.get("ESCALATION_NOTEBOOK_SCALE", "full")
SIZES = {"full": {"replicates": 500}, "small": {"replicates": 30}}
if SCALE not in SIZES:
    raise ValueError(f"ESCALATION_NOTEBOOK_SCALE = {SCALE!r}: must be one of full, small")
SIZE = SIZES[SCALE]
pd.set_option("display.width", 160)

# %% [markdown]
# ## The crisis and its counterfactual on the same draws

# %%
pair = sim.compare_scenarios(
    {
        "crisis": ["scenario=dec2019_crisis"],
        "no decapitation": ["scenario=dec2019_no_decapitation"],
    },
    seed=0,
    **SIZE,
)
crisis, counterfactual = pair.ensembles["crisis"], pair.ensembles["no decapitation"]
crisis  # noqa: B018 (shown by the notebook)

# %% [markdown]
# ## One replicate, step by step
#
# We pick the first replicate (among those whose events are kept) in which the US struck the
# leadership; when no replicate did (possible at small sizes), the one that climbed highest.

# %%
table = crisis.replicates
kept = table[table["replicate"].isin(crisis.events["replicate"].unique())]
struck = kept[kept["decapitations"] > 0]
chosen = kept.sort_values("max_rung", ascending=False) if struck.empty else struck
REPLICATE = int(chosen["replicate"].iloc[0])
print(f"replicate {REPLICATE}:", "no leadership strike" if struck.empty else "leadership strike")

# %% [markdown]
# Its events from rung 4 up (US strikes and above), in order:

# %%
events = crisis.events
key_events = events[(events["replicate"] == REPLICATE) & (events["rung"] >= 4)]
key_events[["date", "kind", "actor", "target", "killed_us", "rung"]].head(25)

# %% [markdown]
# The timeline: the highest rung reached each day, every event as a marker, and weekly
# attacks and US casualties below.

# %%
crisis.plot_timeline(REPLICATE)

# %% [markdown]
# Where it happened: sites coloured by side and status, supply routes, the attacks and strikes.

# %%
crisis.plot_map(REPLICATE)

# %% [markdown]
# ## The same draws without the leadership strike
#
# The same replicate under `dec2019_no_decapitation`. Up to the day the two doctrines first
# decide differently, the two runs are identical; after it they diverge.

# %%
counterfactual.plot_timeline(REPLICATE)


# %%
def counts(ensemble, replicate):
    row = ensemble.replicates.set_index("replicate").loc[replicate]
    columns = [
        "attacks",
        "killed_us",
        "us_strikes",
        "decapitations",
        "embassy_assaults",
        "iran_direct_strikes",
        "max_rung",
        "outcome",
    ]
    return row[columns]


pd.DataFrame(
    {"crisis": counts(crisis, REPLICATE), "no decapitation": counts(counterfactual, REPLICATE)}
)

# %% [markdown]
# ## What changed across all replicates
#
# Paired differences (no decapitation minus crisis) over every replicate, with 95% intervals:

# %%
METRICS = [
    "max_rung",
    "attacks_per_month",
    "killed_us",
    "us_strikes",
    "decapitations",
    "iran_direct_strikes",
    "p_rung5",
    "p_us_death",
]
pair.differences(METRICS).round(3)

# %% [markdown]
# The regimes the replicates ended in (share of replicates):

# %%
regimes = {n: e.replicates["outcome"].value_counts(normalize=True)
           for n, e in pair.ensembles.items()}  # fmt: skip
pd.DataFrame(regimes).T.fillna(0.0).round(3)

# %%
pair.plot_survival("rung5")

# %%
pair.plot()

# %% [markdown]
# ## Reading
#
# *Written from a full-size run (500 replicates, seed 0); small runs are noisier.*
#
# In the model the December 2019 chain is one path among many, not the likeliest one, and in
# this run the only one that led to Iran's missiles. A leadership strike came in about one
# crisis replicate in ten (10%), every time after an embassy assault, and Iran's missiles in
# about 5%. Iran answered about half of the leadership strikes (52%) and let the rest pass: a
# leadership strike alone is half of Iran's red line, and it crosses the line when IRGC
# officers die with the leaders (past it, Iran may still absorb the loss). Iran never fired
# without a leadership strike: under the crisis doctrines the US struck only about 1.3 times a
# replicate on average, too seldom for its proxies' losses to add up to the red line, and a
# strike that hits Iran's personnel in Syria is only half of it. Most replicates stayed in
# chronic harassment (90%); 9.6% spiralled and 0.4% (two replicates) ended at war, and those
# are exactly the replicates with a leadership strike. On the same draws without the
# decapitation option the leadership strikes disappeared, and with them Iran's missiles and
# every spiral and war: all the replicates stayed in chronic harassment. What the strike added,
# then, was the whole tail of state-on-state escalation, spirals above all. The share of
# replicates reaching rung 5 or above fell by about 9 percentage points and the mean highest
# rung by about 0.35, and the US struck about a third of a strike less often per replicate.
# Militia attacks and US deaths moved little, though measurably: without the leadership strike
# there were about 0.34 fewer attacks a month (about 4% of 9.5) and 0.06 fewer US deaths per
# replicate, both with intervals clear of zero (a leadership strike adds grievance to every
# group). Not all of the change belongs to the leadership strike: the counterfactual's
# `red_line` doctrine is the automatic one (it answers every US death, whoever it blames), but
# it leaves wounds alone, ignores runs of attacks and strikes harder when it does strike
# (compare the two columns in `docs/doctrines.md`), which is why the two rung-5 curves part
# before any leadership strike could have happened. Within those limits, in this model the
# December 2019 choices mattered for how high the ladder went far more than for how much
# harassment US forces faced. Read the replicate above as an illustration of how the rules
# chain together, not as a reconstruction of the events.
