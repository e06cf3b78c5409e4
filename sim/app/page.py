"""The seminar page: Mesa's SolaraViz controls (step, play, reset) over two models side by side.

SolaraViz supplies the step, play and reset buttons and rebuilds the model on Reset; the
scenario, doctrines, seed and sliders are this page's own panel, kept in one reactive
:class:`~sim.app.seminar.Settings` that the rebuilt model reads. Everything shown of a side
comes from :mod:`sim.app.views`, which reads the engine.
"""

# Solara components are named like classes (CapWords), as in Solara's and Mesa's own code.
# ruff: noqa: N802

from __future__ import annotations

from dataclasses import dataclass, replace

import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.app import views
from sim.app.seminar import (
    KNOBS,
    SCENARIO_DOCTRINE,
    SeminarModel,
    Settings,
    scenarios,
    us_doctrines,
)
from sim.config import ConfigError
from sim.plots.style import BLUE, ORANGE, VERMILLION

#: page-wide styles: large type for a projector
CSS = """
.v-application { font-size: 18px; }
.v-application .v-label, .v-application .v-select__selection,
.v-application input { font-size: 18px !important; }
.esc-side-title { font-size: 30px; font-weight: 700; margin: 4px 0 8px 0; }
.esc-ladder { display: flex; flex-direction: column; gap: 3px; min-width: 330px; }
.esc-rung { font-size: 17px; padding: 2px 10px; border-radius: 4px; color: #555;
            background: #EEEEEE; }
.esc-rung.reached { background: #FBE3C9; color: #333; }
.esc-rung.current { font-size: 30px; font-weight: 800; color: white;
                    background: CURRENT; padding: 8px 12px; }
.esc-counters td { font-size: 20px; padding: 2px 10px; }
.esc-counters td.value { font-size: 26px; font-weight: 700; text-align: right; }
.esc-error { font-size: 22px; }
.esc-knob-error { color: #B00020; font-size: 16px; font-weight: 600; }
""".replace("CURRENT", VERMILLION)

SIDE_COLOUR = {"A": BLUE, "B": ORANGE}


def _html(tag: str, text: str = "", cls: str = "", style: str = "", children=None):
    return solara.v.Html(
        tag=tag, class_=cls, style_=style, children=children if children is not None else [text]
    )


@solara.component
def Ladder(side: str, rungs: dict[int, str], snap: views.Snapshot) -> None:
    """The rungs, top down; the current one large and coloured, those reached so far tinted."""
    rows = []
    for level, name in sorted(rungs.items(), reverse=True):
        state = "current" if level == snap.rung else "reached" if level <= snap.highest else ""
        rows.append(_html("div", f"{level}  {name}", f"esc-rung {state} esc-{side}-rung-{level}"))
    _html("div", cls=f"esc-ladder esc-{side}-ladder", children=rows)


COUNTERS = (
    ("attacks", "Militia attacks"),
    # then one row of attacks by each weapon (counters)
    ("killed_us", "US killed"),
    ("wounded_us", "US wounded"),
    ("killed_iraqi", "Iraqis killed"),
    ("responses", "US responses"),
    ("us_troops", "US troops in theatre"),
    ("highest", "Highest rung so far"),
)


def counters(snap: views.Snapshot) -> list[tuple[str, str]]:
    """(key, label) of each counter row: a label that starts with a space is indented."""
    by_weapon = [(f"attacks_{w}", f"  by {w.replace('_', ' ')}") for w in snap.attacks_by_weapon]
    return [COUNTERS[0], *by_weapon, *COUNTERS[1:]]


@solara.component
def Counters(side: str, snap: views.Snapshot) -> None:
    rows = [
        _html(
            "tr",
            children=[
                _html("td", label.strip(), style="padding-left:28px" if label[0] == " " else ""),
                _html("td", f"{snap.count(key):,}", f"value esc-{side}-{key}"),
            ],
        )
        for key, label in counters(snap)
    ]
    _html("table", cls=f"esc-counters esc-{side}-counters", children=rows)


@dataclass(frozen=True)
class SideView:
    """Everything drawn of one side, read from the model in one go (while it is not stepping)."""

    side: str
    title: str
    snap: views.Snapshot
    rungs: dict[int, str]
    today: list[str]  # the last day's events in words
    map_figure: Figure
    timeline_figure: Figure


def side_views(model: SeminarModel) -> list[SideView]:
    """Both sides' numbers and figures, taken under the model's lock so play cannot tear them."""
    edited = model.settings.values != model.settings.with_presets().values
    out = []
    with model.lock:
        for side, escalation in model.sides:
            snap = views.snapshot(escalation)
            note = " (edited by the US sliders)" if side == "A" and edited else ""
            out.append(
                SideView(
                    side=side,
                    title=f"{side}: US doctrine {snap.doctrine}{note}",
                    snap=snap,
                    rungs=views.rung_names(escalation),
                    today=views.today_events(escalation),
                    map_figure=views.map_figure(escalation),
                    timeline_figure=views.timeline_figure(escalation),
                )
            )
    return out


