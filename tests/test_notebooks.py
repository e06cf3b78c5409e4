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


def test_the_four_notebooks_are_there():
    names = [p.stem for p in NOTEBOOKS]
    assert names == [
        "01_compare_doctrines", "02_december_2019", "03_sweep_analysis",
        "04_sensitivity_and_robustness",
    ]  # fmt: skip


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
    # attacks a month: about 11.7 under restraint, 2.5 under maximum pressure, 5.5 under
    # proportional responses, then Syria-only, red line and decapitation at 7.4, 7.5 and 7.9
    quoted = {"restraint": 11.7, "max_pressure": 2.5, "proportional": 5.5, "syria_only": 7.4,
              "red_line": 7.5, "decapitation": 7.9}  # fmt: skip
    assert all(_mean_about(t[n]["attacks_per_month"], v) for n, v in quoted.items())
    apm = {n: v["attacks_per_month"].mean() for n, v in t.items()}
    assert (
        apm["max_pressure"]
        < apm["proportional"]
        < min(apm[n] for n in ("red_line", "decapitation", "syria_only"))
    )
    # restraint never strikes, yet nearly a third of its replicates reach rung 5, all through an
    # embassy assault, and none higher; Syria-only reaches rung 5 just as often
    r = t["restraint"]
    assert r["us_strikes"].sum() == 0 and r["max_rung"].max() == 5
    assert ((r["max_rung"] >= 5) == (r["embassy_assaults"] > 0)).all()
    assert _share_about(r["max_rung"] >= 5, 0.31)
    # rung 5 or above: red line 89%, decapitation 92%, Syria-only 31%, the other two all
    for n, p in {"red_line": 0.89, "decapitation": 0.92, "syria_only": 0.31}.items():
        assert _share_about(t[n]["max_rung"] >= 5, p)
    assert (t["proportional"]["max_rung"] >= 5).all() and (t["max_pressure"]["max_rung"] >= 5).all()
    # the red line never goes above rung 5: no missiles from Iran, all chronic harassment
    assert t["red_line"]["max_rung"].max() == 5
    # leadership strikes only under decapitation (24%) and maximum pressure (84%)
    struck = {n: v["decapitations"] > 0 for n, v in t.items()}
    assert {n for n, s in struck.items() if s.any()} == {"decapitation", "max_pressure"}
    assert _share_about(struck["decapitation"], 0.24)
    assert _share_about(struck["max_pressure"], 0.84)
    # Iran's missiles: red line and restraint never, decapitation 11% (every time after a
    # leadership strike, 47% of which it answered), Syria-only 0.1%, proportional 2.7%,
    # maximum pressure 85% (7.8% without any leadership strike)
    fired = {n: v["iran_direct_strikes"] > 0 for n, v in t.items()}
    assert not fired["restraint"].any() and not fired["red_line"].any()
    quoted = {"decapitation": 0.11, "syria_only": 0.001, "proportional": 0.027,
              "max_pressure": 0.85}  # fmt: skip
    assert all(_share_about(fired[n], p) for n, p in quoted.items())
    assert not (fired["decapitation"] & ~struck["decapitation"]).any()
    assert _share_about(fired["decapitation"][struck["decapitation"]], 0.47)
    assert _share_about(fired["max_pressure"] & ~struck["max_pressure"], 0.078)
    # proportional responses: each time after its strikes had hit Iranian personnel in Syria,
    # almost always twice or more (the same replicates run alone, every event kept)
    alone = sim.run("doctrine/us=proportional", "output.events=all", seed=0, **size)
    pd.testing.assert_frame_equal(alone.replicates, t["proportional"])
    events = alone.events
    first = events.query("kind == 'iran_direct_strike'").groupby("replicate")["day"].min()
    hits = events.query("kind == 'iranians_struck'").join(first.rename("first"), on="replicate")
    hits = hits[hits["day"] <= hits["first"]].groupby("replicate").size()
    hits = hits.reindex(first.index, fill_value=0)
    assert len(hits) == fired["proportional"].sum() and (hits >= 1).all()
    assert (hits >= 2).mean() >= 0.9
    # only proportional responses and maximum pressure brought Iran's missiles without a
    # leadership strike in more than one replicate of the thousand
    alone = {n: int((fired[n] & ~struck[n]).sum()) for n in names}
    assert {n for n, k in alone.items() if k > 1} == {"proportional", "max_pressure"}
    # regimes: restraint and red line all chronic harassment; spiral and war shares of the others
    assert shares["restraint"].get("chronic_harassment") == 1.0
    assert shares["red_line"].get("chronic_harassment") == 1.0
    quoted = {"decapitation": (0.23, 0.013), "syria_only": (0.001, 0),
              "proportional": (0.024, 0.003), "max_pressure": (0.73, 0.18)}  # fmt: skip
    for n, (spiral, war) in quoted.items():
        assert _share_about(t[n]["outcome"] == "spiral", spiral)
        assert _share_about(t[n]["outcome"] == "war", war)
    assert shares["syria_only"].get("war", 0) == 0
    # maximum pressure: 6.5% chronic harassment, 1.7% deterrence holds (no other doctrine's)
    assert _share_about(t["max_pressure"]["outcome"] == "chronic_harassment", 0.065)
    assert _share_about(t["max_pressure"]["outcome"] == "deterrence_holds", 0.017)
    held = {n for n, v in t.items() if (v["outcome"] == "deterrence_holds").any()}
    assert held == {"max_pressure"}
    # US deaths: every responding doctrine's interval sits below zero: Syria-only, red line and
    # decapitation about -0.31, -0.30 and -0.25; proportional about -0.74, maximum pressure -1.4
    d = c.differences(["killed_us"]).set_index("variant")
    assert (d["ci_high"] < 0).all() and set(d.index) == set(names) - {"restraint"}
    quoted = {"syria_only": -0.31, "red_line": -0.30, "decapitation": -0.25,
              "proportional": -0.74, "max_pressure": -1.4}  # fmt: skip
    assert all(_difference_about(d.loc[n], v) for n, v in quoted.items())
    assert d.loc["max_pressure", "ci_high"] < d.loc["proportional", "ci_low"]
    # no US death: two replicates in five under maximum pressure, 9% under restraint
    assert _share_about(t["max_pressure"]["killed_us"] == 0, 0.39)
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
    # a leadership strike in about one crisis replicate in ten, every time after an embassy
    # assault; Iran's missiles in about 5%: after 52% of the leadership strikes, never without
    # one (the US strikes about 1.3 times a replicate)
    struck, fired = crisis["decapitations"] > 0, crisis["iran_direct_strikes"] > 0
    assert _share_about(struck, 0.1) and _share_about(fired, 0.05)
    assert (crisis.loc[struck, "embassy_assaults"] > 0).all()
    assert _share_about(fired[struck], 0.52)
    assert not (fired & ~struck).any()
    assert _mean_about(crisis["us_strikes"], 1.3)
    # chronic harassment 90%, spiral 9.6%, war 0.4% (two replicates): the spirals and wars are
    # exactly the replicates with a leadership strike
    for outcome, p in {"chronic_harassment": 0.9, "spiral": 0.096, "war": 0.004}.items():
        assert _share_about(crisis["outcome"] == outcome, p)
    assert (crisis["outcome"] == "war").sum() == 2
    assert (struck == crisis["outcome"].isin(["spiral", "war"])).all()
    # on the same draws without it: no leadership strike, no missiles from Iran, all chronic
    # harassment
    assert counter["decapitations"].sum() == 0 and counter["iran_direct_strikes"].sum() == 0
    assert (counter["outcome"] == "chronic_harassment").all()
    d = pair.differences(["p_rung5", "max_rung", "us_strikes", "attacks_per_month", "killed_us"])
    d = d.set_index("metric")
    quoted = {"p_rung5": -0.09, "max_rung": -0.35, "us_strikes": -0.31,
              "attacks_per_month": -0.34, "killed_us": -0.06}  # fmt: skip
    assert all(_difference_about(d.loc[m], v) for m, v in quoted.items())
    # attacks and US deaths moved little but measurably: intervals clear of zero
    assert d.loc["attacks_per_month", "ci_high"] < 0 and d.loc["killed_us", "ci_high"] < 0
    # ... about 4% of the crisis's 9.5 attacks a month
    assert _mean_about(crisis["attacks_per_month"], 9.5)
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
    # without the assault route: chronic harassment in 99% to 100%, at about 4.1, 7.5 and 9.5
    # attacks a month; about one replicate in a hundred, or none, still sees a leadership strike
    # (the lethal-campaign route), each of them then spiralling, and Iran answers none of them
    for iran, p in {"calibrated": 1.0, "restrain_proxies": 0.99, "revenge": 0.99}.items():
        assert _share_about(t[(0, iran)]["outcome"] == "chronic_harassment", p)
        assert _share_about(t[(0, iran)]["decapitations"] > 0, 0.01)
    assert sum(t[(0, iran)]["decapitations"].sum() for iran in doctrines) > 0
    for iran in doctrines:
        v = t[(0, iran)]
        assert ((v["decapitations"] > 0) == (v["outcome"] == "spiral")).all()
        assert v["iran_direct_strikes"].sum() == 0
    for iran, a in {"restrain_proxies": 4.1, "calibrated": 7.5, "revenge": 9.5}.items():
        assert _mean_about(t[(0, iran)]["attacks_per_month"], a)
    # nowhere in the grid does Iran fire without a leadership strike
    for v in t.values():
        assert not ((v["iran_direct_strikes"] > 0) & (v["decapitations"] == 0)).any()
    # the assault route on: 24% to 30% out of chronic harassment
    for iran, p in {"calibrated": 0.28, "restrain_proxies": 0.24, "revenge": 0.3}.items():
        assert _share_about(t[(0.3, iran)]["outcome"] != "chronic_harassment", p)
    # calibrated: Iran fires after a little over half (57%) of the leadership strikes, US deaths
    # hardly move; 25% spiral, 3% war
    cal = t[(0.3, "calibrated")]
    assert _share_about(cal.loc[cal["decapitations"] > 0, "iran_direct_strikes"] > 0, 0.57)
    assert _mean_about(cal["killed_us"] - t[(0, "calibrated")]["killed_us"], 0)
    assert _share_about(cal["outcome"] == "spiral", 0.25)
    assert _share_about(cal["outcome"] == "war", 0.03)
    # restrain proxies: never fires; 24% spiral, no war
    res = t[(0.3, "restrain_proxies")]
    assert (
        res["iran_direct_strikes"].sum() == 0
        and shares[(0.3, "restrain_proxies")].get("war", 0) == 0
    )
    assert _share_about(res["outcome"] == "spiral", 0.24)
    # revenge: US deaths from about 2.6 to 5.4, about 17.5 more where its missiles flew;
    # 13% war, 3% withdrawal; withdrawals only under revenge with the assault route on
    rev = t[(0.3, "revenge")]
    assert _mean_about(t[(0, "revenge")]["killed_us"], 2.6) and _mean_about(rev["killed_us"], 5.4)
    extra = (rev["killed_us"] - t[(0, "revenge")]["killed_us"])[rev["iran_direct_strikes"] > 0]
    assert _mean_about(extra, 17.5)
    assert _share_about(rev["outcome"] == "war", 0.13)
    assert _share_about(rev["outcome"] == "withdrawal", 0.03)
    withdrew = [k for k, s in shares.items() if s.get("withdrawal", 0) > 0]
    assert withdrew == [(0.3, "revenge")]
    for iran in doctrines:
        # the leadership strike leaves the share reaching rung 5 where it was
        assert (t[(0, iran)]["max_rung"] >= 5).mean() == (t[(0.3, iran)]["max_rung"] >= 5).mean()
    # attacks: up about 0.4 (calibrated) and 0.3 (restrain proxies), down about 0.17 (revenge)
    change = {i: t[(0.3, i)]["attacks_per_month"] - t[(0, i)]["attacks_per_month"]
              for i in ("calibrated", "restrain_proxies", "revenge")}  # fmt: skip
    assert _mean_about(change["calibrated"], 0.4) and change["calibrated"].mean() > 0
    assert _mean_about(change["restrain_proxies"], 0.3) and change["restrain_proxies"].mean() > 0
    assert _mean_about(change["revenge"], -0.17) and change["revenge"].mean() < 0
    # ... the fall under revenge within the noise, of about one standard error
    se = change["revenge"].std() / len(change["revenge"]) ** 0.5
    assert 0.5 < -change["revenge"].mean() / se < 1.5
    pd.testing.assert_frame_equal(t[(0.3, "talks_first")], t[(0.3, "calibrated")])


