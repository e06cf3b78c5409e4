"""The notebooks run clean from top to bottom at a small size (jupytext pairs run by nbmake)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
#: the notebook that ``make notebooks`` executes in its test (so nbmake runs the others)
MADE = ROOT / "notebooks" / "02_december_2019.py"


def test_the_three_notebooks_are_there():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_compare_doctrines", "02_december_2019", "03_sweep_analysis"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_a_percent_pair_that_reads_its_size_and_ends_with_a_reading(path):
    notebook = jupytext.read(path)
    assert notebook.metadata["jupytext"]["formats"] == "py:percent"
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "ESCALATION_NOTEBOOK_SCALE" in code
    last = notebook.cells[-1]
    assert last.cell_type == "markdown" and last.source.startswith("## Reading")


#: the notebooks nbmake runs (``make notebooks`` runs the other in its own test)
UNDER_NBMAKE = [p for p in NOTEBOOKS if p != MADE]


@pytest.fixture(scope="module")
def nbmake_session(tmp_path_factory) -> subprocess.CompletedProcess:
    """One ``pytest --nbmake`` over the notebooks of :data:`UNDER_NBMAKE` at the small size
    (one pytest start-up for all of them; each notebook is still its own test item)."""
    folder = tmp_path_factory.mktemp("nbmake")
    for path in UNDER_NBMAKE:
        jupytext.write(jupytext.read(path), folder / f"{path.stem}.ipynb")
    (folder / "pytest.ini").write_text("[pytest]\n")  # not the project's settings
    env = {**os.environ, "ESCALATION_NOTEBOOK_SCALE": "small"}
    env.pop("ESCALATION_SWEEP", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-rA", "-p", "no:cacheprovider",
         "-c", str(folder / "pytest.ini"), *(f"{p.stem}.ipynb" for p in UNDER_NBMAKE)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("path", UNDER_NBMAKE, ids=lambda p: p.stem)
def test_notebook_runs_under_nbmake_at_small_size(path, nbmake_session):
    done = nbmake_session
    report = done.stdout[-3000:] + done.stderr[-2000:]
    # -rA lists every item with its outcome: this notebook ran clean to its last cell
    assert f"PASSED {path.stem}.ipynb::{path.stem}.ipynb" in done.stdout.splitlines(), report


@pytest.mark.slow
def test_make_notebooks_writes_each_notebook_executed(tmp_path):
    """The README's ``make notebooks``, on one notebook at the small size."""
    env = {**os.environ, "ESCALATION_NOTEBOOK_SCALE": "small"}
    done = subprocess.run(
        ["make", "-s", "notebooks", f"NOTEBOOKS={MADE.relative_to(ROOT)}",
         f"NOTEBOOKS_OUT={tmp_path}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert [p.name for p in tmp_path.iterdir()] == [f"{MADE.stem}.ipynb"]
    cells = jupytext.read(tmp_path / f"{MADE.stem}.ipynb").cells
    code = [c for c in cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # its figures are drawn


# --- the readings: what each notebook's closing paragraph says holds at its full size ----------
#
# Each reading was written from the notebook's numbers at ESCALATION_NOTEBOOK_SCALE=full. These
# tests recompute those numbers in-process (same configurations, seeds and sizes) and check the
# paragraph's claims, so a change to the model that moves them fails here, not silently in prose.


def _source(name: str) -> str:
    return (ROOT / "notebooks" / f"{name}.py").read_text()


def _full_size(name: str) -> dict:
    sizes = re.search(r"SIZES = (\{.*?\})\n", _source(name), flags=re.S).group(1)
    return ast.literal_eval(re.sub(r"#[^\n]*", "", sizes))["full"]


def _shares(ensemble) -> pd.Series:
    return ensemble.replicates["outcome"].value_counts(normalize=True)


@pytest.mark.slow
def test_reading_of_01_compare_doctrines_holds_at_full_size():
    import sim

    doctrines = re.search(r"DOCTRINES = (\[.*?\])", _source("01_compare_doctrines")).group(1)
    names = ast.literal_eval(doctrines)
    size = _full_size("01_compare_doctrines")
    assert size == {"replicates": 1000, "days": 365}
    c = sim.compare_scenarios({n: [f"doctrine/us={n}"] for n in names}, seed=0, **size)
    h = {n: e.headline() for n, e in c.ensembles.items()}
    top = {n: int(e.replicates["max_rung"].max()) for n, e in c.ensembles.items()}
    apm = {n: v["attacks_per_month"] for n, v in h.items()}
    # attacks: about 12 under restraint; max pressure about a quarter; proportional next;
    # red line, decapitation, Syria-only at about 9
    assert 11.5 < apm["restraint"] < 12.5
    assert 0.2 < apm["max_pressure"] / apm["restraint"] < 0.3
    assert (
        apm["max_pressure"]
        < apm["proportional"]
        < min(apm[n] for n in ("red_line", "decapitation", "syria_only"))
    )
    assert all(abs(apm[n] - 9) < 0.3 for n in ("red_line", "decapitation", "syria_only"))
    # the ladder
    assert top["restraint"] == 3 and top["syria_only"] == 4
    assert 0.5 < h["red_line"]["p_rung5"] < 1 and 0.5 < h["decapitation"]["p_rung5"] < 1
    assert h["proportional"]["p_rung5"] == 1 == h["max_pressure"]["p_rung5"]
    # spirals and war: only decapitation (about one in eight) and max pressure (over 4 in 5)
    bad = {n: 1 - _shares(e).get("chronic_harassment", 0) for n, e in c.ensembles.items()}
    assert {n for n, v in bad.items() if v > 0} == {"decapitation", "max_pressure"}
    assert 0.09 < bad["decapitation"] < 0.16 and bad["max_pressure"] > 0.8
    mp = _shares(c.ensembles["max_pressure"])
    assert 0.6 < mp["spiral"] < 0.72 and 0.11 < mp["war"] < 0.18
    # US deaths: intervals of red line, decapitation, Syria-only straddle or sit close to
    # zero; max pressure and proportional lowered them
    d = c.differences(["killed_us", "p_us_death"]).set_index(["variant", "metric"])
    for n in ("red_line", "decapitation", "syria_only"):
        assert (
            d.loc[(n, "killed_us"), "ci_low"] < 0.05 and d.loc[(n, "killed_us"), "ci_high"] > -0.05
        )
    assert (
        d.loc[("max_pressure", "killed_us"), "ci_high"]
        < d.loc[("proportional", "killed_us"), "ci_low"]
    )
    assert d.loc[("proportional", "killed_us"), "ci_high"] < -0.2
    assert 0.35 < 1 - h["max_pressure"]["p_us_death"] < 0.45
    assert 0.07 < 1 - h["restraint"]["p_us_death"] < 0.15


@pytest.mark.slow
def test_reading_of_02_december_2019_holds_at_full_size():
    import sim

    size = _full_size("02_december_2019")
    assert size == {"replicates": 500}
    pair = sim.compare_scenarios(
        {"crisis": ["scenario=dec2019_crisis"],
         "no decapitation": ["scenario=dec2019_no_decapitation"]},
        seed=0, **size,
    )  # fmt: skip
    crisis, counter = (
        pair.ensembles["crisis"].replicates,
        pair.ensembles["no decapitation"].replicates,
    )
    # about one in sixteen crisis replicates saw a leadership strike and Iran's answer
    assert 0.04 < (crisis["decapitations"] > 0).mean() < 0.09
    assert (crisis["iran_direct_strikes"] > 0).mean() == pytest.approx(
        (crisis["decapitations"] > 0).mean()
    )
    shares = crisis["outcome"].value_counts(normalize=True)
    assert shares["chronic_harassment"] > 0.9 and 0.03 < shares["spiral"] < 0.08
    # on the same draws without it: none of them, and no spiral or war
    assert counter[["decapitations", "iran_direct_strikes"]].sum().sum() == 0
    assert set(counter["outcome"]) == {"chronic_harassment"}
    d = pair.differences(["p_rung5", "max_rung", "us_strikes", "attacks_per_month", "killed_us"])
    d = d.set_index("metric")
    assert -0.16 < d.loc["p_rung5", "difference"] < -0.10
    assert -0.5 < d.loc["max_rung", "difference"] < -0.3
    assert -0.45 < d.loc["us_strikes", "difference"] < -0.25
    assert (
        d.loc["attacks_per_month", "ci_low"] > -0.15
        and d.loc["attacks_per_month", "ci_high"] < 0.15
    )
    assert d.loc["killed_us", "ci_low"] > -0.06 and d.loc["killed_us", "ci_high"] < 0.06
    # the rung-5 curves part before any leadership strike could have happened
    first_decap = int(pair.ensembles["crisis"].events.query("kind == 'decapitation'")["day"].min())
    a = pair.ensembles["crisis"].survival("rung5").set_index("replicate")
    b = pair.ensembles["no decapitation"].survival("rung5").set_index("replicate")
    differ = (a["duration"] != b["duration"]) | (a["observed"] != b["observed"])
    assert a.loc[differ, "duration"].min() < first_decap


@pytest.mark.slow
def test_reading_of_03_sweep_analysis_holds_for_its_own_sweep_at_full_size():
    import sim

    source = _source("03_sweep_analysis")
    experiment = re.search(r'EXPERIMENT = "(\w+)"', source).group(1)
    assert experiment == "decapitation_iran" and _full_size("03_sweep_analysis") == []
    cells = [(p, iran) for p in (0, 0.3)
             for iran in ("calibrated", "restrain_proxies", "revenge", "talks_first")]  # fmt: skip
    # the sweep's eight jobs as one design, its points stepped together as the sweep steps
    # them; each point gets what it gets run alone (tests/test_design.py)
    design = pd.DataFrame(cells, columns=["doctrine.us.decapitation_probability", "doctrine/iran"])
    result = sim.run(f"experiment={experiment}", design=design)
    assert (result.config.replicates, result.config.days) == (100, 365)
    table = result.replicates.assign(
        attacks_per_month=lambda f: f["attacks"] * (365.25 / 12) / result.config.days
    )
    t = {
        cell: rows.drop(columns="point").reset_index(drop=True)
        for cell, (_, rows) in zip(cells, table.groupby("point", sort=True), strict=True)
    }
    shares = {k: v["outcome"].value_counts(normalize=True) for k, v in t.items()}
    assert all(s.get("deterrence_holds", 0) == 0 for s in shares.values())
    for iran in ("calibrated", "restrain_proxies", "revenge", "talks_first"):
        assert shares[(0, iran)].get("chronic_harassment") == 1.0
        # the leadership strike leaves the share reaching rung 5 where it was
        assert (t[(0, iran)]["max_rung"] >= 5).mean() == (t[(0.3, iran)]["max_rung"] >= 5).mean()
    apm = {k: v["attacks_per_month"].mean() for k, v in t.items()}
    assert 5.3 < apm[(0, "restrain_proxies")] < 5.9 and 8.7 < apm[(0, "calibrated")] < 9.3
    assert 10.3 < apm[(0, "revenge")] < 10.9
    moved = {iran: 1 - shares[(0.3, iran)].get("chronic_harassment", 0)
             for iran in ("calibrated", "restrain_proxies", "revenge")}  # fmt: skip
    assert min(moved.values()) > 0.12 and max(moved.values()) < 0.27
    cal, res, rev = (
        shares[(0.3, "calibrated")],
        shares[(0.3, "restrain_proxies")],
        shares[(0.3, "revenge")],
    )
    assert 0.14 < cal["spiral"] < 0.2 and 0 < cal["war"] < 0.05
    assert 0.11 < res["spiral"] < 0.17 and res.get("war", 0) == 0
    assert t[(0.3, "restrain_proxies")]["iran_direct_strikes"].sum() == 0
    assert 0.1 < rev["war"] < 0.16 and 0.08 < rev["withdrawal"] < 0.14
    assert [k for k, s in shares.items() if s.get("withdrawal", 0) > 0] == [(0.3, "revenge")]
    deaths = {k: v["killed_us"].mean() for k, v in t.items()}
    assert 2.2 < deaths[(0, "revenge")] < 2.6 and 6.2 < deaths[(0.3, "revenge")] < 7.2
    struck = t[(0.3, "revenge")]["iran_direct_strikes"] > 0
    extra = (t[(0.3, "revenge")]["killed_us"] - t[(0, "revenge")]["killed_us"])[struck]
    assert 15 < extra.mean() < 21
    assert all(abs(apm[(0.3, i)] - apm[(0, i)]) < 0.3 for i in ("calibrated", "restrain_proxies"))
    assert apm[(0.3, "revenge")] < apm[(0, "revenge")] - 0.5
    pd.testing.assert_frame_equal(t[(0.3, "talks_first")], t[(0.3, "calibrated")])
