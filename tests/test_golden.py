"""The model reproduces its golden outputs bit for bit (see tests/golden/regenerate.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
from regenerate import CONFIGURATIONS, HERE, tables  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONFIGURATIONS))
def test_outputs_equal_the_golden_files(name):
    stored = {path.stem: pd.read_parquet(path) for path in (HERE / name).glob("*.parquet")}
    assert stored, f"no golden files for {name}: run tests/golden/regenerate.py"
    now = tables(name)
    assert set(now) == set(stored)
    for table, frame in now.items():
        pd.testing.assert_frame_equal(frame, stored[table], check_exact=True, obj=table)
