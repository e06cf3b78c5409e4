"""The seminar page's server: a small Starlette app that computes runs and serves the page.

The page (``static/``: one HTML file, its script and style, no outside files) asks for
whole runs and plays them back itself; the server keeps nothing between requests, so a
tab that errs or closes leaves no work and no memory behind. Requests:

- ``GET /api/setup``: the options, sliders and the default settings;
- ``POST /api/presets``: the slider values of a scenario and doctrine A;
- ``POST /api/run``: both sides' histories (:func:`sim.app.history.run_pair`);
- ``POST /api/ensemble``: the pair on many replicates (:func:`sim.app.ensemble.spread`);
- the wargame (``/game``, :mod:`sim.app.game`): ``POST /api/game`` starts a game (its code
  and the team's token), ``POST /api/game/{code}/join`` joins a second team,
  ``GET /api/game/{code}?token=`` is the game as that team sees it,
  ``POST .../advance``, ``.../decide`` and ``.../end`` play it, and ``GET .../debrief``,
  ``.../debrief.png``, ``.../handout.md`` and ``.../log.csv`` are its debrief. A game is
  the one thing a server keeps between requests (:mod:`sim.app.games`); a refused game
  request gets ``{"error": message}`` (one line) and status 404 (no such game), 403 (not a
  team of the game) or 409.

A form with bad values gets status 422 and ``{"errors": {field: message}}``: one line per
field, in the words the page shows under the box.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sim.app import ensemble, history
from sim.app.form import CHOICES, FormError, allowed, checked, read_form
from sim.app.game import GameError
from sim.app.games import Games, NotATeamError, UnknownGameError
from sim.app.seminar import (
    KNOBS,
    SCENARIO_DOCTRINE,
    Settings,
    configure,
    preset_values,
    scenarios,
    us_doctrines,
)
from sim.config import ConfigError

STATIC = Path(__file__).with_name("static")
#: runs computed at once (two cores): more requests wait their turn
WORKERS = threading.BoundedSemaphore(2)
#: the largest request body read (a form is well under a kilobyte)
MAX_BODY = 64 * 1024


def _refused(errors: dict[str, str], status: int = 422) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=status)


async def _form(request: Request) -> dict:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise FormError({"form": f"the request is over {MAX_BODY:,} bytes"})
    try:
        form = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FormError({"form": "the request is not JSON"}) from None
    if not isinstance(form, dict):
        raise FormError({"form": "the request is not a form (field: value)"})
    return form


def default_form() -> dict[str, str]:
    """The page's opening settings, as the boxes show them."""
    settings = Settings().with_presets()
    return {
        "scenario": settings.scenario,
        "doctrine_a": settings.doctrine_a,
        "doctrine_b": settings.doctrine_b,
        "seed": settings.seed,
        **{name: f"{value:g}" for name, value in settings.values.items()},
    }


async def setup(request: Request) -> Response:
    knobs = [
        {
            "name": name,
            "label": knob.label,
            "lo": knob.lo,
            "hi": knob.hi,
            "step": knob.step,
            "whole": knob.whole,
            "us_only": knob.us_only,
            "allowed": allowed(knob),
        }
        for name, knob in KNOBS.items()
    ]
    return JSONResponse(
        {
            "scenarios": scenarios(),
            "doctrines": [SCENARIO_DOCTRINE, *us_doctrines()],
            "choices": CHOICES,
            "knobs": knobs,
            "form": await run_in_threadpool(default_form),
            "replicates": ensemble.REPLICATES,
        }
    )


async def presets(request: Request) -> Response:
    try:
        form = await _form(request)
        scenario, doctrine_a = str(form.get("scenario")), str(form.get("doctrine_a"))
        if scenario not in scenarios():
            raise FormError({"scenario": f"{scenario!r} is not an option"})
        if doctrine_a not in [SCENARIO_DOCTRINE, *us_doctrines()]:
            raise FormError({"doctrine_a": f"{doctrine_a!r} is not an option"})
        values = await run_in_threadpool(preset_values, scenario, doctrine_a)
    except FormError as exc:
        return _refused(exc.errors)
    except ConfigError as exc:
        return _refused({"scenario": str(exc)})
    return JSONResponse({name: f"{value:g}" for name, value in values.items()})


def _computed(work, form: dict):
    with WORKERS:
        _, config_a, config_b = checked(form)
        return work(config_a, config_b)


async def run(request: Request) -> Response:
    try:
        form = await _form(request)
        result = await run_in_threadpool(_computed, history.run_pair, form)
    except FormError as exc:
        return _refused(exc.errors)
    return JSONResponse(result)


async def spread(request: Request) -> Response:
    try:
        form = await _form(request)
        read_form(form)  # a bad form is refused before waiting for a worker
        result = await run_in_threadpool(_computed, ensemble.spread, form)
    except FormError as exc:
        return _refused(exc.errors)
    return JSONResponse(result)


# --- the wargame ------------------------------------------------------------------------

GAMES = Games()


def _game_refused(exc: GameError) -> JSONResponse:
    status = 409
    if isinstance(exc, UnknownGameError):
        status = 404
    elif isinstance(exc, NotATeamError):
        status = 403
    return JSONResponse({"error": str(exc)}, status_code=status)


