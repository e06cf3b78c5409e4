"""The out-of-sample period gaza2023: the preset composes and runs on its own theatre, its
starting stocks are the scenario's, its record loads and refuses each kind of bad row in one
line, the comparison counts a tally's events as the tally does, and
``escalation-validate --record gaza2023`` runs end to end (its inputs switched off one by
one: tests/test_inputs.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import config

from sim.config import ConfigError
from sim.engine import Simulation
from sim.outofsample import PERIODS, compare, tallies_in
from sim.record import (
    COLUMNS,
    RecordError,
    event_counts,
    gaza2023_record,
    load_counts,
    load_events,
    load_gaza2023,
)
from sim.scorecard import Window
from sim.validate import main

GAZA = "scenario=gaza2023"
#: the US sites of 17 October 2023 (configs/theatre/region2023.yaml)
US_SITES = {
    "ain_al_asad", "erbil", "harir", "baghdad_embassy", "baghdad_airport", "green_village",
    "conoco", "rumalyn", "al_tanf", "tower_22",
}  # fmt: skip


def test_the_preset_composes_on_its_own_theatre_with_its_doctrines():
    cfg = config(GAZA)
    assert cfg.theatre.name == "region2023"
    assert (cfg.scenario.start_date, cfg.days) == ("2023-10-17", 167)  # to 31 March 2024
    doctrines = cfg.doctrine
    assert (doctrines.us.name, doctrines.iran.name) == ("syria_only", "calibrated")
    assert (doctrines.israel.name, doctrines.iraq.name) == ("interdict_syria", "passive")
    us = {s.name: s for s in cfg.theatre.sites if s.side == "us"}
    assert set(us) == US_SITES
    assert us["tower_22"].country == "jordan"
    assert all(s.source.strip() for s in cfg.theatre.sites)
    # the totals of the pages cited: 2,500 in Iraq, 900 in Syria, 350 at Tower 22
    by_country = {c: sum(s.personnel for s in us.values() if s.country == c) for c in
                  ("iraq", "syria", "jordan")}  # fmt: skip
    assert by_country == {"iraq": 2500, "syria": 900, "jordan": 350}
    # the default theatre is untouched
    assert config().theatre.name == "iraq_syria"


def test_the_preset_runs_and_its_groups_attack_its_sites():
    cfg = config(GAZA, "replicates=20", "days=60", "output.events=all")
    sim = Simulation(cfg)
    sim.run()
    ev = sim.events_frame()
    attacks = ev[ev.kind.isin(["base_attack", "convoy_ied"])]
    assert len(attacks) > 0
    hit = set(attacks.target.astype(str))
    assert hit <= US_SITES | {t for t in hit if t.startswith("convoy:")}
    assert (attacks.action.astype(str) == "drone").any()  # drones from day 0


def test_the_scenario_stocks_are_shared_by_supply_share_and_capped():
    cfg = config(GAZA, "replicates=2", "days=1")
    sim = Simulation(cfg)
    w = sim.params.weapon_names.index("drone")
    share = sim.params.supply_share[0]
    expected = np.minimum(250 * share, sim.params.stock_capacity[0, :, w])
    np.testing.assert_allclose(sim.state.stock[0, :, w], expected)
    assert sim.state.stock[0, -1, w] == 0  # the splinter in waiting holds none
    # a weapon left out keeps the actors' stock
    rocket = sim.params.weapon_names.index("rocket")
    assert sim.state.stock[0, 0, rocket] == cfg.actors.militias[0].stock["rocket"]
    # and a smaller total gives smaller stocks, in the same shares
    small = Simulation(config(GAZA, "replicates=2", "days=1", "scenario.militia_stocks.drone=10"))
    np.testing.assert_allclose(small.state.stock[0, :, w], np.minimum(10 * share, expected))


def test_a_stock_of_an_unknown_weapon_is_refused_in_one_line():
    with pytest.raises(ConfigError, match=r"^scenario\.militia_stocks\.laser: not a weapon; "
                                          r"the weapons are rocket, ied, drone$"):  # fmt: skip
        config(GAZA, "+scenario.militia_stocks.laser=5")


# --- the record --------------------------------------------------------------------------


def test_the_record_loads_inside_its_window_and_every_row_cites_a_page():
    record = load_gaza2023()
    assert gaza2023_record().name == "events_gaza2023.csv"
    assert len(record) >= 20
    period = PERIODS["gaza2023"]
    assert record["date"].min() >= pd.Timestamp(period.start)
    assert record["date"].max() <= pd.Timestamp(period.end)
    assert record["source"].str.match(r"https?://\S+$").all()
    tower = record[record["country"] == "jordan"]
    assert len(tower) == 1 and int(tower["killed_us"].iloc[0]) == 3


def test_the_record_is_not_part_of_the_fuller_record_used_for_fitting():
    from sim.record import full_record

    assert full_record()["date"].max() < pd.Timestamp("2023-01-01")


BAD_ROWS = [
    ("2023-11-31,militia,drone,erbil,iraq,0,0,x,s", "date", "'2023-11-31' is not a date"),
    ("2023-11-01,hezbollah,drone,erbil,iraq,0,0,x,s", "actor", "'hezbollah' is not one of"),
    ("2023-11-01,militia,mortar,erbil,iraq,0,0,x,s", "action", "'mortar' is not one of"),
    ("2023-11-01,militia,drone,tower22,iraq,0,0,x,s", "target", "'tower22' is not one of"),
    ("2023-11-01,militia,drone,other,lebanon,0,0,x,s", "country", "'lebanon' is not one of"),
    ("2023-11-01,militia,drone,erbil,iraq,three,0,x,s", "killed_us", "'three' is not a whole"),
    ("2023-11-01,militia,drone,erbil,iraq,0,-2,x,s", "wounded_us", "-2 is negative"),
    ("2023-11-01,militia,drone,erbil,iraq,0,0,x,", "source", "empty"),
    ("2023-11-01,militia,drone,erbil,iraq,0,0,x", "row", "8 fields, the header has 9"),
]


@pytest.mark.parametrize(("row", "field", "fragment"), BAD_ROWS, ids=[b[1] for b in BAD_ROWS])
def test_each_kind_of_bad_row_in_the_record_is_refused_in_one_line(tmp_path, row, field, fragment):
    lines = gaza2023_record().read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS)
    lines.insert(5, row)  # file line 6, among the shipped rows
    path = tmp_path / "events_gaza2023.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RecordError) as err:
        load_events(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}, line 6: {field}: "), message
    assert fragment in message


def test_the_pentagon_counts_load_and_a_tally_of_every_country_is_any(tmp_path):
    counts = tallies_in(load_counts(event_counts()), PERIODS["gaza2023"].window)
    assert len(counts) >= 10 and "any" in set(counts["country"].astype(str))
    path = tmp_path / "c.csv"
    path.write_text(
        "start,end,actor,action,target,country,count,scope,source,note\n"
        "2023-10-17,2023-10-31,militia,attack,any,everywhere,27,x,s,\n"
    )
    with pytest.raises(RecordError, match=r"line 2: country: 'everywhere' is not one of .*any"):
        load_counts(path)


# --- the comparison --------------------------------------------------------------------


def _rows(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["replicate", "date", "actor", "action", "target",
                                        "country", "killed_us", "wounded_us"])  # fmt: skip
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    for column in ("killed_us", "wounded_us"):
        frame[column] = frame[column].astype("Int64")
    return frame


def test_the_comparison_counts_a_tallys_attacks_as_the_tally_does():
    window = Window(pd.Timestamp("2023-10-17"), pd.Timestamp("2023-11-30"))
    counts = pd.DataFrame({
        "start": pd.to_datetime(["2023-10-17", "2023-10-17"]),
        "end": pd.to_datetime(["2023-10-31", "2023-11-30"]),
        "actor": ["militia", "militia"], "action": ["attack", "attack"],
        "target": ["any", "any"], "country": ["iraq", "any"], "count": [2, 3],
        "scope": ["x", "y"], "source": ["s", "s"], "note": ["", ""],
    })  # fmt: skip
    simulated = _rows(
        (0, "2023-10-18", "militia", "drone", "erbil", "iraq", 0, 1),
        (0, "2023-10-31", "militia", "rocket", "convoy", "iraq", 0, 0),
        (0, "2023-11-01", "militia", "drone", "other", "jordan", 2, 5),  # after the first tally
        (0, "2023-10-20", "us", "airstrike", "militia_site", "syria", None, None),  # no attack
        (1, "2023-10-19", "militia", "drone", "syria_site", "syria", 0, 0),  # not Iraq
        (1, "2023-12-01", "militia", "drone", "erbil", "iraq", 0, 0),  # after the window
    )
    record = _rows((-1, "2023-10-18", "militia", "drone", "erbil", "iraq", 0, 2))
    replicates = pd.DataFrame({"replicate": [0, 1, 2]})
    tables = compare(PERIODS["gaza2023"], record, counts, simulated, replicates, window)
    first, second = tables["tallies"]
    # replicate 0: two attacks in Iraq by 31 October; 1: none (Syria); 2: no events at all
    assert (first["observed"], first["listed"], first["median"]) == (2, 1, 0.0)
    assert (first["low"], first["high"]) == pytest.approx((0.0, 1.8))
    # every country: replicate 0 has three, 1 has one, 2 none
    assert second["median"] == 1.0 and second["inside"] is False  # 3 above the 90% interval
    drone = next(r for r in tables["weapons"] if r["weapon"] == "drone")
    assert (drone["observed"], drone["observed_n"], drone["named_n"]) == (1.0, 1, 1)
    killed, wounded, reported = tables["casualties"]
    assert killed["observed"] == 0 and killed["median"] == 0.0
    assert wounded["observed"] == 2 and wounded["median"] == 0.0  # 6, 0, 0 wounded
    assert reported["observed"] == PERIODS["gaza2023"].wounded_reported
    months = {r["month"]: r for r in tables["monthly"]}
    assert list(months) == ["2023-10", "2023-11"] and months["2023-10"]["listed"] == 1


@pytest.mark.slow
def test_validate_record_gaza2023_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "v"
    main(["--record", "gaza2023", "--replicates", "6", "--seed", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "Scenario gaza2023, 6 replicates, seed 1" in printed
    assert "Out of sample:" in printed
    names = {p.name for p in out.iterdir()}
    assert names == {"validation.md", "validation.json", "validation.png",
                     "out_of_sample.md", "out_of_sample.json"}  # fmt: skip
    data = json.loads((out / "out_of_sample.json").read_text())
    assert data["meta"]["start"] == "2023-10-17" and data["meta"]["end"] == "2024-03-31"
    counts = tallies_in(load_counts(event_counts()), PERIODS["gaza2023"].window)
    assert len(data["tallies"]) == len(counts)
    assert all(row["median"] is not None for row in data["tallies"])
    assert [row["month"] for row in data["monthly"]][::5] == ["2023-10", "2024-03"]
    scorecard = json.loads((out / "validation.json").read_text())["statistics"]
    rung = next(row for row in scorecard if row["statistic"] == "highest_rung")
    assert rung["observed"] is not None and rung["median"] is not None


def test_simulated_attacks_on_the_2023_sites_take_the_records_names_and_countries():
    from sim.scorecard import _target_names

    names = _target_names(config(GAZA).theatre)
    assert names["tower_22"] == ("other", "jordan")
    assert names["harir"] == ("other", "iraq")
    assert names["rumalyn"] == names["al_tanf"] == ("syria_site", "syria")
    assert names["baghdad_airport"] == ("biap", "iraq")
