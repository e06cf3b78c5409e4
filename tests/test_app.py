"""The seminar app without a browser: its model, what it shows, its errors, assets and launcher."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from sim.app import assets, launch, views
from sim.app.seminar import (
    KNOBS,
    SCENARIO_DOCTRINE,
    SeminarModel,
    Settings,
    configure,
    preset_values,
    scenarios,
    us_doctrines,
)
from sim.config import compose
from sim.engine import Simulation

DAYS = 60


@pytest.fixture(scope="module")
def stepped() -> SeminarModel:
    """The page's default model after DAYS days."""
    model = SeminarModel(Settings().with_presets())
    for _ in range(DAYS):
        model.step()
    return model


def test_selectors_list_the_config_presets():
    assert {"default", "dec2019_crisis", "biden2021"} <= set(scenarios())
    assert set(us_doctrines()) == {
        "restraint",
        "proportional",
        "red_line",
        "decapitation",
        "syria_only",
        "max_pressure",
    }


@pytest.mark.slow
def test_sides_differ_only_in_the_us_doctrine():
    a, b = configure(Settings(doctrine_b="restraint").with_presets())
    assert a.doctrine.us.name == "decapitation" and b.doctrine.us.name == "restraint"
    assert dataclasses.replace(a, doctrine=dataclasses.replace(a.doctrine, us=b.doctrine.us)) == b
    assert a.seed == b.seed


@pytest.mark.slow
def test_same_doctrine_on_both_sides_gives_the_same_run():
    """Common random numbers: with nothing to tell them apart, the two sides are identical."""
    settings = Settings(doctrine_b=SCENARIO_DOCTRINE, seed="11").with_presets()
    model = SeminarModel(settings)
    for _ in range(DAYS):
        model.step()
    ea, eb = model.a.simulation.events_frame(), model.b.simulation.events_frame()
    assert len(ea) > 0
    assert ea.equals(eb)
    assert views.snapshot(model.a) == views.snapshot(model.b)


@pytest.mark.slow
def test_shown_counters_come_from_the_engine(stepped):
    """An independent run of the same configuration gives the numbers the page shows."""
    for _, side in stepped.sides:
        sim = Simulation(side.config, replicates=[0])
        for _ in range(DAYS):
            sim.step()
        daily = sim.daily_frame()
        snap = views.snapshot(side)
        assert snap.day == DAYS
        assert snap.rung == int(sim.state.rung_today[0]) == int(daily["rung"].iloc[-1])
        assert snap.highest == int(daily["rung"].max())
        for key in ("attacks_rocket", "attacks_ied", "attacks_drone", "responses"):
            assert snap.count(key) == int(daily[key].sum()), key
        assert snap.killed_us == round(daily["killed_us"].sum())
        assert snap.attacks == int(daily["attacks"].sum())
        assert snap.us_troops == round(float(sim.state.troops()[0]))
        assert snap.rung_name == views.rung_names(side)[snap.rung]
    # the default seed and horizon give a run with something to show
    assert views.snapshot(stepped.a).attacks > 0


def test_before_the_first_step_everything_is_zero():
    snap = views.snapshot(SeminarModel().a)
    assert (snap.day, snap.rung, snap.attacks, snap.killed_us, snap.responses) == (0, 0, 0, 0, 0)
    assert snap.date == "01 Oct 2019"


@pytest.mark.slow
def test_presets_follow_the_scenario_and_doctrine():
    values = preset_values("dec2019_no_decapitation")  # the scenario swaps in red_line
    red_line = compose("doctrine/us=red_line").doctrine.us
    assert values["response_lag_days"] == red_line.response_lag_days
    assert values["respond_if_us_wounded"] == red_line.respond_if_us_wounded
    crackdown = preset_values("dec2019_iraq_crackdown")
    assert crackdown["raid_rate"] == compose("doctrine/iraq=crackdown").doctrine.iraq.raid_rate
    assert preset_values("default", "max_pressure")["respond_if_us_wounded"] == 1.0
    assert values["casualty_aversion"] == 1.0  # a factor: 1 keeps each group's own value


