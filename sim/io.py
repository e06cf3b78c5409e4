"""Results files, written atomically (temporary name in the same folder, then rename), and
where a result came from (configuration hash, source tree, machine).

A run's figures are drawn by :mod:`sim.plots`, which imports nothing from here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from sim import plots
from sim.config import BaseConfig
from sim.engine import RunResult
from sim.files import atomic_write
from sim.metrics import summary


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as Parquet, atomically."""
    return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_json(data: Any, path: Path) -> Path:
    """Write JSON (indented, UTF-8), atomically."""
    return atomic_write(
        path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    )


def config_hash(config: BaseConfig) -> str:
    """SHA-256 of the resolved configuration (sorted JSON), the run's identity."""
    text = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def git_commit() -> str | None:
    """The source tree's commit when the package runs from a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def source_tree() -> dict[str, Any]:
    """The git commit of the sources and whether they had uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        status = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        dirty: bool | None = bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        dirty = None
    return {"git_commit": git_commit(), "git_dirty": dirty}


def machine() -> dict[str, Any]:
    """The machine a benchmark's figures were measured on."""
    processor = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                processor = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "node": platform.node(),
        "processor": processor or platform.machine(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }


def provenance(config: BaseConfig) -> dict[str, Any]:
    """Where a result came from: config hash, seed, package version, git commit."""
    return {
        "config_hash": config_hash(config),
        "seed": config.seed,
        "package_version": sim.__version__,
        "git_commit": git_commit(),
    }


def write_run(
    result: RunResult, out_dir: Path, figures: bool = True, ensemble: bool = False
) -> dict[str, Path]:
    """Write events, daily series, the ensemble table, summary and figures into ``out_dir``.

    ``daily.parquet`` holds ``result.daily_table`` (full series or quantiles);
    ``ensemble.parquet`` (one row per replicate) is written when the run has more than
    one replicate, or always with ``ensemble`` (sweep jobs). Figures are of the run's first
    replicate. Data files come first, so a failure while drawing never loses them.
    """
    out_dir = Path(out_dir)
    paths = {
        "events": write_parquet(result.events, out_dir / "events.parquet"),
        "daily": write_parquet(result.daily_table, out_dir / "daily.parquet"),
    }
    if ensemble or len(result.replicates) > 1:
        paths["ensemble"] = write_parquet(result.replicates, out_dir / "ensemble.parquet")
    data = summary(result)
    data["provenance"] = provenance(result.config)
    paths["summary"] = write_json(data, out_dir / "summary.json")
    if figures:
        first = int(result.replicates["replicate"].iloc[0])
        timeline, map_ = plots.save_figures(result, out_dir / "figures", replicate=first)
        paths["timeline"], paths["map"] = timeline, map_
    return paths
