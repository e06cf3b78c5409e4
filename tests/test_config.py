"""The typed schema and its validation: every bad value is named, with what is allowed."""

from __future__ import annotations

import pytest
from conftest import config, replace

from sim.config import ConfigError, compose, validate


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