@pytest.mark.slow
def test_reading_of_04_sensitivity_and_robustness_holds_at_full_size():
    from sim.analysis.discover import run_discovery
    from sim.analysis.sensitivity import run_sensitivity
    from sim.analysis.tournament import run_tournament

    size = _full_size("04_sensitivity_and_robustness")
    days, replicates = f"days={size['days']}", size["replicates"]
    # the notebook's three analyses, same calls, same seed: the numbers are those it shows
    indices = run_sensitivity(
        days, n=size["sobol_n"], replicates=replicates,
        outputs="attacks_per_month,us_deaths,p_rung5,p_war",
    )  # fmt: skip
    first = {o: indices.ranked(o).set_index("parameter") for o in indices.meta["outputs"]}
    # attacks: convoy traffic, S1 about 0.91; US deaths: rocket lethality, S1 about 0.90
    attacks, deaths, rung5 = first["attacks_per_month"], first["us_deaths"], first["p_rung5"]
    assert attacks.index[0] == "actors.convoys_per_day"
    assert attacks.loc["actors.convoys_per_day", "S1"] == pytest.approx(0.91, abs=0.02)
    assert deaths.index[0] == "weapons.rocket.kill_per_munition"
    assert deaths.loc["weapons.rocket.kill_per_munition", "S1"] == pytest.approx(0.90, abs=0.02)
    # rung 5: both, convoy traffic first, through their interaction: ST about 0.62 and 0.54
    # above S1 0.36 and 0.32
    assert list(rung5.index[:2]) == ["actors.convoys_per_day", "weapons.rocket.kill_per_munition"]
    for name, st, s1 in (
        ("actors.convoys_per_day", 0.62, 0.36),
        ("weapons.rocket.kill_per_munition", 0.54, 0.32),
    ):
        assert rung5.loc[name, "ST"] == pytest.approx(st, abs=0.02)
        assert rung5.loc[name, "S1"] == pytest.approx(s1, abs=0.02)
    # P(war): replicate noise about as large as the spread between points
    assert 0.8 < indices.noise["p_war"] < 1.2
    found = run_discovery(days, points=size["points"], replicates=replicates, outcomes="war,spiral")
    share = found.meta["share_of_replicates"]
    assert share["war"] == pytest.approx(0.034, abs=0.002)
    assert 190 <= (found.replicates["outcome"] == "war").sum() <= 210  # "about 200"
    assert share["spiral"] == pytest.approx(0.28, abs=0.01)
    war = found.box("war")
    assert war.stats["coverage"] >= 0.5 and war.stats["density"] == pytest.approx(0.082, abs=0.002)
    assert 2.25 <= war.stats["density"] / share["war"] < 2.75  # "about two and a half times"
    limits = war.limits.set_index("parameter")
    assert limits.loc["actors.convoys_per_day", "low"] == pytest.approx(0.9, abs=0.05)
    assert limits.loc["doctrine.us.decapitation_probability", "low"] == pytest.approx(0.2, abs=0.02)
    assert limits.loc["doctrine.iran.red_line", "high"] == pytest.approx(3.2, abs=0.05)
    scores = found.scores
    assert scores["war"].idxmax() == "actors.convoys_per_day"
    assert scores["war"].max() == pytest.approx(0.22, abs=0.01)
    spiral_top = scores["spiral"].sort_values(ascending=False)
    assert spiral_top.index[0] == "doctrine.us.decapitation_probability"
    assert set(spiral_top.index[1:3]) == {
        "actors.convoys_per_day", "weapons.rocket.kill_per_munition"
    }  # fmt: skip
    assert spiral_top.iloc[0] == pytest.approx(0.27, abs=0.01)
    assert spiral_top.iloc[1:3].to_numpy() == pytest.approx([0.12, 0.12], abs=0.01)
    spiral = found.box("spiral")
    assert spiral.stats["density"] == pytest.approx(0.37, abs=0.01)
    low = spiral.limits.set_index("parameter").loc["doctrine.us.decapitation_probability", "low"]
    assert low == pytest.approx(0.33, abs=0.01)
    contest = run_tournament(days, worlds=size["worlds"], replicates=replicates)
    ranking = contest.ranking.set_index("us")
    assert (ranking["worlds"] == 120).all()
    robust = {"restraint": 0.99, "red_line": 0.96, "syria_only": 0.91, "proportional": 0.90,
              "decapitation": 0.65, "max_pressure": 0.30}  # fmt: skip
    assert list(contest.ranking["us"]) == list(robust)
    for us, share in robust.items():
        assert ranking.loc[us, "robustness"] == pytest.approx(share, abs=0.006)  # as rounded
    r = ranking.loc["restraint"]
    assert round(r["worlds"] * (1 - r["robustness"])) == 1  # "all but one"
    assert ranking.loc["restraint", "mean_us_deaths"] == pytest.approx(2.1, abs=0.05)
    assert ranking.loc["restraint", "mean_p_war"] == 0
    assert ranking.loc["restraint", "mean_attacks_per_month"] == pytest.approx(11.2, abs=0.05)
    assert ranking.loc["max_pressure", "mean_attacks_per_month"] == pytest.approx(2.3, abs=0.05)
    assert ranking["max_regret_attacks_per_month"].idxmax() == "restraint"
    assert ranking.loc["restraint", "max_regret_attacks_per_month"] == pytest.approx(15.3, abs=0.2)
    pairs = contest.pairs.set_index(["us", "iran"])
    # failing only against revenge
    for us in ("restraint", "red_line", "syria_only", "proportional"):
        assert (pairs.loc[us, "robustness"].drop("revenge") == 1).all()
        assert pairs.loc[(us, "revenge"), "robustness"] < 1
    mp = pairs.loc["max_pressure"]
    assert mp.loc["restrain_proxies", "robustness"] == 1
    assert (mp["robustness"].drop("restrain_proxies") <= 0.11).all()  # "a tenth or none"
    assert mp.loc["revenge", "mean_us_deaths"] == pytest.approx(18, abs=0.5)  # as rounded
    assert mp.loc["revenge", "mean_p_war"] == pytest.approx(0.595, abs=0.005)
    # talks_first is calibrated whenever no talks open
    talks = contest.pairs[contest.pairs["iran"] == "talks_first"].drop(columns="iran")
    calibrated = contest.pairs[contest.pairs["iran"] == "calibrated"].drop(columns="iran")
    pd.testing.assert_frame_equal(talks.reset_index(drop=True), calibrated.reset_index(drop=True))
