"""The notebooks run clean from top to bottom at a small size (jupytext pairs run by nbmake)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
#: seconds one notebook may take at the small size (kernel start included)
BUDGET = 60


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


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_under_nbmake_at_small_size(path, tmp_path):
    ipynb = tmp_path / f"{path.stem}.ipynb"
    jupytext.write(jupytext.read(path), ipynb)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the project's settings
    env = {**os.environ, "ESCALATION_NOTEBOOK_SCALE": "small"}
    env.pop("ESCALATION_SWEEP", None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-q", "-p", "no:cacheprovider",
         "-c", str(tmp_path / "pytest.ini"), str(ipynb)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
    assert seconds < BUDGET, f"{path.stem} took {seconds:.0f} s at the small size"
