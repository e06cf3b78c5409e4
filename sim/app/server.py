"""The seminar page's server: a small Starlette app that computes runs and serves the page.

The page (``static/``: one HTML file, its script and style, no outside files) asks for
whole runs and plays them back itself; the server keeps nothing between requests, so a
tab that errs or closes leaves no work and no memory behind. Requests:

- ``GET /api/setup``: the options, sliders and the default settings;
- ``POST /api/presets``: the slider values of a scenario and doctrine A;
- ``POST /api/run``: both sides' histories (:func:`sim.app.history.run_pair`);
- ``POST /api/ensemble``: the pair on many replicates (:func:`sim.app.ensemble.spread`).

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
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
    )
