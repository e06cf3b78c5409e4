"""The wargame: played decisions as decision inputs to the rules, what a team is shown, the
game's server routes and its debrief (the browser's part is in tests/test_browser.py)."""

from __future__ import annotations

import dataclasses
import io
import json
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pytest
from conftest import asgi_request

from sim.app import debrief as debrief_module
from sim.app.form import checked
from sim.app.game import Game, GameError, menu_events
from sim.app.server import create_app, default_form
from sim.engine import Simulation
from sim.played import Played


def _config(seed: int = 22, **changes):
    _, config, _ = checked({**default_form(), "seed": str(seed)})
    return dataclasses.replace(config, **changes)


def _play(game: Game, choose) -> Game:
    """Play ``game`` to its end, ``choose(menu)`` giving each decision."""
    while not game.ended:
        if game.pending is None:
            game.advance(until_decision=True)
        else:
            game.decide(game.pending.role, choose(game.pending.menu))
    return game


def _doctrine_like(menu: dict) -> dict:
    return dict(menu["defaults"])


def _events(sim: Simulation, row: int) -> pd.DataFrame:
    frame, rows = sim._events()
    return frame[rows == row].drop(columns="replicate").reset_index(drop=True)


# --- the rules: played decisions are decision inputs -----------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [13, 19])
def test_no_played_actor_is_the_engines_run(seed):
    """A game whose teams play nothing (the played structure there, with no rows) makes the
    engine's run of the same replicate, event for event, in both of its rows (seeds whose
    run has strikes, leadership strikes and, for 13, an Iranian strike)."""
    config = _config(seed=seed)
    game = _play(Game(config, roles=()), _doctrine_like)
    alone = Simulation(game.config, replicates=[0])
    alone.run()
    expected = _events(alone, 0)
    kinds = set(expected["kind"].astype(str))
    assert len(expected) > 20 and {"decapitation", "base_attack", "embassy_assault"} <= kinds
    for row in (0, 1):
        pd.testing.assert_frame_equal(_events(game.sim, row), expected)
    assert game.decisions == []


@pytest.mark.slow
def test_a_played_decision_changes_the_outcome_on_common_random_numbers():
    """The US team strikes leaders at its first decision where it may: the game leaves
    the doctrine's run on that day, never before (same draws), and ends elsewhere."""
    config = _config(seed=22)
    struck = []

    def leaders_once(menu):
        acts = [o["id"] for o in menu["fields"].get("act", [])]
        pick = next((a for a in acts if a.startswith("leaders:")), None)
        if pick and not struck:
            struck.append(menu["day"])
            return {"act": pick}
        return _doctrine_like(menu)

    game = _play(Game(config, roles=("us",)), leaders_once)
    assert struck, "a decision offered a leadership strike"
    game_run = _events(game.sim, 0)
    doctrine = _events(game.sim, 1)
    before = game_run["day"] < struck[0]
    # before the decision the game and the doctrine's run are the same
    pd.testing.assert_frame_equal(
        game_run[before].reset_index(drop=True),
        doctrine[doctrine["day"] < struck[0]].reset_index(drop=True),
    )
    # the leaders are struck in the game (after the doctrine's lag) and the runs part
    assert (game_run["kind"].astype(str) == "decapitation").any()
    assert not game_run.equals(doctrine)
    # and the doctrine's row is the engine's run alone
    alone = Simulation(game.config, replicates=[0])
    alone.run()
    pd.testing.assert_frame_equal(doctrine, _events(alone, 0))


@pytest.mark.slow
def test_two_different_choices_give_two_different_games():
    """The same game, once answering every attack with a strike in Syria and once never:
    the first has more US strikes, the second none of its own choosing."""
    config = _config(seed=22)

    def always_syria(menu):
        acts = [o["id"] for o in menu["fields"].get("act", [])]
        pick = next((a for a in acts if a.startswith("strike_syria:")), "none")
        return (
            {**_doctrine_like(menu), "act": pick}
            if "act" in menu["fields"]
            else (_doctrine_like(menu))
        )

    hawk = _play(Game(config, roles=("us",)), always_syria)
    dove = _play(Game(config, roles=("us",)), _doctrine_like)
    strikes = {}
    for name, game in (("hawk", hawk), ("dove", dove)):
        kinds = _events(game.sim, 0)["kind"].astype(str)
        strikes[name] = int(kinds.isin(["us_strike_syria", "us_strike_iraq"]).sum())
    assert strikes["dove"] == 0  # no response chosen: no strike on a group
    assert strikes["hawk"] > 5