def _debrief_json(debrief: dict) -> dict:
    return {key: value for key, value in debrief.items() if key != "files"}


def _finish_if_over(game) -> None:
    if game.ended and game.debrief is None:
        with WORKERS:
            game.finish()


async def game_new(request: Request) -> Response:
    try:
        form = await _form(request)
        game, token = await run_in_threadpool(GAMES.create, form)
    except FormError as exc:
        return _refused(exc.errors)
    except ConfigError as exc:
        return _refused({"scenario": str(exc)})
    except GameError as exc:
        return _game_refused(exc)
    return JSONResponse({"code": game.code, "token": token, "role": game.roles_of(token)})


async def game_join(request: Request) -> Response:
    try:
        form = await _form(request)
        game, token = GAMES.join(request.path_params["code"], str(form.get("role", "")))
    except FormError as exc:
        return _refused(exc.errors)
    except GameError as exc:
        return _game_refused(exc)
    return JSONResponse({"code": game.code, "token": token, "role": game.roles_of(token)})


def _act(code: str, token, what: str, form: dict) -> dict:
    game = GAMES.get(code)
    role = GAMES.role_of(game, token)
    if what not in ("advance", "decide", "end"):
        raise GameError(f"{what!r} is not something a team does (advance, decide or end)")
    with game.lock:
        game.expire()
        if what == "advance":
            game.advance(until_decision=str(form.get("until", "decision")) == "decision")
        elif what == "decide":
            game.decide(role, form.get("choice"))
        elif what == "end" and game.debrief is None:  # ended early: debrief from here
            with WORKERS:
                game.finish()
        _finish_if_over(game)
        return game.view(role) if game.debrief is None else game.view_ended(role)


async def game_act(request: Request) -> Response:
    try:
        form = await _form(request)
        view = await run_in_threadpool(
            _act,
            request.path_params["code"],
            form.get("token"),
            request.path_params["what"],
            form,
        )
    except FormError as exc:
        return _refused(exc.errors)
    except GameError as exc:
        return _game_refused(exc)
    return JSONResponse(view)


def _look(code: str, token) -> dict:
    game = GAMES.get(code)
    role = GAMES.role_of(game, token)
    with game.lock:
        game.expire()
        _finish_if_over(game)
        return game.view(role) if game.debrief is None else game.view_ended(role)


async def game_view(request: Request) -> Response:
    try:
        view = await run_in_threadpool(
            _look, request.path_params["code"], request.query_params.get("token")
        )
    except GameError as exc:
        return _game_refused(exc)
    return JSONResponse(view)


#: the debrief's files: name -> (key in the debrief's files, media type)
DEBRIEF_FILES = {
    "debrief.png": ("png", "image/png"),
    "handout.md": ("md", "text/markdown; charset=utf-8"),
    "log.csv": ("csv", "text/csv; charset=utf-8"),
}


async def game_debrief(request: Request) -> Response:
    name = request.path_params["name"]
    try:
        game = GAMES.get(request.path_params["code"])
        GAMES.role_of(game, request.query_params.get("token"))
        if game.debrief is None:
            raise GameError("the game has not ended: no debrief yet")
    except GameError as exc:
        return _game_refused(exc)
    if name == "debrief":
        return JSONResponse(_debrief_json(game.debrief))
    if name not in DEBRIEF_FILES:
        return JSONResponse({"error": f"no file {name!r} in a debrief"}, status_code=404)
    key, media = DEBRIEF_FILES[name]
    body = game.debrief["files"][key]
    headers = {"Content-Disposition": f'inline; filename="game-{game.code}-{name}"'}
    return Response(body, media_type=media, headers=headers)


async def game_page(request: Request) -> Response:
    return FileResponse(STATIC / "game.html", headers={"Cache-Control": "no-cache"})


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def warm_up() -> None:
    """Run the default settings once, so that the first Reset of the class does not wait for
    the engine's compiled helpers to load (a second or two); then compose each scenario with
    the page's opening doctrines (a third of a second each, once), so that choosing a
    scenario costs its first Reset nothing extra. Other doctrines compose on first use."""
    with WORKERS:
        _, config_a, config_b = checked(default_form())
        history.run_pair(config_a, config_b)
    for scenario in scenarios():
        with contextlib.suppress(ConfigError):  # a broken preset is reported when chosen
            configure(Settings(scenario=scenario).with_presets())


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette):
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    yield


def create_app(warm: bool = True) -> Starlette:
    """The seminar page's application (``warm``: run the default settings once at start)."""
    return Starlette(
        lifespan=_lifespan if warm else None,
        routes=[
            Route("/", index),
            Route("/api/setup", setup),
            Route("/api/presets", presets, methods=["POST"]),
            Route("/api/run", run, methods=["POST"]),
            Route("/api/ensemble", spread, methods=["POST"]),
            Route("/game", game_page),
            Route("/api/game", game_new, methods=["POST"]),
            Route("/api/game/{code}/join", game_join, methods=["POST"]),
            Route("/api/game/{code}", game_view),
            Route("/api/game/{code}/{what:str}", game_act, methods=["POST"]),
            Route("/api/game/{code}/{name:str}", game_debrief),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
    )
