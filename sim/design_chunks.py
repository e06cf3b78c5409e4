"""A design run in chunks: across processes on one machine, or as the tasks of a cluster
array job, and resumable after a kill.

The points of a design are cut into ``chunks`` runs of consecutive point numbers. Each
chunk is run as a design of its own (its points batched together) and its rows written,
whole, to ``<out>/chunks/<i>.parquet``; when every chunk's file is there, they are joined
into the design's tables. A point's numbers depend only on the point and the seed
(common random numbers: replicate k draws what it draws in any batch), so the tables are
the same bit for bit however the design is cut, in whatever order or process the chunks
ran. A chunk whose file exists is not run again, so a killed run resumes where it stopped,
each chunk exactly once; ``<out>/chunks/plan.json`` records what was planned (the points,
the settings, the replicates and the number of chunks), and a resumed run that plans
anything else is refused, naming what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.config import ConfigError
from sim.io import atomic_write, write_parquet

if TYPE_CHECKING:
    from sim.design import DesignPlan

#: where a design's chunks go, under its results folder
CHUNKS = "chunks"


class ChunkError(RuntimeError):
    """A chunk's task failed on a cluster (one line naming the chunk and its log)."""


def chunk_points(points: int, chunks: int) -> list[np.ndarray]:
    """The point numbers of each of ``chunks`` chunks: consecutive runs, sizes within one."""
    if chunks < 1:
        raise ConfigError(f"--chunks = {chunks}: must be a whole number >= 1")
    if chunks > points:
        raise ConfigError(f"--chunks = {chunks}: the design has only {points} points")
    return [np.arange(points)[i * points // chunks : (i + 1) * points // chunks]
            for i in range(chunks)]  # fmt: skip


def plan_record(plan: DesignPlan, overrides: Sequence[str], chunks: int) -> dict:
    """What a chunked run plans, as ``plan.json`` records it: a resumed run must plan the
    same (the points' table by its digest, the settings, the replicates, the chunks)."""
    table = plan.points.to_csv(index=False).encode()
    return {
        "points": len(plan.points),
        "points_sha256": hashlib.sha256(table).hexdigest(),
        "overrides": list(overrides),
        "replicates": plan.replicates,
        "chunks": chunks,
    }


def check_plan(out: Path, record: dict) -> None:
    """Record the plan in ``out/chunks/plan.json``, or check it is the one recorded there:
    a chunk of another plan must not be joined to this one's."""
    path = out / CHUNKS / "plan.json"
    if not path.is_file():
        atomic_write(path, lambda tmp: tmp.write_text(json.dumps(record, indent=2) + "\n"))
        return
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable plan ({exc})") from None
    changed = [key for key in record if recorded.get(key) != record[key]]
    if changed:
        what = {"points_sha256": "the design's points", "points": "the number of points"}
        names = ", ".join(what.get(key, key) for key in changed)
        raise ConfigError(
            f"--out {out}: holds chunks of another plan ({names} differ); "
            "give another --out, or the same design and settings to resume"
        )


def chunk_file(out: Path, i: int) -> Path:
    return out / CHUNKS / f"{i}.parquet"


def run_chunk(plan: DesignPlan, points: np.ndarray, out: Path, i: int) -> Path:
    """Run chunk ``i`` (its ``points``) and write its rows, whole, to its file."""
    table = plan.only(points).run().replicates
    path = chunk_file(out, i)
    write_parquet(table, path)
    return path


def run_chunks(
    plan: DesignPlan,
    out: Path,
    chunks: int,
    which: Sequence[int] | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    cluster: str | None = None,
    cluster_settings: dict[str, object] | None = None,
) -> list[int]:
    """Run the chunks ``which`` (default all) whose files are not yet in ``out``, in
    ``workers`` processes, or as the tasks of a job array on ``cluster`` (see
    :func:`run_on_cluster`); returns the chunks run now. ``progress`` is called with the
    number of points done so far (those of chunks found done included)."""
    parts = chunk_points(len(plan.points), chunks)
    wanted = range(chunks) if which is None else which
    todo = [i for i in wanted if not chunk_file(out, i).is_file()]
    done = sum(len(parts[i]) for i in wanted if i not in todo)
    report = progress or (lambda _: None)
    report(done)
    if cluster is not None and todo:
        for i in run_on_cluster(plan, out, parts, todo, cluster, cluster_settings or {}):
            done += len(parts[i])
            report(done)
        return todo
    if workers <= 1 or len(todo) <= 1:
        for i in todo:
            run_chunk(plan, parts[i], out, i)
            done += len(parts[i])
            report(done)
        return todo
    from joblib import Parallel, delayed  # processes only when asked for

    jobs = (delayed(run_chunk)(plan, parts[i], out, i) for i in todo)
    finished = Parallel(n_jobs=workers, return_as="generator_unordered")(jobs)
    for path in finished:
        done += len(parts[int(Path(path).stem)])
        report(done)
    return todo


def missing_chunks(out: Path, chunks: int) -> list[int]:
    """The chunks whose files are not in ``out`` yet."""
    return [i for i in range(chunks) if not chunk_file(out, i).is_file()]


def join_chunks(out: Path, chunks: int) -> pd.DataFrame:
    """The design's rows (``DesignResult.replicates``) from its chunks' files (every chunk
    done), in the order of a run in one piece."""
    tables = [pd.read_parquet(chunk_file(out, i)) for i in range(chunks)]
    table = pd.concat(tables).sort_values(["point", "replicate"], kind="stable")
    return table.reset_index(drop=True)


# --- a job array on a cluster -------------------------------------------------------------

#: the clusters a design's chunks can be sent to: a SLURM job array, or the same array of
#: processes on this machine (what the tests run)
CLUSTERS = ("slurm", "local")
#: the settings of configs/hydra/launcher/slurm.yaml a design's job array takes, as
#: submitit names them
SLURM_SETTINGS = {
    "partition": "slurm_partition",
    "account": "slurm_account",
    "qos": "slurm_qos",
    "timeout_min": "timeout_min",
    "cpus_per_task": "cpus_per_task",
    "mem_gb": "mem_gb",
    "array_parallelism": "slurm_array_parallelism",
    "setup": "slurm_setup",
}


def slurm_settings(config: dict[str, object], given: Sequence[str] = ()) -> dict[str, object]:
    """The job array's settings: those of the sweeps' SLURM launcher (``config``, as
    configs/hydra/launcher/slurm.yaml holds them), then ``KEY=VALUE`` strings given on the
    command line; None values are left to the cluster."""
    chosen = {key: config.get(key) for key in SLURM_SETTINGS}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or key not in SLURM_SETTINGS:
            raise ConfigError(
                f"--slurm {item!r}: must be KEY=VALUE with KEY one of {', '.join(SLURM_SETTINGS)}"
            )
        chosen[key] = int(value) if value.isdigit() else value
    return {SLURM_SETTINGS[k]: v for k, v in chosen.items() if v is not None}


def run_on_cluster(
    plan: DesignPlan,
    out: Path,
    parts: list[np.ndarray],
    todo: Sequence[int],
    cluster: str,
    settings: dict[str, object],
):
    """Run the chunks ``todo`` as one job array on ``cluster`` (submitit, as the sweeps'
    cluster launcher), yielding each chunk as its task finishes; its logs go to
    ``out/chunks/submitit/``. A failed task raises :class:`ChunkError` naming the chunk
    and its log (the chunks done are kept)."""
    import submitit  # the cluster launcher's own dependency

    if cluster not in CLUSTERS:
        raise ConfigError(f"--cluster {cluster!r}: must be one of {', '.join(CLUSTERS)}")
    executor = submitit.AutoExecutor(folder=out / CHUNKS / "submitit", cluster=cluster)
    if cluster == "slurm":
        executor.update_parameters(**settings)
    n = len(todo)
    jobs = executor.map_array(
        run_chunk, [plan] * n, [parts[i] for i in todo], [out] * n, list(todo)
    )
    for i, job in zip(todo, jobs, strict=True):
        try:
            job.result()
        except Exception as exc:  # the task's own error is in its log
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ChunkError(
                f"chunk {i} failed on the {cluster} cluster: {first} (log: {job.paths.stderr})"
            ) from None
        yield i