def test_iran_played_holds_its_fire_and_its_supply():
    """Iran's team at green light 0 with shipments halted from the first day: the stocks
    never grow again, and the groups attack less than in the doctrine's run (the groups
    Iran cannot restrain still attack)."""
    config = _config(seed=22)

    def quiet(menu):
        if "green" in menu["fields"]:
            return {"green": "0", "supply": "0", "act": "none"}
        return _doctrine_like(menu)

    game = Game(config, roles=("iran",))
    game.advance(until_decision=True)
    assert game.pending.point == "iran" and game.pending.menu["day"] == 0
    stock0 = game.sim.state.stock[0].sum()  # after day 0's shipments, before the orders
    _play(game, quiet)
    assert game.sim.state.stock[0].sum() <= stock0
    attack = ["base_attack", "convoy_ied"]
    attacks = _events(game.sim, 0)["kind"].astype(str).isin(attack).sum()
    doctrine = _events(game.sim, 1)["kind"].astype(str).isin(attack).sum()
    assert attacks < doctrine


@pytest.mark.slow
def test_irans_ordered_strike_lands_after_the_doctrines_lag():
    """Iran's team orders missiles on the first day: they strike US bases in the game (at
    least a day later), where the doctrine's run of seed 22 has no Iranian strike."""
    config = _config(seed=22)

    def strike_first(menu):
        if "green" in menu["fields"] and menu["day"] == 0:
            return {**menu["defaults"], "act": "strike"}
        return _doctrine_like(menu)

    game = _play(Game(config, roles=("iran",)), strike_first)
    kinds = _events(game.sim, 0)
    struck = kinds[kinds["kind"].astype(str) == "iran_direct_strike"]
    assert len(struck) and struck["day"].min() >= 1
    doctrine = _events(game.sim, 1)["kind"].astype(str)
    assert not (doctrine == "iran_direct_strike").any()


def test_played_rows_only_take_the_teams_choice():
    """A strike chosen for a played row is scheduled there and nowhere else."""
    played = Played.teams(us=[1])
    played.strike_group[0] = 2
    config = _config(seed=3)
    sim = Simulation(config, replicates=[0, 0])
    state = sim.state
    rows, groups = played.us_strikes(np.array([0, 1]), np.array([1, 1]), state)
    assert rows.tolist() == [0, 1] and groups.tolist() == [1, 2]


# --- what a team is shown ----------------------------------------------------------------


def _unclaimed_game():
    """A US game with attribution uncertainty, played to a decision after an unclaimed
    attack the US blames on the wrong group."""
    config = _config(seed=22)
    assert np.all(config.doctrine.us.attribution_uncertainty)
    game = Game(config, roles=("us",))
    while True:
        if game.pending is None:
            game.advance(until_decision=True)
        if game.ended:
            pytest.fail("no wrongly blamed unclaimed attack in the game")
        today = game._today()
        wrong = today[
            (today["signal"].astype(str) == "unclaimed")
            & (today["blamed"].astype(str) != today["source"].astype(str))
            & today["kind"].astype(str).isin(["base_attack", "convoy_ied"])
        ]
        if game.pending.point == "us_response" and len(wrong):
            return game, today, wrong
        game.decide(game.pending.role, _doctrine_like(game.pending.menu))