@solara.component
def Side(view: SideView) -> None:
    """One side: title, ladder and counters, map, timeline."""
    side, snap = view.side, view.snap
    with solara.Column(classes=[f"esc-side-{side}"], style={"min-width": "0"}):
        _html(
            "div",
            view.title,
            f"esc-side-title esc-{side}-title",
            style=f"border-left: 12px solid {SIDE_COLOUR[side]}; padding-left: 10px",
        )
        _html("div", f"{snap.date}, day {snap.day}", f"esc-{side}-day", style="font-size: 22px")
        if snap.done:
            _html("div", "The scenario's horizon is reached: press Reset.", style="font-size: 20px")
        with solara.Row(style={"align-items": "flex-start", "gap": "24px"}):
            Ladder(side, view.rungs, snap)
            Counters(side, snap)
        Today(side, view.today)
        solara.FigureMatplotlib(view.map_figure, dpi=96, format="png")
        solara.FigureMatplotlib(view.timeline_figure, dpi=96, format="png")


@solara.component
def Today(side: str, lines: list[str]) -> None:
    """The last day's events: who claimed an attack, whom the US blamed, whom the public
    blames for a strike."""
    items = [_html("li", line) for line in lines] or [_html("li", "no events")]
    _html("ul", cls=f"esc-today esc-{side}-today", children=items, style="font-size: 16px")


@solara.component
def Comparison(model: SeminarModel, settings: solara.Reactive[Settings]) -> None:
    """Both sides, or the message that says why there are none."""
    update_counter.get()  # Mesa bumps this after each step; the model object stays the same
    if model.error:
        solara.Error(
            f"Not applied: {model.error}. Fix the setting and press Reset.",
            classes=["esc-error"],
        )
        return
    if settings.value != model.settings:
        solara.Info("Settings changed: press Reset to start both sides again with them.")
    with solara.Columns([1, 1]):
        for view in side_views(model):
            Side(view)


@solara.component
def Knobs(settings: solara.Reactive[Settings]) -> None:
    """Scenario, doctrines, seed and sliders; each slider has a box to type a value in."""
    s = settings.value

    def pick_scenario(name: str) -> None:
        settings.set(replace(s, scenario=name).with_presets())

    def pick_a(name: str) -> None:
        settings.set(replace(s, doctrine_a=name).with_presets())

    def set_value(name: str, value: float | None) -> None:
        if value is not None:
            settings.set(replace(s, values={**s.values, name: float(value)}))

    solara.Select("Scenario", value=s.scenario, values=scenarios(), on_value=pick_scenario)
    solara.Select(
        "US doctrine A (left)",
        value=s.doctrine_a,
        values=[SCENARIO_DOCTRINE, *us_doctrines()],
        on_value=pick_a,
    )
    solara.Select(
        "US doctrine B (right)",
        value=s.doctrine_b,
        values=[SCENARIO_DOCTRINE, *us_doctrines()],
        on_value=lambda v: settings.set(replace(s, doctrine_b=v)),
    )
    solara.InputText(
        "Seed (same draws on both sides)",
        value=s.seed,
        on_value=lambda v: settings.set(replace(s, seed=v)),
        continuous_update=False,
        classes=["esc-seed"],
    )
    solara.Text(
        "Changes apply on Reset. The three US sliders edit doctrine A only; "
        "the others apply to both sides. Slider values can also be typed in the boxes."
    )
    for name, knob in KNOBS.items():
        value = s.values.get(name, knob.lo)
        with solara.Column(gap="0px", classes=[f"esc-knob-{name}"]):
            solara.Text(knob.label, style={"font-weight": "600", "margin-top": "10px"})
            with solara.Row(style={"align-items": "center"}):
                solara.SliderFloat(
                    "",
                    value=min(max(value, knob.lo), knob.hi),
                    min=knob.lo,
                    max=knob.hi,
                    step=knob.step,
                    on_value=lambda v, name=name: set_value(name, v),
                )
                with solara.Div(style={"width": "90px", "flex": "none"}):
                    solara.InputFloat(
                        "",
                        value=value,
                        on_value=lambda v, name=name: set_value(name, v),
                        continuous_update=False,
                        classes=[f"esc-input-{name}"],
                    )
            if knob.outside(value):  # typed beyond the slider's ends: say so at once
                _html(
                    "div",
                    f"{value:g} is outside {knob.lo:g} to {knob.hi:g}: Reset will refuse it",
                    f"esc-knob-error esc-knob-error-{name}",
                )
    solara.Button("Back to the presets", on_click=lambda: settings.set(s.with_presets()))


@solara.component
def SettingsCard(settings: solara.Reactive[Settings]) -> None:
    with solara.Sidebar(), solara.Card("Seminar settings"):
        Knobs(settings)


@solara.component
def SettingsPanel(settings: solara.Reactive[Settings]) -> None:
    """The seminar's settings in the sidebar, below SolaraViz's Controls card.

    Solara orders the sidebar's cards by how deep in the page their components sit, the
    shallow first; SolaraViz's cards sit one level below the page, so the settings card sits
    two below. Step, play and Reset then stay at the top of the sidebar, in view on a
    1080-line projector without scrolling.
    """
    SettingsCard(settings)


def _initial_settings() -> Settings:
    try:
        return Settings().with_presets()
    except ConfigError:  # a broken preset: the page still opens and says so on Reset
        return Settings()


@solara.component
def Page() -> None:
    """The whole page (the app ``escalation-app`` serves)."""
    settings = solara.use_reactive(solara.use_memo(_initial_settings, []))
    model = solara.use_reactive(solara.use_memo(lambda: SeminarModel(settings.value), []))
    solara.Style(CSS)
    SolaraViz(
        model,
        components=[],
        model_params={"settings": settings},
        name="Escalation seminar: militias, the US, Iraq, Iran and Israel",
        play_interval=300,
    )
    SettingsPanel(settings)  # after SolaraViz's Controls card (Step, play, Reset) in the sidebar
    Comparison(model.value, settings)
