"""The corpus of bad inputs (``tests/bad_inputs/*.yaml``, format in its README): every case
runs in this process and must be refused as the house rule says (its exit status, one line
on stderr matching its pattern, no traceback, nothing written), or handled when the case
says so; and a property test draws overrides across the whole schema and holds every
command line to the same contract."""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).parent / "bad_inputs"

#: how each command is called, and the arguments that point its output into the case's folder
OUTPUT_ARGS = {
    "escalation-sim": ["hydra.run.dir={tmp}/out", "hydra.sweep.dir={tmp}/out"],
    "escalation-design": ["--out", "{tmp}/out"],
    "escalation-validate": ["--out", "{tmp}/out"],
    "escalation-calibrate": ["--out", "{tmp}/out"],
    "escalation-compare": ["--out", "{tmp}/out"],
    "escalation-report": [],
    "escalation-app": [],
    "escalation-coverage": [],
    "seminar": [],
    "wargame": [],
}


@dataclasses.dataclass
class Case:
    """One input and what the command must answer (see tests/bad_inputs/README.md)."""

    id: str
    command: str
    args: list[str] = dataclasses.field(default_factory=list)
    message: str | None = None
    files: dict[str, Any] = dataclasses.field(default_factory=dict)
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    exit: int = 2
    lines: int | None = None
    outcome: str = "refused"
    output_args: bool = True
    slow: bool = False
    source: str = ""

    @property
    def expected_lines(self) -> int:
        if self.lines is not None:
            return self.lines
        return 0 if self.outcome == "handled" else 1


def load_corpus() -> list[Case]:
    """Every case of every file of the corpus, with its file's defaults."""
    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        default = data.get("command", "escalation-sim")
        for entry in data["cases"]:
            entry = {"command": default, **entry, "source": path.name}
            cases.append(Case(**entry))
    return cases


CASES = load_corpus()


def _params() -> list:
    marks = {True: [pytest.mark.slow], False: []}
    return [pytest.param(case, id=case.id, marks=marks[case.slow]) for case in CASES]


def test_the_corpus_is_large_unique_and_well_formed():
    ids = [case.id for case in CASES]
    assert len(ids) >= 150, f"the corpus holds {len(ids)} cases"
    assert len(set(ids)) == len(ids), "case ids are unique"
    for case in CASES:
        assert case.command in OUTPUT_ARGS, (case.id, case.command)
        assert case.outcome in ("refused", "handled"), case.id
        assert case.outcome == "handled" or case.message, f"{case.id}: give its message"
        if case.message:
            re.compile(case.message)


def _fill(text: str, tmp: Path) -> str:
    return text.replace("{tmp}", str(tmp))


def _write_files(case: Case, tmp: Path) -> None:
    for name, content in case.files.items():
        path = tmp / _fill(name, tmp)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(_fill(content, tmp), encoding="utf-8")


#: each command's entry point, called in this process: (module, function)
ENTRY_POINTS = {
    "escalation-sim": ("sim.cli", "main"),
    "escalation-design": ("sim.design", "main"),
    "escalation-validate": ("sim.validate", "main"),
    "escalation-calibrate": ("sim.calibrate", "main"),
    "escalation-compare": ("sim.compare", "main"),
    "escalation-report": ("sim.report", "main"),
    "escalation-app": ("sim.app.launch", "parse"),
    "escalation-coverage": ("sim.coverage", "main"),
}