def test_the_menu_holds_no_hidden_state():
    """With attribution uncertainty on, the menu after an unclaimed attack the US blames
    on the wrong group never names the true attacker; the menu is the same whatever the
    true attacker was (it is made without the events' ``source``)."""
    game, today, wrong = _unclaimed_game()
    menu = game.pending.menu
    names = {game.names.group(str(s)) for s in wrong["source"]}
    for event in menu["events"]:
        assert "source" not in event
    attack_lines = [e["text"] for e in menu["events"] if e["kind"] in ("base_attack", "convoy_ied")]
    for true in names:
        blamed_too = any(game.names.group(str(b)) == true for b in today["blamed"])
        claimed_too = any(game.names.group(str(c)) == true for c in today["claimed_by"] if c)
        if not (blamed_too or claimed_too):
            assert not any(true in line for line in attack_lines), (true, attack_lines)
    # the menu's events are a function of what the public knows only
    shuffled = today.copy()
    shuffled["source"] = (
        "kataib_hezbollah" if str(wrong["source"].iloc[0]) != ("kataib_hezbollah") else "nujaba"
    )
    assert menu_events(shuffled, "us_response", game.names) == menu["events"]
    # and the whole view a team gets has no source field, nor Iran's plans
    text = json.dumps(game.view("us"))
    assert '"source"' not in text and "retaliation" not in text


def test_a_decision_off_the_menu_or_out_of_turn_is_refused():
    game = Game(_config(seed=22), roles=("us",))
    game.advance(until_decision=True)
    menu = game.pending.menu
    with pytest.raises(GameError, match="act: 'nuke' is not on the menu"):
        game.decide("us", {"act": "nuke"})
    with pytest.raises(GameError, match="colour: not a choice here"):
        game.decide("us", {"act": "none", "colour": "red"})
    with pytest.raises(GameError, match="this decision is the US command's, not Iran's"):
        game.decide("iran", {"act": "none"})
    with pytest.raises(GameError, match="the US command.s decision is due first"):
        game.advance(until_decision=False)
    assert game.pending.menu == menu  # nothing changed
    game.decide("us", {"act": "none"})


# --- the debrief -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished() -> Game:
    game = _play(Game(_config(seed=22), roles=("us",), code="TEST1"), _doctrine_like)
    game.finish(replicates=200)
    return game


@pytest.mark.slow
def test_the_debrief_marks_the_game_in_the_doctrines_spread(finished):
    """The doctrine's run of the game's replicate (same draws) is replicate 0 of the
    doctrine's spread: common random numbers, checked outcome by outcome."""
    data = finished.debrief
    assert data["replicates"] == 200
    for key, outcome in data["outcomes"].items():
        assert len(outcome["values"]) == 200
        assert outcome["values"][0] == outcome["doctrine_same_draws"], key
        below, above = outcome["share_below"], outcome["share_above"]
        assert 0 <= below <= 1 - above
    assert data["decisions"] and all("game_after" in d for d in data["decisions"])
    assert finished.sim is None  # the engine was freed


