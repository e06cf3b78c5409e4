"""A sweep's consolidated results, rebuilt from its job folders at any time.

``escalation-report <sweep dir>`` (and the Hydra callback at the end of every multirun)
writes at the sweep's root:

- ``sweep.parquet``: one row per finished job and replicate: ``job``, every swept
  parameter (named by its override key), every column of the job's replicate table
  (``ensemble.parquet``) and ``attacks_per_month``;
- ``sweep_summary.csv``: one row per job (finished, failed, damaged or missing): status, swept
  values, the headline shares and, for each metric, its mean and 90% interval across
  replicates;
- ``figures/``: heatmaps for two swept parameters, lines with intervals for one.

Jobs are read one at a time and appended to the Parquet file, so memory stays that of one
job however large the sweep. A partial sweep gives a partial report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.errors import OneLineArgumentParser, fail
from sim.folders import FolderError, check_writable
from sim.io import atomic_write
from sim.plots.sweep import save_sweep_figures
from sim.stops import command
from sim.sweep import (
    DAYS_PER_MONTH,
    ERROR_FILE,
    JOB_FILE,
    SweepError,
    SweepPlan,
    headline,
    job_dirs,
    read_job,
)

PROG = "escalation-report"
SWEEP_TABLE = "sweep.parquet"
SUMMARY_TABLE = "sweep_summary.csv"
#: the 90% interval of the summary
QUANTILES = (0.05, 0.95)
#: columns of a replicate table that are not metrics
NOT_METRICS = ("replicate", "outcome")


@dataclass
class Report:
    """What a report wrote and what it found."""

    sweep_dir: Path
    plan: SweepPlan
    summary: pd.DataFrame  # one row per job
    paths: dict[str, Path]

    @property
    def counts(self) -> dict[str, int]:
        return self.summary["status"].value_counts().to_dict()


def _column_type(values: list[Any]) -> pa.DataType:
    """One Arrow type for a swept parameter whatever each job's override parsed to."""
    if all(isinstance(v, bool) for v in values):
        return pa.bool_()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pa.int64()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pa.float64()
    return pa.string()


def _cast(value: Any, kind: pa.DataType) -> Any:
    if value is None:
        return None
    if kind == pa.string():
        return str(value)
    if kind == pa.float64():
        return float(value)
    return value


def _job_table(job_dir: Path, job: int, params: dict[str, Any], plan: SweepPlan, days: int):
    """A finished job's replicate table with the job number and swept values in front."""
    table = pd.read_parquet(job_dir / "ensemble.parquet")
    table.insert(0, "job", job)
    for i, key in enumerate(plan.keys, start=1):
        kind = _column_type(plan.values[key])
        table.insert(i, key, _cast(params.get(key), kind))
    table["attacks_per_month"] = table["attacks"] * DAYS_PER_MONTH / max(days, 1)
    return table


def _arrow_schema(frame: pd.DataFrame, plan: SweepPlan) -> pa.Schema:
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    for key in plan.keys:
        i = schema.get_field_index(key)
        schema = schema.set(i, pa.field(key, _column_type(plan.values[key])))
    return schema


def _job_summary(table: pd.DataFrame, days: int) -> dict[str, Any]:
    """Per-job headline shares, and mean and 90% interval of each numeric metric."""
    row: dict[str, Any] = headline(table, days)
    for outcome in ("deterrence_holds", "chronic_harassment", "spiral", "war"):
        row[f"p_{outcome}"] = float((table["outcome"] == outcome).mean())
    metrics = [c for c in table.columns if c not in NOT_METRICS and c != "job"]
    numeric = table[metrics].select_dtypes("number")
    lo, hi = QUANTILES
    for name in numeric.columns:
        values = numeric[name].to_numpy(dtype=float)
        row[f"{name}_mean"] = float(values.mean())
        row[f"{name}_q05"] = float(np.quantile(values, lo))
        row[f"{name}_q95"] = float(np.quantile(values, hi))
    return row