def test_us_sliders_edit_side_a_only_and_the_others_both():
    settings = Settings(doctrine_b="restraint").with_presets()
    values = {**settings.values, "response_lag_days": 9, "interdiction_rate": 0.05}
    a, b = configure(dataclasses.replace(settings, values=values))
    assert a.doctrine.us.response_lag_days == 9
    assert (
        b.doctrine.us.response_lag_days
        == compose("doctrine/us=restraint").doctrine.us.response_lag_days
    )
    assert a.doctrine.israel.interdiction_rate == b.doctrine.israel.interdiction_rate == 0.05


@pytest.mark.slow
def test_casualty_aversion_factor_scales_every_group():
    settings = Settings().with_presets()
    base, _ = configure(settings)
    a, b = configure(
        dataclasses.replace(settings, values={**settings.values, "casualty_aversion": 0.5})
    )
    for side in (a, b):
        got = [m.casualty_aversion for m in side.actors.militias]
        want = [m.casualty_aversion * 0.5 for m in base.actors.militias]
        assert np.allclose(got, want)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seed": "-1"}, "seed = -1: must be a whole number >= 0"),
        ({"seed": "twelve"}, "seed = 'twelve': must be a whole number >= 0"),
        (
            {"respond_if_us_wounded": 1.5},
            "doctrine.us.respond_if_us_wounded = 1.5: must be a probability",
        ),
        ({"response_lag_days": 2.5}, "doctrine.us.response_lag_days = 2.5: must be a whole number"),
        ({"kill_threshold": 0}, "doctrine.us.kill_threshold = 0: must be a whole number >= 1"),
        (
            {"interdiction_rate": -0.1},
            "doctrine.israel.interdiction_rate = -0.1: must be a number >= 0",
        ),
        ({"casualty_aversion": 2.0}, "casualty_aversion = 1.2: must be a fraction in [0, 1]"),
        # values the model would take, typed beyond the slider's ends
        (
            {"response_lag_days": 45},
            "US response lag (days) = 45: outside the slider's range, 0 to 30",
        ),
        ({"kill_threshold": 12}, "US deaths = 12: outside the slider's range, 1 to 10"),
        ({"war_aversion": 0.5}, "(war aversion) = 0.5: outside the slider's range, 0 to 0.2"),
        ({"casualty_aversion": 2.5}, "all groups) = 2.5: outside the slider's range, 0 to 2"),
        ({"scenario": "nowhere"}, "scenario: no option 'nowhere' (choose from: biden2021"),
    ],
)
def test_bad_values_give_a_one_line_message_and_an_empty_model(change, message):
    settings = Settings().with_presets()
    fields = {k: v for k, v in change.items() if k in ("seed", "scenario")}
    values = {**settings.values, **{k: v for k, v in change.items() if k in KNOBS}}
    model = SeminarModel(dataclasses.replace(settings, values=values, **fields))
    assert model.error is not None and message in model.error
    assert "\n" not in model.error
    assert model.sides == [] and model.running is False
    model.step()  # nothing to step, and no crash
    assert model.day == 0


@pytest.mark.slow
def test_every_slider_end_is_accepted_and_the_values_beyond_refused():
    """The sliders' own ends are valid settings; a step beyond either end is refused."""
    settings = Settings().with_presets()
    lows = {name: knob.lo for name, knob in KNOBS.items()}
    # the model caps each group's casualty aversion at 1, so the factor's top (2) is refused
    highs = {name: knob.hi for name, knob in KNOBS.items()} | {"casualty_aversion": 1.0}
    for values in (lows, highs):
        model = SeminarModel(dataclasses.replace(settings, values=values))
        assert model.error is None, (values, model.error)
    for name, knob in KNOBS.items():
        assert knob.outside(knob.lo) is None and knob.outside(knob.hi) is None, name
        for value in (knob.lo - knob.step, knob.hi + knob.step):
            assert knob.outside(value), (name, value)