def test_the_debrief_files(finished):
    files = finished.debrief["files"]
    assert files["png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert "| date | team | decision |" in files["md"]
    assert "debrief.png" in files["md"]
    log = debrief_module.read_log(io.BytesIO(files["csv"]))
    alone = Simulation(finished.config, replicates=[0])
    expected = alone.run().events
    assert list(log.columns) == list(expected.columns)  # the columns of events.parquet
    # one row per event of the game: one line of the game's timeline each
    assert len(log) == sum(len(day["game"]) for day in finished.debrief["timeline"])
    assert log["kind"].tolist() and set(log["replicate"]) == {0}
    assert (log["day"].to_numpy() >= 0).all()


# --- the server ----------------------------------------------------------------------------


def _call(method: str, path: str, body: dict | None = None, query: dict | None = None):
    """One request to the app, in this process (ASGI)."""
    payload = json.dumps(body).encode() if body is not None else b""
    return asgi_request(create_app(warm=False), method, path, payload, urlencode(query or {}))


def test_two_teams_join_by_code_and_bad_requests_get_a_message():
    status, made = _call("POST", "/api/game", {"play": "us", "other": "team", "seed": "22"})
    assert status == 200 and len(made["code"]) == 5 and made["role"] == "us"
    code, us = made["code"], made["token"]
    # the US is taken; Iran is free
    status, data = _call("POST", f"/api/game/{code}/join", {"role": "us"})
    assert status == 409 and "already taken" in data["error"]
    status, joined = _call("POST", f"/api/game/{code.lower()}/join", {"role": "iran"})
    assert status == 200 and joined["role"] == "iran"
    iran = joined["token"]
    status, data = _call("POST", f"/api/game/{code}/join", {"role": "iran"})
    assert status == 409 and "already taken" in data["error"]
    status, data = _call("POST", "/api/game/QQQQQ/join", {"role": "iran"})
    assert status == 404 and "no game has the code 'QQQQQ'" in data["error"]
    status, data = _call("GET", f"/api/game/{code}", query={"token": "guess"})
    assert status == 403 and "has not joined" in data["error"]
    # Iran's opening orders are due first; the US team cannot give them
    status, view = _call("POST", f"/api/game/{code}/advance", {"token": us})
    assert status == 200 and view["pending"]["role"] == "iran" and view["pending"]["menu"] is None
    status, data = _call("POST", f"/api/game/{code}/decide", {"token": us, "choice": {}})
    assert status == 409 and data["error"] == "this decision is Iran's, not the US command's"
    status, view = _call("GET", f"/api/game/{code}", query={"token": iran})
    assert view["pending"]["menu"]["fields"]["green"]
    status, data = _call(
        "POST", f"/api/game/{code}/decide", {"token": iran, "choice": {"green": "7"}}
    )
    assert status == 409 and "green: '7' is not on the menu" in data["error"]
    choice = {"green": "0.4", "supply": "1", "act": "none"}
    status, view = _call("POST", f"/api/game/{code}/decide", {"token": iran, "choice": choice})
    assert status == 200 and view["decisions"][0]["said"].startswith("green light 0.4")
    # the US team's view holds none of Iran's orders
    status, seen = _call("GET", f"/api/game/{code}", query={"token": us})
    assert seen["decisions"] == [] and "green light" not in json.dumps(seen)
    status, data = _call("POST", f"/api/game/{code}/fly", {"token": us})
    assert status == 409 and "not something a team does" in data["error"]
    status, ended = _call("POST", f"/api/game/{code}/end", {"token": us})
    assert status == 200 and ended["ended"] and ended["debrief"]["decisions"]
    status, data = _call("POST", f"/api/game/{code}/decide", {"token": iran, "choice": choice})
    assert status == 409 and "the game has ended" in data["error"]
    status, png = _call("GET", f"/api/game/{code}/debrief.png", query={"token": iran})
    assert status == 200 and png[:4] == b"\x89PNG"
    status, csv = _call("GET", f"/api/game/{code}/log.csv", query={"token": us})
    assert status == 200 and csv.startswith(b"replicate,day,date,actor")


def test_bad_game_settings_are_refused_by_name():
    status, data = _call("POST", "/api/game", {"play": "israel"})
    assert status == 409 and data["error"].startswith("play: 'israel' is not a role")
    status, data = _call("POST", "/api/game", {"play": "us", "timer": "5"})
    assert status == 409 and data["error"].startswith("timer: '5' is not allowed")
    status, data = _call("POST", "/api/game", {"play": "us", "seed": "-3"})
    assert status == 422 and list(data["errors"]) == ["seed"]
    status, data = _call("POST", "/api/game", {"play": "us", "scenario": "mars"})
    assert status == 409 and data["error"].startswith("scenario: 'mars' is not an option")


def test_abandoned_games_are_dropped():
    from sim.app.game import ABANDONED_AFTER
    from sim.app.server import GAMES

    game, _ = GAMES.create({"play": "iran", "seed": "1"})
    assert GAMES.get(game.code) is game
    GAMES.sweep(now=game.touched + ABANDONED_AFTER + 1)
    with pytest.raises(GameError, match="no game has the code"):
        GAMES.get(game.code)


def test_a_game_ended_while_a_team_decides_is_debriefed_to_the_day_before():
    game = Game(_config(seed=22), roles=("us",))
    game.advance(until_decision=True)
    day = game.pending.menu["day"]
    data = game.finish(replicates=20)
    assert data["days"] == day and len(data["rung"]["game"]) == day
    assert all(t["day"] < day for t in data["timeline"])


def test_a_decision_whose_clock_runs_out_takes_the_default():
    game = Game(_config(seed=22), roles=("us",), timer=30)
    game.advance(until_decision=True)
    day = game.pending.menu["day"]
    game.pending.deadline -= 31
    game.expire()
    assert game.decisions[-1].timed_out and game.decisions[-1].day == day
    assert game.decisions[-1].choice == {"act": "none"}