def _call(main, argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def run_case(case: Case, tmp: Path, monkeypatch) -> int:
    """Run a case's command in this process; its exit status (stderr is captured)."""
    argv = [_fill(a, tmp) for a in case.args]
    if case.output_args:
        argv += [_fill(a, tmp) for a in OUTPUT_ARGS[case.command]]
    if case.command == "seminar":
        return _seminar(case)
    if case.command == "wargame":
        return _wargame(case)
    if case.command not in ENTRY_POINTS:
        raise AssertionError(f"{case.id}: unknown command {case.command}")
    if case.command == "escalation-sim":  # main reads sys.argv for Hydra
        monkeypatch.setattr(sys, "argv", ["escalation-sim", *argv])
    module, function = ENTRY_POINTS[case.command]
    return _call(getattr(importlib.import_module(module), function), argv)


def _seminar(case: Case) -> int:
    """The app's form with the case's boxes typed in (the others as the page opens): each
    refused box's one-line message (shown under that box) goes to stderr, and the status is
    2 when the form was refused (the page then runs nothing and keeps what it showed)."""
    from sim.app.form import FormError, checked
    from sim.app.server import default_form

    typed = {**default_form(), **{k: str(v) for k, v in case.settings.items()}}
    try:
        checked(typed)
    except FormError as exc:
        for field, message in exc.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 2
    return 0


def _wargame(case: Case) -> int:
    """A wargame started with the case's ``settings`` (the page's start form), then the
    case's ``args`` as the teams' requests in order: ``join CODE ROLE`` (``CODE``: the
    game's own code), ``advance``, ``decide ROLE field=option ...``, ``end``. The first
    request refused prints its one-line message (what the page shows) on stderr: status 2.
    """
    from sim.app.form import FormError
    from sim.app.game import GameError
    from sim.app.games import Games

    games = Games()
    try:
        game, token = games.create({"play": "us", **case.settings})
        for request in case.args:
            verb, *words = request.replace("CODE", game.code).split()
            if verb == "join":
                games.join(words[0], words[1])
            elif verb == "advance":
                game.advance(until_decision=True)
            elif verb == "decide":
                game.decide(words[0], dict(w.split("=", 1) for w in words[1:]))
            elif verb == "end":
                game.finish(replicates=50)
            else:
                raise AssertionError(f"{case.id}: unknown request {request!r}")
    except FormError as exc:
        for field, message in exc.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 2
    except GameError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def check_contract(case: Case, status: int, out: str, err: str, tmp: Path) -> None:
    """The house rule: the exit status, the number of lines, the pattern (on stderr; on
    stdout for a handled case), no traceback, nothing written."""
    lines = err.strip().splitlines()
    assert "Traceback" not in err + out, err
    assert status == case.exit, f"exit {status}, expected {case.exit}: {err}"
    assert len(lines) == case.expected_lines, f"{len(lines)} lines on stderr:\n{err}"
    if case.message:
        said = out if case.outcome == "handled" else err
        assert re.search(case.message, said), f"{case.message!r} not in {said!r}"
    if case.outcome == "refused":
        for folder in (tmp / "out", tmp / "results"):
            left = [p for p in folder.rglob("*")] if folder.exists() else []
            assert not left, f"left behind: {left[:5]}"


@pytest.mark.parametrize("case", _params())
def test_bad_input_gets_one_line_and_leaves_nothing(case, tmp_path, monkeypatch, capfd):
    _write_files(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    status = run_case(case, tmp_path, monkeypatch)
    said = capfd.readouterr()
    check_contract(case, status, said.out, said.err, tmp_path)


# --- property test: overrides drawn across the schema ------------------------------------


def _schema_leaves() -> dict[str, tuple[Any, dict]]:
    """Every numeric or switch parameter of the default configuration: its value and range."""
    from sim.config import allowed_range, compose, leaves, parameter_at

    config = compose()
    out = {}
    for path, value in leaves(config).items():
        if path.startswith(("inputs.", "score.categories", "ladder.rungs")):
            continue
        if isinstance(value, bool | int | float):
            node, leaf, _ = parameter_at(config, path)
            meta = {} if isinstance(value, bool) else dict(allowed_range(node, leaf))
            out[path] = (value, meta)
    return out


LEAVES = _schema_leaves()
#: values no number of the schema takes, whatever its range
ALWAYS_BAD = ["nan", "inf", "-inf", "1e400", "twelve", "[1,2]", "{a: 1}", "''", "null"]


@st.composite
def override(draw) -> tuple[str, bool | None]:
    """An override ``path=value`` of one leaf, and whether it must be refused (None: either
    outcome is allowed, e.g. a number inside its range that another constraint may refuse)."""
    path = draw(st.sampled_from(sorted(LEAVES)))
    value, meta = LEAVES[path]
    if isinstance(value, bool):
        text = draw(st.sampled_from(["true", "false", "maybe", "2", "nan"]))
        return f"{path}={text}", None if text in ("true", "false") else True
    kind = draw(st.sampled_from(["inside", "below", "above", "always_bad", "unknown_key"]))
    lo, hi = meta.get("lo"), meta.get("hi")
    whole = isinstance(value, int)
    if kind == "inside":
        top = hi if hi is not None else (lo or 0) + 10
        number = draw(st.integers(int(lo or 0), int(min(top, 10**6))))
        return f"{path}={number}", None
    if kind == "below" and lo is not None:
        number = lo - draw(st.sampled_from([1, 0.5, 1e6])) if not meta.get("open") else lo
        return f"{path}={int(number) if whole and number == int(number) else number}", True
    if kind == "above" and hi is not None:
        number = hi + draw(st.sampled_from([1, 1000, 1e300]))
        text = str(int(number)) if whole and number < 1e18 else repr(float(number))
        return f"{path}={text}", True
    if kind == "unknown_key":
        return f"+{path}_typo=1", True
    return f"{path}={draw(st.sampled_from(ALWAYS_BAD))}", True


@pytest.mark.slow
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(overrides=st.lists(override(), min_size=1, max_size=2))
def test_any_override_is_refused_in_one_line_or_runs(overrides, tmp_path_factory, monkeypatch):
    """Overrides across the schema: a bad one gets exit 2, one line naming a field and
    nothing written; a good set runs (a short run) and exits 0."""
    from sim import cli

    tmp = tmp_path_factory.mktemp("prop")
    monkeypatch.chdir(tmp)
    args = [o for o, _ in overrides] + ["days=3", "output.figures=false", "output.quiet=true"]
    argv = [*args, f"hydra.run.dir={tmp}/out"]
    monkeypatch.setattr(sys, "argv", ["escalation-sim", *argv])
    err_file = tmp / "stderr.txt"
    with err_file.open("w") as err_stream:
        monkeypatch.setattr(sys, "stderr", err_stream)
        status = _call(cli.main, argv)
        monkeypatch.undo()
    err = err_file.read_text()
    assert "Traceback" not in err, err
    must_refuse = any(bad for _, bad in overrides)
    if must_refuse:
        assert status == 2, (overrides, status, err)
    assert status in (0, 2), (overrides, status, err)
    if status == 2:
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("escalation-sim: error: "), err
        assert not (tmp / "out").exists()
    else:
        assert (tmp / "out" / "summary.json").is_file()


def _as_written(path: str) -> str:
    """A dotted path as messages write it: list items in brackets (``militias[0]``)."""
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_every_number_of_the_schema_refuses_what_is_not_finite(bad):
    """Every numeric leaf, set to nan or an infinity, is refused naming itself (the check
    the command line's overrides, config files, designs and the app all pass through)."""
    from sim.config import ConfigError, compose, parameter_at, set_parameter, validate

    config = compose()
    for path, (value, _) in LEAVES.items():
        if isinstance(value, bool):
            continue
        node, leaf, current = parameter_at(config, path)
        set_parameter(node, leaf, bad)
        with pytest.raises(ConfigError, match=re.escape(_as_written(path))):
            validate(config)
        set_parameter(node, leaf, current)


def test_every_bounded_number_refuses_a_value_above_its_bound():
    """A number with an upper bound (counts, sizes, probabilities, days) refuses one above
    it, naming itself and the bound."""
    from sim.config import ConfigError, compose, parameter_at, set_parameter, validate

    config = compose()
    bounded = {p: (v, m) for p, (v, m) in LEAVES.items() if m.get("hi") is not None}
    assert len(bounded) > 100, "most numbers of the schema are bounded"
    for path, (value, meta) in bounded.items():
        node, leaf, current = parameter_at(config, path)
        above = meta["hi"] + 1 if isinstance(value, int) else meta["hi"] * 2 + 1.0
        set_parameter(node, leaf, above)
        with pytest.raises(ConfigError, match=re.escape(_as_written(path))):
            validate(config)
        set_parameter(node, leaf, current)
