"""Comparisons on common random numbers: differences show the rule, not the noise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.compare import compare, paired_difference, paired_share_difference
from sim.config import ConfigError

BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_identical_variants_differ_by_exactly_zero():
    """The same rules on the same draws give the same runs: no noise at all."""
    c = compare({"a": ["days=120"], "b": ["days=120"]}, replicates=50, seed=3)
    diffs = c.table.dropna(subset=["difference"])
    assert (
        (diffs.difference == 0).all() and (diffs.ci_low == 0).all() and (diffs.ci_high == 0).all()
    )


@pytest.mark.slow
def test_a_rule_that_acts_late_leaves_the_early_days_identical():
    """Israel's interdiction only changes replicates from its first strike on."""
    c = compare(
        ["doctrine/israel=interdict_iraq_and_syria", "doctrine/israel=none"],
        common=["days=200"],
        replicates=80,
        seed=5,
    )
    base, off = c.rungs.values()
    first_strike = c.results["doctrine/israel=interdict_iraq_and_syria"].events
    assert len(first_strike) > 0
    # before any Israeli strike could matter (the first day), every replicate is the same
    assert np.array_equal(base[0], off[0])
    assert not np.array_equal(base, off)


@pytest.mark.slow
def test_comparison_table_has_intervals_that_cover_the_paired_mean():
    c = compare(
        ["doctrine/us=red_line", "doctrine/us=syria_only", "doctrine/us=max_pressure"],
        common=["scenario=dec2019_crisis"],
        replicates=120,
        seed=2,
    )
    t = c.table
    assert set(t.variant) == {
        "doctrine/us=red_line",
        "doctrine/us=syria_only",
        "doctrine/us=max_pressure",
    }
    others = t[t.variant != "doctrine/us=red_line"]
    assert (others.ci_low <= others.difference).all() and (
        others.difference <= others.ci_high
    ).all()
    row = t[(t.metric == "decapitations") & (t.variant == "doctrine/us=syria_only")].iloc[0]
    assert row["mean"] == 0.0  # syria_only never strikes a group's leaders
    strikes = t[(t.metric == "us_strikes") & (t.variant == "doctrine/us=max_pressure")].iloc[0]
    assert strikes.ci_low > 0  # a low threshold strikes more, beyond doubt
    assert "Comparison of 3 variants" in repr(c)
    fig = c.figure()
    assert len(fig.axes) == 3


def test_paired_difference_matches_a_t_interval():
    rng = np.random.default_rng(0)
    base = rng.normal(size=400)
    values = base + 0.3 + rng.normal(scale=0.1, size=400)
    mean, low, high = paired_difference(values, base, 0.95)
    assert mean == pytest.approx(0.3, abs=0.02)
    assert high - low == pytest.approx(2 * 1.966 * 0.1 / 20, rel=0.05)


def test_paired_share_difference_is_newcombes_interval():
    """Newcombe (1998), Statistics in Medicine 17, example (a) of his table II: 36 pairs
    both yes, 12 yes-no, 2 no-yes, none both no; his method 10 gives 0.0569 to 0.3404."""
    variant = np.array([True] * 36 + [True] * 12 + [False] * 2)
    baseline = np.array([True] * 36 + [False] * 12 + [True] * 2)
    diff, low, high = paired_share_difference(variant, baseline, 0.95)
    assert diff == pytest.approx(0.2)
    assert (round(low, 4), round(high, 4)) == (0.0569, 0.3404)
    assert paired_difference(variant.astype(float), baseline.astype(float)) == (diff, low, high)


def test_a_difference_of_shares_stays_within_its_range():
    """Where a t interval would pass 1 (a share going from 1 in 20 to all), the interval
    of shares stays within [-1, 1] and holds the difference."""
    variant, baseline = np.ones(20), np.r_[1.0, np.zeros(19)]
    d = variant - baseline
    t_high = d.mean() + 2.093 * d.std(ddof=1) / np.sqrt(20)
    assert t_high > 1
    diff, low, high = paired_difference(variant, baseline)
    assert -1 <= low <= diff <= high <= 1


def test_variants_must_share_the_random_draws():
    with pytest.raises(ConfigError, match="same seed"):
        compare({"a": ["days=50"], "b": ["days=60"]}, replicates=5)
    with pytest.raises(ConfigError, match="at least two"):
        compare(["doctrine/us=red_line"], replicates=5)


def _compare_cli(*args, cwd):
    return subprocess.run(
        [str(BIN / "escalation-compare"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_compare_command_prints_and_writes(tmp_path, capsys):
    """In-process (the README's command runs in a process of its own below)."""
    from sim.compare import main

    out = tmp_path / "cmp"
    width = pd.get_option("display.width")
    with pd.option_context("display.width", width):  # the command sets it for its table
        main([
            "doctrine/us=red_line", "doctrine/us=syria_only", "--common", "days=90",
            "--replicates", "40", "--out", str(out),
        ])  # fmt: skip
    printed = capsys.readouterr().out
    assert "us_strikes" in printed and "ci_low" in printed and f"Written: {out}" in printed
    table = pd.read_csv(out / "compare.csv")
    assert set(table.columns) >= {"metric", "variant", "mean", "difference", "ci_low", "ci_high"}
    assert (out / "compare.png").stat().st_size > 10_000
    assert len(pd.read_parquet(out / "variant_1.parquet")) == 40


def test_compare_command_rejects_bad_variants_on_one_line(capsys):
    from sim.compare import main

    for variants, needle in (
        (["doctrine/us=red_line", "doctrine/us=nonsense"], "nonsense"),
        (["doctrine/us=red_line", "doctrine.us.response_lag_days=-1"], "response_lag_days = -1"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(variants)
        assert exit_.value.code == 2
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("escalation-compare: error:"), err
        assert needle in lines[0] and out == ""


@pytest.mark.slow
def test_readme_compare_command_runs(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    commands = [
        line.split() for line in readme.splitlines() if line.startswith("escalation-compare ")
    ]
    assert commands
    for command in commands:
        proc = _compare_cli(*command[1:], cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "Comparison of" in proc.stdout