def test_rebuilt_from_a_reactive_store():
    """Mesa's Reset passes the page's reactive settings; the model reads their value."""

    class Store:
        value = Settings(seed="5").with_presets()

    model = SeminarModel(Store())
    assert model.error is None and model.a.config.seed == 5 == model.b.config.seed


def test_figures_draw_and_ring_the_days_events(stepped):
    side = stepped.a
    events = side.simulation.events_frame()
    last = events[events["day"] == side.day - 1]
    assert len(views._today_points(side, events)) == len(last)
    for make in (views.map_figure, views.timeline_figure):
        fig = make(side)
        assert fig.axes and fig.axes[0].get_legend() is not None


def test_assets_match_what_solara_requests():
    packages = assets.solara_packages()
    names = [re.sub(r"@[^@/]+$", "", p) for p in packages]
    assert names == [
        "@widgetti/solara-vuetify-app",
        "@widgetti/vue-grid-layout",
        "requirejs",
        "font-awesome",
    ]
    assert all(re.search(r"@\d+\.\d+\.\d+", p) for p in packages)


def test_assets_install_is_idempotent_and_needs_npm(tmp_path, monkeypatch, capsys):
    present = tmp_path / "requirejs@2.3.6"
    present.mkdir()
    (present / "package.json").write_text("{}")
    assert assets.install(["requirejs@2.3.6"], tmp_path) == []
    monkeypatch.setattr(assets.shutil, "which", lambda _: None)
    with pytest.raises(RuntimeError, match="npm not found"):
        assets.install(["font-awesome@4.5.0"], tmp_path)
    monkeypatch.setattr(assets, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(assets, "solara_packages", lambda: ["font-awesome@4.5.0"])
    assert assets.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: npm not found") and err.count("\n") == 1
    assert not (tmp_path / "font-awesome@4.5.0").exists()
    assert assets.main(["--bogus"]) == 2


def test_launcher_binds_to_this_machine_by_default(capsys):
    args = launch.parse([])
    assert (args.host, args.port) == ("127.0.0.1", launch.DEFAULT_PORT)
    assert launch.parse(["--port", "9001", "--host", "::1"]).port == 9001
    for bad in (["--port", "0"], ["--port", "http"], ["--colour"]):
        with pytest.raises(SystemExit) as exit_info:
            launch.parse(bad)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("escalation-app: error:") and err.count("\n") == 1


def _played(**choices) -> SeminarModel:
    model = SeminarModel(Settings(**choices).with_presets())
    while model.running:
        model.step()
    return model


@pytest.mark.slow
def test_seminar_guide_exercise_one_holds():
    """docs/seminar_guide.md, Exercise 1: with seed 22 only the decapitation side reaches rung 7,
    and with seed 44 its leadership strike comes with no embassy assault before it."""
    model = _played(scenario="dec2019_crisis", doctrine_b="red_line", seed="22")
    a, b = model.a.simulation.events_frame(), model.b.simulation.events_frame()
    first_day = {side: {k: int(e.loc[e["kind"] == k, "day"].min()) for k in set(e["kind"])}
                 for side, e in (("A", a), ("B", b))}  # fmt: skip
    cols = ["day", "kind", "target", "munitions"]
    assert a.loc[a["day"] <= 60, cols].equals(b.loc[b["day"] <= 60, cols])
    for side in ("A", "B"):
        assert first_day[side]["us_strike_iraq"] < first_day[side]["embassy_assault"]
    assert first_day["A"]["decapitation"] < first_day["A"]["iran_direct_strike"]
    assert set(a.loc[a["kind"] == "iran_direct_strike", "target"]) == {"ain_al_asad", "erbil"}
    assert views.snapshot(model.a).highest == 7
    assert views.snapshot(model.b).highest <= 5
    assert views.snapshot(_played(scenario="dec2019_crisis", doctrine_b="red_line").a).highest <= 5
    other = _played(scenario="dec2019_crisis", doctrine_b="red_line", seed="44").a
    kinds = other.simulation.events_frame().groupby("kind")["day"].min()
    assert kinds["decapitation"] < kinds["iran_direct_strike"]
    assert kinds.get("embassy_assault", other.day) > kinds["decapitation"]  # none before it


@pytest.mark.slow
def test_seminar_guide_exercise_two_reading_holds():
    """The guide's reading: restraint (B) has more attacks but a lower ladder than proportional."""
    more_attacks = lower = 0
    for seed in range(6):
        model = SeminarModel(
            Settings(
                doctrine_a="proportional", doctrine_b="restraint", seed=str(seed)
            ).with_presets()
        )
        for _ in range(150):
            model.step()
        a, b = views.snapshot(model.a), views.snapshot(model.b)
        more_attacks += b.attacks > a.attacks
        lower += b.highest < a.highest
    assert more_attacks >= 4 and lower >= 4  # "typically": most of six seeds


@pytest.mark.slow
def test_page_reads_both_sides_with_their_figures(stepped):
    from sim.app.page import side_views

    shown = side_views(stepped)
    assert [v.side for v in shown] == ["A", "B"]
    assert shown[0].snap == views.snapshot(stepped.a)
    assert "edited" not in shown[0].title and "restraint" in shown[1].title
    assert all(v.map_figure.axes and v.timeline_figure.axes for v in shown)
    settings = stepped.settings
    edited = SeminarModel(
        dataclasses.replace(settings, values={**settings.values, "response_lag_days": 7})
    )
    assert "(edited by the US sliders)" in side_views(edited)[0].title
    assert "edited" not in side_views(edited)[1].title


@pytest.mark.slow
def test_map_shows_sites_handed_over_before_the_start_as_closed():
    """biden2021 starts with Qayyarah, K1 and Taji handed over: hollow, not held US sites."""
    from sim.config import compose as compose_config

    model = SeminarModel(Settings(scenario="biden2021").with_presets())
    theatre = model.a.simulation.params.theatre
    handed = compose_config("scenario=biden2021").scenario.sites_handed_over
    assert sorted(handed) == ["k1", "qayyarah", "taji"]
    closed = views.closed_sites(model.a)
    assert sorted(np.asarray(theatre.site_names)[closed]) == sorted(handed)
    ax = views.map_figure(model.a).axes[0]
    drawn = {c.get_gid(): c.get_offsets() for c in ax.collections if c.get_gid()}
    index = theatre.site_index
    where = {(theatre.lon[index[n]], theatre.lat[index[n]]) for n in handed}
    assert {tuple(xy) for xy in drawn["sites:closed"]} == where
    assert not where & {tuple(xy) for xy in drawn["sites:us"]}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert views.CLOSED_OR_HANDED_OVER in labels
    # a scenario that starts with every site held draws none hollow
    plain = views.map_figure(SeminarModel(Settings().with_presets()).a).axes[0]
    assert "sites:closed" not in {c.get_gid() for c in plain.collections}


def test_the_days_events_say_who_claimed_an_attack_and_whom_the_us_blamed():
    model = SeminarModel(Settings(scenario="dec2019_crisis", seed="22").with_presets())
    side = model.a
    lines: list[str] = []
    while model.running and not any("the US blames" in line for line in lines):
        model.step()
        lines = views.today_events(side)
    events = side.simulation.events_frame()
    today = events[events["day"] == side.day - 1]
    assert len(lines) == len(today) > 0
    for line, e in zip(lines, today.itertuples(), strict=True):
        if e.kind in ("base_attack", "convoy_ied"):
            claim = f"claimed by {e.claimed_by}" if e.claimed_by else "unclaimed"
            assert claim in line and f"the US blames {e.blamed}" in line, line
            assert line.startswith(f"{e.source}: ")
