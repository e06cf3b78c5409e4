"""``escalation-validate`` end to end, and its refusals of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.record import COLUMNS, seeds_record
from sim.scorecard import STATISTICS
from sim.validate import main

PROG = Path(sys.executable).with_name("escalation-validate")
OUTPUTS = ("validation.md", "validation.json", "validation.png")


def small_record(path: Path, rows: list[str] | None = None) -> Path:
    """A short record: a month of rockets and IEDs, one lethal, and a US strike."""
    rows = rows or [
        "2020-07-02,militia,rocket,taji,iraq,0,0,,test",
        "2020-07-05,militia,ied_convoy,convoy,iraq,,,,test",
        "2020-07-09,militia,rocket,biap,iraq,1,2,,test",
        "2020-07-12,us,airstrike,militia_site,iraq,,,,test",
        "2020-07-20,militia,rocket,ain_al_asad,iraq,0,0,,test",
        "2020-08-03,militia,ied_convoy,convoy,iraq,,,,test",
    ]
    path.write_text(",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.slow
def test_validation_of_the_seeds_record_writes_the_scorecard(tmp_path, capsys):
    out = tmp_path / "v"
    main(["--events", str(seeds_record()), "--replicates", "8", "--out", str(out)])
    printed = capsys.readouterr().out
    assert f"Validation: {out}" in printed and "Inside the 90% interval:" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    data = json.loads((out / "validation.json").read_text())
    assert [row["statistic"] for row in data["statistics"]] == list(STATISTICS)
    assert data["meta"]["replicates"] == 8
    for row in data["statistics"]:
        # every row is either judged or says why not
        assert (row["inside"] is not None) != bool(row["reason"]), row
    table = (out / "validation.md").read_text()
    assert (
        "| statistic | observed | observed events | simulated | 90% interval | formed as | "
        "inside? |" in table
    )
    # the events behind each observed statistic are shown beside it
    rows = {row["statistic"]: row for row in data["statistics"]}
    assert rows["attacks_per_month"]["observed_n"] == 37
    assert "| attacks per month | 2.01 | 37 |" in table
    assert table.count("\n| ") == len(STATISTICS) + 2


@pytest.mark.slow
def test_the_console_script_runs_a_small_record_and_its_window(tmp_path):
    events = small_record(tmp_path / "events.csv")
    out = tmp_path / "v"
    proc = subprocess.run(
        [str(PROG), "--events", str(events), "--replicates", "4", "--out", str(out),
         "scenario=biden2021"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "  Overrides: scenario=biden2021\n" in proc.stdout
    meta = json.loads((out / "validation.json").read_text())["meta"]
    assert (meta["start"], meta["end"], meta["days"]) == ("2020-07-02", "2020-08-03", 33)
    assert meta["scenario"] == "biden2021"
    # the overrides are part of what was validated, in the table's file too
    assert meta["overrides"] == ["scenario=biden2021"]
    assert "Overrides: `scenario=biden2021`." in (out / "validation.md").read_text()
    # the preset's drone era (2021-04-01) falls after the record: said, not silently dropped
    assert any("after the window" in note for note in meta["inputs_outside"])
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--events", "{tmp}/missing.csv"], "missing.csv: no such file"),
        (["--events", "{bad_actor}"], "line 3: actor: 'hezbollah' is not one of"),
        (["--events", "{bad_date}"], "line 2: date: '2020-13-01' is not a date"),
        (["--events", "{good}", "doctrine.us.response_lag_days=-3"], "response_lag_days = -3"),
        (["--events", "{good}", "doctrine.us.no_such_key=1"], "no_such_key"),
        (["--events", "{good}", "--from", "2020-02-30"], "--from = '2020-02-30'"),
        (["--events", "{good}", "days=100"], "days=100: the record's window sets it"),
        (["--events", "{good}", "replicates=50"], "replicates=50: use --replicates"),
        (["--events", "{tmp}"], "is a folder, not a record file"),
        ([], "--events FILE or --record PERIOD is required"),
        (["--record", "gaza2099"], "--record gaza2099: not a shipped period (one of: gaza2023)"),
        (["--record", "gaza2023", "--events", "{good}"], "--record and --events: give one"),
        (["--record", "gaza2023", "days=100"], "days=100: the record's window sets it"),
        (["--record", "gaza2023", "--from", "2023-13-01"], "--from = '2023-13-01'"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path, capsys, args, needle):
    good = small_record(tmp_path / "good.csv")
    bad_actor = small_record(
        tmp_path / "bad_actor.csv",
        [
            "2020-07-02,militia,rocket,taji,iraq,,,,test",
            "2020-07-03,hezbollah,rocket,taji,iraq,,,,t",
        ],
    )
    bad_date = small_record(tmp_path / "bad_date.csv", ["2020-13-01,militia,rocket,taji,iraq,,,,t"])
    names = {"tmp": tmp_path, "good": good, "bad_actor": bad_actor, "bad_date": bad_date}
    out = tmp_path / "out"
    argv = [a.format(**names) for a in args] + ["--replicates", "2", "--out", str(out)]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("escalation-validate: error:")
    assert needle in err
    assert not out.exists()


def test_replicates_below_one_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--events", str(small_record(tmp_path / "e.csv")), "--replicates", "0"])
    assert exit_.value.code == 2
    assert "--replicates = 0" in capsys.readouterr().err