def _iter_jobs(sweep_dir: Path, plan: SweepPlan) -> Iterator[tuple[int, Path | None, dict]]:
    """(job number, folder or None, record as read or {}) for every job of the plan and
    every folder found, in job order (a record that is not a mapping is the caller's to
    report as damaged)."""
    found = {int(p.name): p for p in job_dirs(sweep_dir)}
    for job in range(max([plan.n_jobs, *[n + 1 for n in found]])):
        folder = found.get(job)
        record = read_job(folder) if folder else None
        yield job, folder, {} if record is None else record


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def consolidate(sweep_dir: Path | str, figures: bool = True) -> Report:
    """Build ``sweep.parquet``, ``sweep_summary.csv`` and the figures of a (partial) sweep."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise SweepError(f"{sweep_dir}: no such folder")
    plan = SweepPlan.read(sweep_dir)
    rows: list[dict[str, Any]] = []
    table_path = sweep_dir / SWEEP_TABLE
    writer: pq.ParquetWriter | None = None
    tmp = table_path.with_name(f".{SWEEP_TABLE}.tmp")
    try:
        for job, folder, record in _iter_jobs(sweep_dir, plan):
            if not isinstance(record, dict) or not isinstance(record.get("params", {}), dict):
                record = {"status": "damaged", "error": f"{JOB_FILE}: not a job record"}
            status = record.get("status", "missing" if folder is None else "incomplete")
            params = record.get("params", {})
            row: dict[str, Any] = {"job": job, "status": status, **params}
            if status == "ok" and not (folder / "ensemble.parquet").is_file():
                status = row["status"] = "incomplete"
            table = None
            if status == "ok":
                try:  # a damaged job's files are reported, and the other jobs go on
                    days = int(record["days"])
                    table = _job_table(folder, job, params, plan, days)
                    data = pa.Table.from_pandas(
                        table, writer.schema if writer else _arrow_schema(table, plan),
                        preserve_index=False,
                    )  # fmt: skip
                except (KeyError, TypeError, ValueError, OSError, pa.ArrowException) as exc:
                    status = row["status"] = "damaged"
                    table = None
                    row["error"] = f"cannot be read ({type(exc).__name__}: {exc})".split("\n")[0]
            if status == "damaged":
                row.setdefault("error", record.get("error", ""))
            if table is not None:
                if writer is None:
                    writer = pq.ParquetWriter(tmp, data.schema)
                writer.write_table(data)
                row.update(replicates=len(table), days=days, seconds=record.get("seconds"))
                row.update(_job_summary(table, days))
            elif status == "failed":
                row["error"] = record.get("error", "")
                row["error_file"] = (folder / ERROR_FILE).relative_to(sweep_dir).as_posix()
            rows.append(row)
        if writer is not None:
            writer.close()
            writer = None
            tmp.replace(table_path)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    summary = pd.DataFrame(rows)
    for column in ("replicates", "days"):
        if column in summary:
            summary[column] = summary[column].astype("Int64")
    for key in plan.keys:  # jobs that never started still get their place in the table
        if key not in summary:
            summary[key] = None
    front = ["job", "status", *plan.keys]
    summary = summary[front + [c for c in summary.columns if c not in front]]
    paths = {}
    if table_path.exists():
        paths["table"] = table_path
    paths["summary"] = atomic_write(
        sweep_dir / SUMMARY_TABLE, lambda p: summary.to_csv(p, index=False)
    )
    if figures and (summary["status"] == "ok").any():
        paths.update(save_sweep_figures(summary, plan, sweep_dir / "figures"))
    return Report(sweep_dir, plan, summary, paths)


def describe(report: Report) -> str:
    """The lines a user reads after a report."""
    counts = report.counts
    total = len(report.summary)
    done = counts.get("ok", 0)
    parts = [f"{done}/{total} jobs finished"]
    for status in ("failed", "damaged", "incomplete", "missing"):
        if counts.get(status):
            parts.append(f"{counts[status]} {status}")
    lines = [f"Sweep {report.sweep_dir}: " + ", ".join(parts)]
    lines += [f"  {p.relative_to(report.sweep_dir).as_posix()}" for p in report.paths.values()]
    failed = report.summary[report.summary["status"] == "failed"]
    for _, row in failed.head(5).iterrows():
        lines.append(f"  job {row['job']} failed: {row['error']} ({row['error_file']})")
    if "error" in report.summary:
        damaged = report.summary[(report.summary["status"] == "damaged")
                                 & report.summary["error"].notna()]  # fmt: skip
        for _, row in damaged.head(5).iterrows():
            lines.append(f"  job {row['job']} damaged: {row['error']}")
    if len(failed) > 5:
        lines.append(f"  ... and {len(failed) - 5} more failed jobs (see {SUMMARY_TABLE})")
    return "\n".join(lines)


class SweepCallback(Callback):
    """Hydra callback: consolidate the sweep when a multirun ends (all launchers).

    ``failed`` keeps the number of failed jobs of the last sweep of this process, from
    which ``escalation-sim`` sets its exit status.
    """

    failed = 0

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        plan = SweepPlan.from_hydra(config.hydra)
        plan.write(Path(config.hydra.sweep.dir))
        keys = ", ".join(f"{k} ({len(v)})" for k, v in plan.values.items()) or "no swept keys"
        print(f"Sweep of {plan.n_jobs} jobs over {keys}", flush=True)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not (sweep_dir / "multirun.yaml").is_file():
            return
        report = consolidate(sweep_dir)
        SweepCallback.failed = report.counts.get("failed", 0)
        print(describe(report), flush=True)


@command(PROG)
def main(argv: list[str] | None = None) -> None:
    """Console entry point: ``escalation-report <sweep dir> [--no-figures]``."""
    parser = OneLineArgumentParser(
        prog=PROG,
        description="Rebuild a sweep's sweep.parquet, sweep_summary.csv and figures from its "
        "job folders (works on a partial or interrupted sweep).",
    )
    parser.add_argument("sweep_dir", type=Path, help="the sweep folder (holds multirun.yaml)")
    parser.add_argument("--no-figures", action="store_true", help="tables only")
    args = parser.parse_args(argv)
    try:
        if args.sweep_dir.is_dir():
            check_writable(args.sweep_dir, "sweep folder")
        report = consolidate(args.sweep_dir, figures=not args.no_figures)
    except (SweepError, FolderError) as exc:
        fail(PROG, str(exc))
    print(describe(report))


if __name__ == "__main__":
    main()
