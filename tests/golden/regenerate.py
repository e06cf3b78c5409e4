"""Golden outputs: what the model produced for a handful of configurations, bit for bit.

``tests/test_golden.py`` reruns each configuration and compares every table exactly. A
change that is meant to alter the model's numbers regenerates them, and its commit says
why::

    make golden            # or: .venv/bin/python tests/golden/regenerate.py

Each configuration's tables go to ``tests/golden/<name>/<table>.parquet``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.config import compose
from sim.engine import run

HERE = Path(__file__).resolve().parent

#: name -> overrides: the default year at R = 1 and R = 1,000, each period preset, and two
#: other US doctrines (all events and full daily series where R is small, so every column
#: of every table is pinned)
CONFIGURATIONS: dict[str, tuple[str, ...]] = {
    "default_r1": (),
    "default_r1000": ("replicates=1000",),
    "dec2019_crisis": (
        "scenario=dec2019_crisis", "replicates=20", "output.events=all", "output.daily=full",
    ),
    "summer2020_convoys": (
        "scenario=summer2020_convoys", "replicates=20", "output.events=all",
        "output.daily=full",
    ),
    "biden2021": ("scenario=biden2021", "replicates=20", "output.events=all", "output.daily=full"),
    "gaza2023": ("scenario=gaza2023", "replicates=20", "output.events=all", "output.daily=full"),
    "us_red_line": ("doctrine/us=red_line", "replicates=50", "output.events=all"),
    "us_max_pressure": (
        "doctrine/us=max_pressure", "replicates=20", "output.events=all", "output.daily=full",
    ),
}  # fmt: skip

TABLES = ("events", "daily", "replicates", "daily_quantiles")


def tables(name: str) -> dict[str, pd.DataFrame]:
    """The tables of configuration ``name`` as the code computes them now."""
    result = run(compose(*CONFIGURATIONS[name]))
    found = {table: getattr(result, table) for table in TABLES}
    return {table: frame for table, frame in found.items() if frame is not None}


def main(names: list[str]) -> None:
    for name in names or CONFIGURATIONS:
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        for old in folder.glob("*.parquet"):
            old.unlink()
        for table, frame in tables(name).items():
            frame.to_parquet(folder / f"{table}.parquet")
        print(f"{name}: written to {folder.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main(sys.argv[1:])
