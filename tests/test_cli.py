"""The command line end to end, in subprocesses, as a user runs it; the effect of overrides
and named options, and the refusals of bad input, through its ``main`` in-process (the
README's commands and error example show the same from a real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

PROG = Path(sys.executable).with_name("escalation-sim")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": ""}
    env.pop("HYDRA_FULL_ERROR")
    return subprocess.run(
        [str(PROG), *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )


def in_process(*args: str, monkeypatch, capsys) -> str:
    """What ``escalation-sim ARGS`` prints, run by its ``main`` in this process."""
    from sim import cli as command

    monkeypatch.setattr(sys, "argv", [str(PROG), *args])  # main sets it for Hydra
    command.main(list(args))
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("default")
    proc = cli(cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    runs = list((cwd / "results" / "runs").glob("*/*"))
    assert len(runs) == 1
    return proc, runs[0]


@pytest.mark.slow
def test_default_run_writes_every_result_file(default_run):
    _, out = default_run
    for name in (
        "events.parquet",
        "daily.parquet",
        "summary.json",
        "figures/timeline.png",
        "figures/map.png",
        ".hydra/config.yaml",
    ):
        assert (out / name).is_file(), name
    assert not list(out.rglob("*.tmp")), "no temporary files left behind"
    events = pd.read_parquet(out / "events.parquet")
    daily = pd.read_parquet(out / "daily.parquet")
    assert {
        "replicate",
        "day",
        "date",
        "actor",
        "action",
        "weapon",
        "source",
        "target",
        "killed_us",
        "wounded_us",
        "killed_iraqi",
        "wounded_iraqi",
        "rung",
    } <= set(events)
    assert len(daily) == 365 and daily.date.iloc[0] == pd.Timestamp("2019-10-01")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["highest_rung"]["level"] == daily.rung.max()
    assert summary["counts"]["attacks"] == daily.attacks.sum()
    prov = summary["provenance"]
    assert len(prov["config_hash"]) == 64 and prov["seed"] == 0 and prov["package_version"]


@pytest.mark.slow
def test_default_run_prints_where_and_what(default_run):
    proc, out = default_run
    text = proc.stdout
    assert f"Results: {out}" in text
    for needle in (
        "Attacks:",
        "rocket",
        "ied",
        "drone",
        "Casualties: US",
        "Iraqi",
        "US responses:",
        "Highest rung:",
        "Outcome:",
    ):
        assert needle in text, needle


@pytest.mark.slow
def test_overrides_change_the_run(tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    printed = in_process(
        "seed=7",
        "days=180",
        "scenario.start_date=2020-06-01",
        f"hydra.run.dir={run_dir}",
        "output.figures=false",
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    daily = pd.read_parquet(run_dir / "daily.parquet")
    assert len(daily) == 180 and daily.date.iloc[0] == pd.Timestamp("2020-06-01")
    assert not (run_dir / "figures").exists()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["seed"] == 7 and summary["start_date"] == "2020-06-01"
    assert "2020-06-01 to 2020-11-27" in printed


@pytest.mark.slow
def test_quiet_prints_nothing(tmp_path):
    proc = cli(
        "days=30",
        "output.quiet=true",
        "output.figures=false",
        f"hydra.run.dir={tmp_path / 'q'}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0 and proc.stdout == ""
    assert (tmp_path / "q" / "summary.json").is_file()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["doctrine.us.response_lag_days=-3"], "doctrine.us.response_lag_days = -3"),
        (["doctrine.iran.green_light=1.5"], "must be a probability in [0, 1]"),
        (["theatre.routes.0.sites=[safwan,atlantis]"], "'atlantis': not a site"),
        (["theatre.sites.0.lat=50"], "outside the map"),
        (["days=abc"], "days"),
        (["no_such_key=1"], "no_such_key"),
        (
            ["doctrine/us=no_such_doctrine"],
            "doctrine/us: no option 'no_such_doctrine' (choose from: decapitation, max_pressure",
        ),
        (["scenario=nope"], "scenario: no option 'nope' (choose from: biden2021,"),
        (["scenario.start_date=2020-02-30"], "scenario.start_date"),
        (["score.kinds.truce.score=low"], "score.kinds.truce.score = 'low': must be a number"),
    ],
)
def test_bad_input_fails_on_one_line_with_status_2_and_no_output(
    tmp_path, monkeypatch, capsys, args, needle
):
    from sim import cli as command

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(PROG), *args])
    with pytest.raises(SystemExit) as exit_:
        command.main(list(args))
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("escalation-sim: error:"), err
    assert needle in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "results").exists()
    assert out == ""


ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_readme_shows_what_the_default_run_prints(default_run):
    proc, _ = default_run
    shown = README.split("## What a run prints", 1)[1].split("```")[1].strip().splitlines()
    printed = proc.stdout.strip().splitlines()
    assert shown[0].startswith("Results: results/runs/") and printed[0].startswith("Results: ")
    assert shown[1:] == printed[1:]


def _readme_commands():
    block = README.split("## The command line", 1)[1].split("```")[1]
    return [line.split("#")[0].split() for line in block.strip().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("command", _readme_commands(), ids=lambda c: " ".join(c[1:]))
def test_readme_commands_run(tmp_path, command):
    assert command[0] == "escalation-sim"
    args = command[1:]
    if not any(a.startswith("-") for a in args):
        args += [f"hydra.run.dir={tmp_path / 'run'}"]
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    if "--help" in args:
        for group in ("theatre", "actors", "weapons", "doctrine/us", "doctrine/iran",
                      "doctrine/israel", "doctrine/iraq", "ladder", "scenario"):  # fmt: skip
            assert group in proc.stdout, group
    elif "--cfg" in args:
        assert "response_lag_days" in proc.stdout
    else:
        assert (tmp_path / "run" / "summary.json").is_file()


@pytest.mark.slow
def test_readme_error_example_is_what_the_cli_says(tmp_path):
    block = README.split("## The command line", 1)[1].split("```")[3].strip().splitlines()
    command, expected = block[0].removeprefix("$ ").split(), block[1]
    proc = cli(*command[1:], cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip() == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    "override",
    # one of each: every doctrine composes under its name and every preset runs in-process
    # (test_doctrines.py); here the command prints and records the choice
    ["doctrine/us=red_line", "scenario=biden2021"],
)
def test_doctrines_and_scenarios_run_and_are_named(tmp_path, monkeypatch, capsys, override):
    args = (override, "days=40", "output.figures=false", f"hydra.run.dir={tmp_path / 'r'}")
    printed = in_process(*args, monkeypatch=monkeypatch, capsys=capsys)
    group, option = override.split("=")
    if group == "scenario":
        assert f"Scenario {option}:" in printed
    else:
        assert f"US {option}," in printed
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert set(summary["doctrines"]) == {"us", "iran", "israel", "iraq"}


def test_a_broken_config_file_is_reported_on_one_line(tmp_path, monkeypatch, capsys):
    """A user's edit that breaks a YAML file: one line naming the file, status 2."""
    import shutil

    import sim.config
    from sim.cli import precheck

    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", configs)
    broken = configs / "doctrine" / "us" / "red_line.yaml"
    broken.write_text(broken.read_text() + "response_lag_days: [2\n")
    monkeypatch.setattr(sim.config, "config_dir", lambda: str(configs))
    with pytest.raises(SystemExit) as exit_:
        precheck(["doctrine/us=red_line"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "red_line.yaml" in err[0] and "line" in err[0]
