"""The typed schema and its validation: every bad value is named, with what is allowed."""

from __future__ import annotations

import pytest
from conftest import config, replace

import sim.config as config_module
from sim.config import ConfigError, _hydra_compose, compose, leaves, validate


def test_default_config_composes_with_all_actors(default_config):
    cfg = default_config
    names = [m.name for m in cfg.actors.militias]
    assert {"kataib_hezbollah", "asaib_ahl_al_haq", "nujaba", "kataib_sayyid_al_shuhada"} <= set(
        names
    )
    assert cfg.scenario.start_date == "2019-10-01" and cfg.days == 365 and cfg.replicates == 1
    assert cfg.doctrine.us.response_lag_days == 2  # seeds 002, 004


def test_theatre_has_the_required_sites(default_config):
    sites = {s.name: s for s in default_config.theatre.sites}
    assert len(sites) >= 14
    for name in (
        "ain_al_asad",
        "erbil",
        "baghdad_embassy",
        "baghdad_airport",
        "taji",
        "balad",
        "qayyarah",
        "k1",
        "jurf_al_sakhar",
        "al_qaim",
        "albukamal",
    ):
        assert name in sites
    assert any(s.side == "us" and s.country == "syria" for s in sites.values())
    assert any(s.kind == "border_crossing" for s in sites.values())
    assert all(s.source for s in sites.values()), "every site cites a source"
    kinds = {r.kind for r in default_config.theatre.routes}
    assert kinds == {"us_logistics", "iran_supply"}


def test_overrides_reach_the_typed_config():
    cfg = compose("seed=7", "days=180", "scenario.start_date=2020-06-01")
    assert (cfg.seed, cfg.days, cfg.scenario.start_date) == (7, 180, "2020-06-01")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("doctrine.us.response_lag_days", -3, "doctrine.us.response_lag_days = -3: must be"),
        (
            "doctrine.iran.green_light",
            1.5,
            "doctrine.iran.green_light = 1.5: must be a probability",
        ),
        ("actors.militias.0.obedience", -0.1, "actors.militias[0].obedience = -0.1"),
        ("days", 0, "days = 0: must be"),
        ("weapons.rocket.salvo_mean", 0.5, "weapons.rocket.salvo_mean = 0.5"),
        (
            "actors.militias.0.max_fighters",
            0.0,
            "actors.militias[0].max_fighters = 0.0: must be > 0",
        ),
        ("doctrine.israel.blame_us_probability", float("nan"), "blame_us_probability = nan"),
        (
            "doctrine.us.attack_count_trigger",
            0.0,
            "doctrine.us.attack_count_trigger = 0.0: must be a number >= 1",
        ),
        (
            "doctrine.us.closure_threat_baghdad_attacks",
            0.5,
            "doctrine.us.closure_threat_baghdad_attacks = 0.5: must be a number >= 1",
        ),
        (
            "doctrine.us.response_lag_dispersion",
            -0.5,
            "doctrine.us.response_lag_dispersion = -0.5: must be a number >= 0",
        ),
        (
            "doctrine.us.attribution_threshold",
            1.5,
            "doctrine.us.attribution_threshold = 1.5: must be a probability in [0, 1]",
        ),
        ("doctrine.iran.red_line", 0.0, "doctrine.iran.red_line = 0.0: must be > 0"),
        ("doctrine.iran.warning_probability", -0.1, "warning_probability = -0.1: must be"),
        ("actors.militias.0.stock.rocket", -5.0, "actors.militias[0].stock.rocket = -5.0"),
        ("weapons.drone.supplied_per_day", -1.0, "weapons.drone.supplied_per_day = -1.0"),
    ],
)
def test_out_of_range_values_name_the_field(path, value, message):
    with pytest.raises(ConfigError, match=None) as err:
        validate(replace(config(), path, value))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_route_naming_an_unknown_site_is_rejected():
    cfg = replace(config(), "theatre.routes.0.sites", ["safwan", "atlantis"])
    with pytest.raises(ConfigError, match=r"theatre.routes\[0\].sites\[1\] = 'atlantis'"):
        validate(cfg)


def test_site_outside_the_map_is_rejected():
    cfg = replace(config(), "theatre.sites.0.lat", 50.0)
    with pytest.raises(ConfigError, match="outside the map"):
        validate(cfg)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("scenario.start_date", "2020-13-01", "must be a date"),
        ("actors.militias.0.bases", ["nowhere"], "not a site of the theatre"),
        ("doctrine.us.consolidation_sites", ["jurf_al_sakhar"], "must be one of"),
        ("doctrine.iran.retaliation_targets", ["atlantis"], "must be one of"),
        ("theatre.sites.1.name", "ain_al_asad", "must be unique"),
        ("theatre.sites.0.side", "martian", "must be one of"),
        ("actors.militias.0.fighters", 1e6, "must be <= max_fighters"),
        ("weapons.rocket.kind", "artillery", "weapons.rocket.kind = 'artillery': must be one of"),
        ("weapons.rocket.action", "mortar", "weapons.rocket.action = 'mortar': must be one of"),
        ("weapons.drone.supplied_from", "spring", "weapons.drone.supplied_from = 'spring'"),
        ("doctrine.us.posture_trigger", "a_hunch", "posture_trigger = 'a_hunch': must be one of"),
    ],
)
def test_cross_references_are_checked(path, value, message):
    with pytest.raises(ConfigError, match=message):
        validate(replace(config(), path, value))


def test_ladder_must_name_known_events_and_ordered_levels():
    cfg = config()
    cfg.ladder.rungs[1].events = ["alien_invasion"]
    with pytest.raises(ConfigError, match=r"ladder.rungs\[1\].events\[0\] = 'alien_invasion'"):
        validate(cfg)
    cfg = config()
    cfg.ladder.rungs[2].level = 1
    with pytest.raises(ConfigError, match="strictly increase"):
        validate(cfg)


def test_unknown_keys_and_wrong_types_are_refused_by_the_schema():
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    with pytest.raises((OmegaConfBaseException, HydraException), match="no_such_field"):
        compose("doctrine.us.no_such_field=1")
    with pytest.raises((OmegaConfBaseException, HydraException), match="abc"):
        compose("days=abc")


def test_a_stock_of_an_unknown_weapon_is_refused():
    cfg = config()
    cfg.actors.militias[1].stock["atgm"] = 4.0
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert str(err.value) == (
        "actors.militias[1].stock.atgm: not a weapon; the weapons are rocket, ied, drone"
    )


def test_a_run_without_weapons_is_refused():
    cfg = config()
    cfg.weapons = {}
    with pytest.raises(ConfigError, match="weapons: at least one militia weapon is required"):
        validate(cfg)


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

    def no_hydra(overrides, hydra_node=False):
        raise AssertionError(f"composed by Hydra again: {overrides}")

    monkeypatch.setattr(config_module, "_hydra_tree", no_hydra)
    config = compose("output.events=all", "doctrine/us=red_line", "inputs=off", "seed=9")
    assert (config.output.events, config.doctrine.us.name, config.seed) == ("all", "red_line", 9)
    assert config_module.active_inputs(config) == {}
    with pytest.raises(AssertionError, match="composed by Hydra again"):
        compose("doctrine/us=decapitation", "seed=2")  # a new choice of groups
