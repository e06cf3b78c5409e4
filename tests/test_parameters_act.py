"""Every parameter moves something: a parameter no output depends on is a defect.

A "stress" configuration switches every mechanism on often enough (frequent attacks,
lethal Iranian strikes, drones from early in the run, frequent votes), then each numeric
parameter is changed within its allowed range and the run is repeated on the same random
draws. The events, daily series or per-replicate outcomes must differ.

The changes of parameters that can take one value per replicate run as one batch
(``Simulation(per_replicate=..., runs=...)``): each change is a run of its own, a block of
the stress configuration's 32 replicates, and each block is what that run gives alone
(common random numbers: replicate k draws the same numbers whatever block it is in; the
engine's contract, tests/test_per_replicate.py and tests/test_sweep_batched.py). Each
batch also holds the unchanged configuration, which must be the baseline run alone, and
every change is compared with that block. The other parameters (the theatre, the ladder's
thresholds, reaches, lists and dates) and those a dated input of the stress configuration
sets mid-run run alone, as before.

Not covered here, and where they are: the map bounds and grid cell size shape the Mesa
grid and the map (test_theatre); ``output.*`` changes what the CLI writes and prints
(test_cli); ``seed``, ``days`` and ``replicates`` define the run itself.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from conftest import config, replace

from sim.config import KEYED_NUMBER, InputConfig, parameter_at
from sim.engine import Simulation, input_days, run
from sim.params import takes_one_per_replicate

#: the module's tests share the batch (a module fixture): under ``--dist loadgroup`` xdist
#: runs them on one worker, so the batch runs once
pytestmark = pytest.mark.xdist_group("parameters_act")

_NOT_HERE = {
    "seed",
    "days",
    "replicates",
    "cell_size_deg",
    "lat_min",
    "lat_max",
    "lon_min",
    "lon_max",
    "figures",
    "quiet",
    "event_sample",
}


def stress_config():
    cfg = config("replicates=32", "days=300", "seed=5")
    for m in cfg.actors.militias:
        m.base_attack_rate *= 2
        if m.splinter_of:  # it takes its stock from its group when it splits
            continue
        m.stock["drone"] = 2.0
        m.stock["rocket"] = min(100.0, m.stock_capacity)
    us, iran, iraq = cfg.doctrine.us, cfg.doctrine.iran, cfg.doctrine.iraq
    us.decapitation_probability = 0.7
    cfg.actors.dynamics.splinter_probability = 1.0  # so that the splinter's parameters act
    cfg.actors.dynamics.splinter_share = 0.6
    us.consolidation_lag_days = 10
    us.consolidation_interval_days = 7
    us.air_defence_upgrade_lag_days = 10
    us.closure_threat_baghdad_attacks = 4.0
    us.war_if_iran_kills_us = 0.5
    us.war_if_iran_strikes_without_deaths = 0.2
    iran.warning_effect = 0.95
    iran.warning_probability = 0.5  # so that some of its strikes kill nobody
    cfg.ladder.chronic_attacks_per_month = 15.0
    cfg.weapons["drone"].supplied_from = "2019-12-01"
    cfg.doctrine.israel.interdiction_rate = 0.1
    iraq.expulsion_vote_threshold = 1.0
    iraq.raid_rate = 0.05
    iraq.truce_probability = 0.2
    us.response_scaling = "escalating"  # so that escalation_step acts
    us.escalation_step = 0.5
    cfg.scenario.diplomacy_opens = "2019-11-01"  # so that the talks parameters act
    iran.talks_green_light = 0.5
    return cfg


def _perturbations(allowed: Mapping, value) -> list:
    """Two changes within a field's range (its metadata): one up (or across), one down."""
    lo, hi = allowed["lo"], allowed["hi"]
    if isinstance(value, int):
        up = 2 * value + 1 if hi is None or 2 * value + 1 <= hi else value
        down = max(int(lo), value // 2)
        return [v for v in (up, down) if v != value]  # a switch at its top: only down
    if hi is not None and hi <= 1.0:  # probabilities and fractions: go to the other side
        return [1.0 - value if value != 0.5 else 0.9, value / 2]
    return [2 * value + 1.0, lo + (value - lo) / 4 if value > lo else value + 0.5]


def _numeric_fields(node, path=""):
    """(dotted path, allowed range, value) of every number under ``node`` (keyed entries,
    such as the weapons and a group's stocks, by key)."""
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        where = f"{path}.{f.name}" if path else f.name
        if dataclasses.is_dataclass(value):
            yield from _numeric_fields(value, where)
        elif isinstance(value, dict):
            for key, item in value.items():
                if dataclasses.is_dataclass(item):
                    yield from _numeric_fields(item, f"{where}.{key}")
                else:
                    yield f"{where}.{key}", KEYED_NUMBER, item
        elif "what" in f.metadata and f.name not in _NOT_HERE:
            yield where, f.metadata, value


#: what a splinter in waiting must hold at 0 (it takes its share of its group's when it
#: splits: sim.config refuses anything else)
_SPLINTER_FIXED = re.compile(r".*\.(fighters|supply_share|stock\.\w+)$")


def _cases():
    cfg = stress_config()
    cases = list(_numeric_fields(cfg, ""))
    # one of each kind of list item stands for its siblings (same code path, other row)
    for path, items in (
        ("actors.militias", cfg.actors.militias[:1] + cfg.actors.militias[3:5]),
        ("theatre.sites", cfg.theatre.sites[:1]),
        ("theatre.routes", cfg.theatre.routes[:2]),
    ):
        for item in items:
            i = [id(x) for x in eval(f"cfg.{path}")].index(id(item))  # noqa: S307
            cases += [
                case
                for case in _numeric_fields(item, f"{path}.{i}")
                if not (getattr(item, "splinter_of", "") and _SPLINTER_FIXED.match(case[0]))
            ]
    cases += [("theatre.sites.0.lat", None, 34.2), ("theatre.sites.0.lon", None, 42.0)]
    return [
        (path, _perturbations(allowed, value) if allowed is not None else [value])
        for path, allowed, value in cases
    ]


CASES = _cases()


@functools.cache
def _baseline():
    return run(stress_config())


def _same(a, b) -> bool:
    return (
        a.events.equals(b.events) and a.daily.equals(b.daily) and a.replicates.equals(b.replicates)
    )


# --- the changes stepped together -------------------------------------------------------------

#: parameters a dated input of the stress configuration sets while the run goes on: while it
#: holds, an input gives every replicate of a batch the configuration's value (scaled, for a
#: scaled input), where a run alone scales its own; they run alone
_SET_BY_INPUTS = frozenset(entry.path for _, _, entry, _ in input_days(stress_config()).values())

#: the list and date parameters' cases (see test_list_and_date_parameters_move_an_output)
LIST_AND_DATE = [
    ("doctrine.us.consolidation_sites", ["qayyarah"]),
    ("doctrine.iran.retaliation_targets", ["erbil"]),
    ("weapons.drone.supplied_from", "2020-06-01"),
    ("weapons.drone.kind", "convoy_ied"),
    ("weapons.rocket.action", "other"),
    ("scenario.start_date", "2020-01-01"),
    ("actors.militias.0.bases", ["jurf_al_sakhar"]),
    ("ladder.rungs.1.events", []),
    ("doctrine.us.response_scaling", "proportional"),
    ("doctrine.us.posture_trigger", "first_us_death"),
    ("doctrine.us.embassy_closure_threat", False),
    ("scenario.us_troops_in_iraq", 3000.0),
    ("scenario.sites_handed_over", ["taji"]),
    ("scenario.drawdown_under_way", True),
    ("scenario.diplomacy_opens", None),
    ("inputs", {"lull": InputConfig("2020-01-01", "doctrine.iran.green_light", 0.2, "test")}),
    ("inputs", "off"),
]


def _batchable(path: str, value) -> bool:
    """Whether a change of ``path`` to ``value`` runs in the batch (else alone)."""
    if path in _SET_BY_INPUTS:
        return False
    try:
        _, _, current = parameter_at(stress_config(), path)
    except Exception:  # not a single parameter (the inputs table): alone
        return False
    return takes_one_per_replicate(path, current) and takes_one_per_replicate(path, value)


#: every change that runs in the batch: (path, value), in the order of the cases
BATCHED = [
    (path, value)
    for path, values in CASES + [(p, [v]) for p, v in LIST_AND_DATE]
    for value in values
    if _batchable(path, value)
]
#: changes stepped together at most (blocks of 32 replicates): the batch's daily series are
#: held until it ends
CHUNK = 60


def _run_chunk(changes: list) -> list:
    """The baseline and each of ``changes`` as runs of one batch: their results, in order."""
    cfg = stress_config()
    R, blocks = cfg.replicates, len(changes) + 1
    per_replicate = {}
    for i, (path, value) in enumerate(changes, start=1):
        if path not in per_replicate:
            current = parameter_at(cfg, path)[2]
            per_replicate[path] = np.array([current] * (blocks * R), dtype=object)
        per_replicate[path][i * R : (i + 1) * R] = value
    per_replicate = {path: np.array(values.tolist()) for path, values in per_replicate.items()}
    sim = Simulation(cfg, np.tile(np.arange(R), blocks), per_replicate=per_replicate, runs=blocks)
    while not sim.done:
        sim.step()
    return list(sim.results())


def _selected(items) -> list:
    """The batched changes that the selected tests of this file read: all of them in a whole
    run, a few when some parameters' tests are run alone (as docs/extending.md's examples do)."""
    here = Path(__file__)
    wanted = set()
    for item in items:
        params = getattr(item, "callspec", None) and item.callspec.params
        if item.path != here or not params:
            continue
        values = params["values"] if "values" in params else [params["value"]]
        wanted.update((params["path"], repr(value)) for value in values)
    return [(path, value) for path, value in BATCHED if (path, repr(value)) in wanted]


@pytest.fixture(scope="module")
def batched(request) -> dict:
    """Each batched change's result (whether it moved an output), and each batch's unchanged
    run, by (path, value): the changes the session's selected tests read, in batches of
    CHUNK (at least one batch, for the test of the unchanged runs)."""
    selected = _selected(request.session.items) or BATCHED[:1]
    moved, baselines = {}, []
    for start in range(0, len(selected), CHUNK):
        changes = selected[start : start + CHUNK]
        unchanged, *results = _run_chunk(changes)
        baselines.append(unchanged)
        for (path, value), result in zip(changes, results, strict=True):
            moved[path, repr(value)] = not _same(result, unchanged)
    return {"moved": moved, "baselines": baselines}


def _moves(batched: dict, path: str, value) -> bool:
    """Whether changing ``path`` to ``value`` changes any output, in the batch or alone."""
    if (path, repr(value)) in batched["moved"]:
        return batched["moved"][path, repr(value)]
    return not _same(run(replace(stress_config(), path, value)), _baseline())


def test_stress_configuration_exercises_every_mechanism():
    kinds = set(_baseline().events.kind)
    expected = {
        "convoy_ied",
        "base_attack",
        "us_strike_iraq",
        "us_strike_syria",
        "embassy_assault",
        "decapitation",
        "iran_direct_strike",
        "open_war",
        "israeli_strike",
        "iraqi_raid",
        "fighters_released",
        "expulsion_vote",
        "embassy_closure_threat",
        "truce",
        "show_of_force",
        "site_closed",
        "air_defence_upgrade",
        "drawdown",
        "us_withdrawal",
        "splinter_formed",
    }
    assert expected <= kinds, expected - kinds
    assert (_baseline().events.weapon == "drone").any()


@pytest.mark.slow
def test_the_batchs_unchanged_runs_are_the_baseline_run_alone(batched):
    """Every batch's unchanged block is the stress configuration run alone: the batch gives
    each block what its run gives alone, so a change compared in the batch is compared with
    the baseline itself."""
    assert batched["baselines"] and batched["moved"]
    for unchanged in batched["baselines"]:
        assert _same(unchanged, _baseline())
    assert len(BATCHED) > 300  # most changes run in the batch


@pytest.mark.slow
@pytest.mark.parametrize(("path", "values"), CASES, ids=[c[0] for c in CASES])
def test_parameter_moves_an_output(path, values, batched):
    for value in values:
        if _moves(batched, path, value):
            return
    pytest.fail(f"{path}: none of {values} changed any output")


@pytest.mark.slow
@pytest.mark.parametrize(("path", "value"), LIST_AND_DATE)
def test_list_and_date_parameters_move_an_output(path, value, batched):
    assert _moves(batched, path, value), f"{path} -> {value} changed nothing"


def test_perturbations_cover_the_schema():
    paths = {p for p, _ in CASES}
    assert len(paths) > 120
    assert "doctrine.us.response_lag_days" in paths and "weapons.drone.salvo_mean" in paths
