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


#: how many standard errors of its run a number may sit from the value the reading quotes
WITHIN = 4


def _mean_about(values, quoted: float) -> bool:
    """The mean of ``values`` (one per replicate) is within WITHIN standard errors of the mean
    of the value the reading quotes."""
    values = pd.Series(values, dtype=float)
    se = values.std() / len(values) ** 0.5
    return abs(values.mean() - quoted) <= WITHIN * se


def _share_about(hits, quoted: float) -> bool:
    """The share of True in ``hits`` (one per replicate) is within WITHIN standard errors,
    sqrt(p (1 - p) / n) at the quoted share p, of the share the reading quotes."""
    hits = pd.Series(hits, dtype=bool)
    se = (quoted * (1 - quoted) / len(hits)) ** 0.5
    return abs(hits.mean() - quoted) <= WITHIN * se


def _difference_about(row: pd.Series, quoted: float) -> bool:
    """A paired difference (a row of ``differences()``, 95% t interval) is within WITHIN
    standard errors of the difference the reading quotes."""
    se = (row["ci_high"] - row["ci_low"]) / (2 * 1.96)
    return abs(row["difference"] - quoted) <= WITHIN * se


@pytest.mark.slow
def test_reading_of_01_compare_doctrines_holds_at_full_size():
    import sim

    doctrines = re.search(r"DOCTRINES = (\[.*?\])", _source("01_compare_doctrines")).group(1)
    names = ast.literal_eval(doctrines)
    size = _full_size("01_compare_doctrines")
    assert size == {"replicates": 1000, "days": 365}
    c = sim.compare_scenarios({n: [f"doctrine/us={n}"] for n in names}, seed=0, **size)
    t = {n: e.replicates for n, e in c.ensembles.items()}
    shares = {n: _shares(e) for n, e in c.ensembles.items()}
    # attacks a month: about 11.9 under restraint, 2.6 under maximum pressure, 6.8 under
    # proportional responses, then Syria-only, red line and decapitation at 8.5, 8.8 and 9.2
    quoted = {"restraint": 11.9, "max_pressure": 2.6, "proportional": 6.8, "syria_only": 8.5,
              "red_line": 8.8, "decapitation": 9.2}  # fmt: skip
    assert all(_mean_about(t[n]["attacks_per_month"], v) for n, v in quoted.items())
    apm = {n: v["attacks_per_month"].mean() for n, v in t.items()}
    assert (
        apm["max_pressure"]
        < apm["proportional"]
        < min(apm[n] for n in ("red_line", "decapitation", "syria_only"))
    )
    # restraint never strikes, yet a third of its replicates reach rung 5, all through an
    # embassy assault, and none higher; every doctrine that strikes reaches rung 8
    r = t["restraint"]
    assert r["us_strikes"].sum() == 0 and r["max_rung"].max() == 5
    assert ((r["max_rung"] >= 5) == (r["embassy_assaults"] > 0)).all()
    assert _share_about(r["max_rung"] >= 5, 0.34)
    assert all(t[n]["max_rung"].max() == 8 for n in names if n != "restraint")
    # rung 5 or above: red line 91%, decapitation 93%, Syria-only 53%, the other two all
    for n, p in {"red_line": 0.91, "decapitation": 0.93, "syria_only": 0.53}.items():
        assert _share_about(t[n]["max_rung"] >= 5, p)
    assert (t["proportional"]["max_rung"] >= 5).all() and (t["max_pressure"]["max_rung"] >= 5).all()
    # leadership strikes only under decapitation (28%) and maximum pressure (76%)
    struck = {n for n, v in t.items() if v["decapitations"].sum() > 0}
    assert struck == {"decapitation", "max_pressure"}
    assert _share_about(t["decapitation"]["decapitations"] > 0, 0.28)
    assert _share_about(t["max_pressure"]["decapitations"] > 0, 0.76)
    # Iran's missiles: red line about 6% (without a leadership strike), decapitation 18%,
    # Syria-only 28% (about seven in ten of them without an embassy assault), proportional
    # 61%, maximum pressure every replicate, restraint none
    fired = {n: v["iran_direct_strikes"] > 0 for n, v in t.items()}
    assert not fired["restraint"].any() and fired["max_pressure"].all()
    quoted = {"red_line": 0.06, "decapitation": 0.18, "syria_only": 0.28, "proportional": 0.61}
    assert all(_share_about(fired[n], p) for n, p in quoted.items())
    s = t["syria_only"][fired["syria_only"]]
    assert _share_about(s["embassy_assaults"] == 0, 0.7)
    # regimes: restraint all chronic harassment; spiral and war shares of the others
    assert shares["restraint"].get("chronic_harassment") == 1.0
    quoted = {"red_line": (0.05, 0.01), "decapitation": (0.29, 0.02), "syria_only": (0.23, 0.05),
              "proportional": (0.49, 0.12), "max_pressure": (0.47, 0.53)}  # fmt: skip
    for n, (spiral, war) in quoted.items():
        assert _share_about(t[n]["outcome"] == "spiral", spiral)
        assert _share_about(t[n]["outcome"] == "war", war)
    assert shares["max_pressure"].get("chronic_harassment", 0) == 0
    assert shares["syria_only"]["war"] > shares["decapitation"]["war"]
    # US deaths: the red line and decapitation intervals straddle zero, Syria-only's sits just
    # below it (about -0.08); proportional about -0.44, maximum pressure about -0.9
    d = c.differences(["killed_us"]).set_index("variant")
    for n in ("red_line", "decapitation"):
        assert d.loc[n, "ci_low"] < 0 < d.loc[n, "ci_high"]
    assert d.loc["syria_only", "ci_high"] < 0 and _difference_about(d.loc["syria_only"], -0.08)
    assert _difference_about(d.loc["proportional"], -0.44)
    assert _difference_about(d.loc["max_pressure"], -0.9)
    assert d.loc["max_pressure", "ci_high"] < d.loc["proportional", "ci_low"]
    # no US death: one replicate in five under maximum pressure, 9% under restraint
    assert _share_about(t["max_pressure"]["killed_us"] == 0, 0.2)
    assert _share_about(t["restraint"]["killed_us"] == 0, 0.09)


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
    # a leadership strike in about one crisis replicate in eight, almost always after an
    # embassy assault; Iran's missiles in about 9%: after about half of the leadership strikes,
    # and without one in about 2% of the replicates
    struck, fired = crisis["decapitations"] > 0, crisis["iran_direct_strikes"] > 0
    assert _share_about(struck, 0.12) and _share_about(fired, 0.09)
    assert _share_about(crisis.loc[struck, "embassy_assaults"] > 0, 0.98)
    assert _share_about(fired[struck], 0.5)
    assert _share_about(fired & ~struck, 0.02)
    # chronic harassment 86%, spiral 13%, war 0.8%
    for outcome, p in {"chronic_harassment": 0.86, "spiral": 0.13, "war": 0.008}.items():
        assert _share_about(crisis["outcome"] == outcome, p)
    # on the same draws without it: no leadership strike, Iran's missiles in about 2%, and
    # those replicates are all of its spirals (1.8%) and wars (0.6%)
    assert counter["decapitations"].sum() == 0
    fired = counter["iran_direct_strikes"] > 0
    assert _share_about(fired, 0.02)
    assert (fired == counter["outcome"].isin(["spiral", "war"])).all()
    assert _share_about(counter["outcome"] == "spiral", 0.018)
    assert _share_about(counter["outcome"] == "war", 0.006)
    d = pair.differences(["p_rung5", "max_rung", "us_strikes", "attacks_per_month", "killed_us"])
    d = d.set_index("metric")
    quoted = {"p_rung5": -0.07, "max_rung": -0.3, "us_strikes": -0.2,
              "attacks_per_month": -0.27, "killed_us": -0.05}  # fmt: skip
    assert all(_difference_about(d.loc[m], v) for m, v in quoted.items())
    # attacks and US deaths moved little but measurably: intervals clear of zero
    assert d.loc["attacks_per_month", "ci_high"] < 0 and d.loc["killed_us", "ci_high"] < 0
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
    doctrines = ("calibrated", "restrain_proxies", "revenge", "talks_first")
    cells = [(p, iran) for p in (0, 0.3) for iran in doctrines]
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
    # without the assault route: chronic harassment in 95% to 99%, at about 5.6, 8.9 and 10.4
    # attacks a month; about one replicate in a hundred still sees a leadership strike (the
    # lethal-campaign route), and Iran fires in 3% (calibrated) and 5% (revenge)
    for iran, p in {"calibrated": 0.97, "restrain_proxies": 0.99, "revenge": 0.95}.items():
        assert _share_about(t[(0, iran)]["outcome"] == "chronic_harassment", p)
        assert _share_about(t[(0, iran)]["decapitations"] > 0, 0.01)
    assert sum(t[(0, iran)]["decapitations"].sum() for iran in doctrines) > 0
    for iran, a in {"restrain_proxies": 5.6, "calibrated": 8.9, "revenge": 10.4}.items():
        assert _mean_about(t[(0, iran)]["attacks_per_month"], a)
    assert _share_about(t[(0, "calibrated")]["iran_direct_strikes"] > 0, 0.03)
    assert _share_about(t[(0, "revenge")]["iran_direct_strikes"] > 0, 0.05)
    # the assault route on: 22% to 31% out of chronic harassment
    for iran, p in {"calibrated": 0.27, "restrain_proxies": 0.22, "revenge": 0.31}.items():
        assert _share_about(t[(0.3, iran)]["outcome"] != "chronic_harassment", p)
    # calibrated: Iran fires after about two in three leadership strikes, US deaths hardly
    # move; 26% spiral, 1% war
    cal = t[(0.3, "calibrated")]
    assert _share_about(cal.loc[cal["decapitations"] > 0, "iran_direct_strikes"] > 0, 0.67)
    assert _mean_about(cal["killed_us"] - t[(0, "calibrated")]["killed_us"], 0)
    assert _share_about(cal["outcome"] == "spiral", 0.26)
    assert _share_about(cal["outcome"] == "war", 0.01)
    # restrain proxies: never fires; 22% spiral, no war
    res = t[(0.3, "restrain_proxies")]
    assert (
        res["iran_direct_strikes"].sum() == 0
        and shares[(0.3, "restrain_proxies")].get("war", 0) == 0
    )
    assert _share_about(res["outcome"] == "spiral", 0.22)
    # revenge: US deaths from about 3.5 to 6.0, about 12 more where its missiles flew;
    # 16% war, 4% withdrawal; withdrawals only under revenge (1% without the assault route)
    rev = t[(0.3, "revenge")]
    assert _mean_about(t[(0, "revenge")]["killed_us"], 3.5) and _mean_about(rev["killed_us"], 6.0)
    extra = (rev["killed_us"] - t[(0, "revenge")]["killed_us"])[rev["iran_direct_strikes"] > 0]
    assert _mean_about(extra, 12)
    assert _share_about(rev["outcome"] == "war", 0.16)
    assert _share_about(rev["outcome"] == "withdrawal", 0.04)
    withdrew = [k for k, s in shares.items() if s.get("withdrawal", 0) > 0]
    assert withdrew == [(0, "revenge"), (0.3, "revenge")]
    assert _share_about(t[(0, "revenge")]["outcome"] == "withdrawal", 0.01)
    for iran in doctrines:
        # the leadership strike leaves the share reaching rung 5 where it was
        assert (t[(0, iran)]["max_rung"] >= 5).mean() == (t[(0.3, iran)]["max_rung"] >= 5).mean()
    # attacks: up about 0.3 (calibrated) and 0.2 (restrain proxies), down about 0.4 (revenge)
    change = {i: t[(0.3, i)]["attacks_per_month"] - t[(0, i)]["attacks_per_month"]
              for i in ("calibrated", "restrain_proxies", "revenge")}  # fmt: skip
    assert _mean_about(change["calibrated"], 0.3) and change["calibrated"].mean() > 0
    assert _mean_about(change["restrain_proxies"], 0.2) and change["restrain_proxies"].mean() > 0
    assert _mean_about(change["revenge"], -0.4) and change["revenge"].mean() < 0
    pd.testing.assert_frame_equal(t[(0.3, "talks_first")], t[(0.3, "calibrated")])
