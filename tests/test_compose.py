"""Composition: what :func:`sim.config.compose` hands out is what Hydra composes, or
Hydra's refusal word for word, while it keeps each choice of config groups' tree and sets
numbers and other settings on copies of it."""

from __future__ import annotations

import pytest

import sim.config as config_module
from sim.config import _hydra_compose, compose, leaves


@pytest.mark.parametrize(
    "overrides",
    [
        ("seed=5", "seed=6"),
        ("seed=5", "scenario=dec2019_crisis", "seed=8", "days=20", "replicates=3"),
        ("days=07", "doctrine/us=red_line"),
    ],
)
def test_compose_keeps_hydras_result_while_it_caches(overrides):
    """The kept composition plus seed/days/replicates set afterwards is Hydra's own result
    (the last of repeated overrides wins), and each call hands out its own copy."""
    first = compose(*overrides)
    assert first == _hydra_compose(list(overrides))
    first.doctrine.us.response_lag_days = 99.0
    first.seed = 123
    again = compose(*overrides)
    assert again.doctrine.us.response_lag_days != 99.0
    assert again == _hydra_compose(list(overrides))


def _outcome(compose_it):
    """The composed configuration, or the kind and text of the error it raises."""
    try:
        return compose_it()
    except Exception as exc:  # Hydra's and OmegaConf's refusals as well as ours
        return type(exc).__name__, str(exc)


def _numbers_across_the_tree(step: int = 32) -> list[str]:
    """``path=value`` for every ``step``-th numeric parameter of the default tree (whole
    numbers moved by one, others halved, zeros set to 0.5: some then out of range), as a
    plain decimal."""
    base = _hydra_compose([])
    numbers = [
        (path, value)
        for path, value in leaves(base).items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    out = []
    for path, value in numbers[::step]:
        new = value + 1 if isinstance(value, int) else (value / 2 if value else 0.5)
        out.append(f"{path}={new}")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("override", _numbers_across_the_tree())
def test_a_number_set_after_composition_is_what_hydra_composes(override):
    """A number is set on the kept composition, not composed by Hydra again: the result, or
    the refusal's one line, is Hydra's own, for parameters across the whole tree (fields,
    keyed tables and list items)."""
    assert _outcome(lambda: compose(override)) == _outcome(lambda: _hydra_compose([override]))


@pytest.mark.parametrize(
    "overrides",
    [
        ("doctrine/us=red_line", "doctrine.us.respond_per_attack=0.25"),  # a group, then its key
        ("days=30.0",),  # a fraction for a whole number: Hydra refuses it
        ("theatre.sites.taji.personnel=100",),  # a list item by name: Hydra does not read it
        ("doctrine.us.respond_per_attack=0.2", "doctrine.us.respond_per_attack=0.3"),
        ("doctrine.us.respond_per_attack=7",),  # out of its range
        ("doctrine.us.posture_trigger=1",),  # not a number of the tree
        ("actors.militias.0.stock.rocket=12",),  # a keyed table
        ("seed=-1",),
    ],
)
def test_numbers_hydra_must_read_go_through_hydra(overrides):
    """What Hydra reads by its own rules, or refuses, comes out as Hydra has it."""
    assert _outcome(lambda: compose(*overrides)) == _outcome(
        lambda: _hydra_compose(list(overrides))
    )


#: settings applied to the kept tree of their config groups (a value, a word, a switch, a
#: date, a list, a table, an interpolation, a cast), and refusals at each step after it
SETTINGS = [
    ("scenario=biden2021", "output.events=all", "inputs.dialogue_april_2021=off"),
    ("inputs=off", "doctrine/iraq=sovereignty_first", "output.daily=quantiles"),
    ("doctrine.us.posture_trigger=first_us_death", "doctrine/us=red_line"),
    ("scenario.start_date=2020-01-03", "days=int(40.0)", "output.figures=false"),
    ("seed=${days}",),
    ("doctrine.us={respond_per_attack: 0.3, response_lag_days: 4}",),
    ("scenario.sites_handed_over=[taji]", "doctrine.us.respond_per_attack=0.25"),
    ("seed=twelve",),  # not a number: Hydra's refusal
    ("nokey=3",),  # no such key: Hydra's refusal
    ("doctrine.iran.green_light=[0.1,0.2]",),
    ("doctrine.us.attribution_uncertainty=yes",),  # a switch: our refusal
    ("output.events=some",),  # not a choice: our refusal
    ("scenario.start_date=2021-02-30",),
    ("seed=5", "doctrine/us=nope", "seed=twelve"),  # the group's refusal comes first
    ("seed=5", "seed=twelve"),
    ("+seed=3",),  # a key added with +: Hydra's rule, by Hydra
    ("doctrine.iran={green_light: nan}",),
]


@pytest.mark.parametrize("overrides", SETTINGS)
def test_settings_applied_to_the_kept_tree_are_what_hydra_composes(overrides):
    """The kept composition of the config groups with the settings applied afterwards is
    Hydra's own result, or its refusal, word for word."""
    assert _outcome(lambda: compose(*overrides)) == _outcome(
        lambda: _hydra_compose(list(overrides))
    )


def test_settings_do_not_send_a_kept_choice_of_groups_back_to_hydra(monkeypatch):
    monkeypatch.setattr(config_module, "_COMPOSED", {})  # nothing kept yet
    monkeypatch.setattr(config_module, "_TYPED", {})
    compose("doctrine/us=red_line", "seed=2")  # composes, and keeps, red_line's tree

    def no_hydra(overrides, hydra_node=False, stamp=None):
        raise AssertionError(f"composed by Hydra again: {overrides}")

    monkeypatch.setattr(config_module, "_hydra_tree", no_hydra)
    config = compose("output.events=all", "doctrine/us=red_line", "inputs=off", "seed=9")
    assert (config.output.events, config.doctrine.us.name, config.seed) == ("all", "red_line", 9)
    assert config_module.active_inputs(config) == {}
    with pytest.raises(AssertionError, match="composed by Hydra again"):
        compose("doctrine/us=decapitation", "seed=2")  # a new choice of groups
