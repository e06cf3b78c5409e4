"""The ``escalation-sim`` command: Hydra composes the config, the engine runs, results land.

Bad configuration values are caught before Hydra creates any output folder: the
overrides are composed and validated first, and a problem is reported on one line
(naming the field and what is allowed) with exit status 2.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from tqdm import tqdm

from sim.config import (
    BaseConfig,
    ConfigError,
    check_config_folder,
    compose,
    config_dir,
    register_schemas,
    to_config,
)
from sim.engine import run
from sim.errors import COMPOSE_ERRORS, fail, fail_each, one_line
from sim.folders import Claim, FolderError
from sim.io import write_run
from sim.memory import InsufficientMemoryError, check_memory
from sim.metrics import rung_name, summary
from sim.report import SweepCallback
from sim.resume import check_resume
from sim.stops import EXIT_FAILED, command
from sim.sweep import MULTIRUN_FILE, SweepError, run_job
from sim.sweep_batches import BATCH_REPLICATES_KEY, check_batch_replicates
from sim.sweep_check import check_sweep, problem

PROG = "escalation-sim"


MULTIRUN_FLAGS = ("-m", "--multirun")


def precheck(argv: list[str]) -> None:
    """Compose and validate the overrides of a run, or every job of a sweep; exit 2 with
    one line per problem if any is bad.

    A sweep is checked job by job (``sim.sweep_check``: the experiment file's values and
    the command line's, every combination), and every bad job is listed before any starts,
    as is a bad ``hydra.launcher.batch_replicates``. Folders of configs given with
    ``--config-dir`` or ``hydra.searchpath`` are checked first (``check_config_folder``).
    Hydra's other flags (``--help``, ``--cfg``...) are left to Hydra.
    """
    multirun = any(a in MULTIRUN_FLAGS for a in argv)
    args, folders = _config_dir_flags([a for a in argv if a not in MULTIRUN_FLAGS])
    if any(arg.startswith("-") for arg in args):
        return
    parser = OverridesParser.create()
    for arg in args:  # name the override Hydra cannot read
        try:
            parser.parse_override(arg)
        except HydraException as exc:
            fail(PROG, f"{arg}: not a key=value override ({one_line(exc)})")
    parsed = parser.parse_overrides(args)
    for override in parsed:  # the batched launcher's option, before Hydra writes the sweep
        if override.key_or_group == BATCH_REPLICATES_KEY and not override.is_sweep_override():
            try:
                check_batch_replicates(override.value())
            except ConfigError as exc:
                fail(PROG, str(exc))
    model = _model_overrides(parsed, folders)
    if multirun:
        problems = check_sweep(model)
        if problems:
            fail_each(PROG, problems)
        return
    swept = [o for o in parsed if o.is_sweep_override()]
    if swept:
        fail(PROG, f"{swept[0].input_line}: a sweep of values needs -m (escalation-sim -m ...)")
    message = problem(model)
    if message:
        fail(PROG, message)


def _model_overrides(parsed: list, folders: list[str]) -> list[str]:
    """The overrides that set the model's configuration, with where configs are found: the
    user's folders (checked) and any ``pkg://`` entries of ``hydra.searchpath``. Hydra's
    other settings are left to Hydra."""
    model, packages = [], []
    for override in parsed:
        if override.key_or_group == "hydra.searchpath":
            for entry in map(str, override.value() or []):
                if "://" in entry and not entry.startswith("file://"):
                    packages.append(entry)
                else:
                    folders = [*folders, entry.removeprefix("file://")]
        elif not override.key_or_group.startswith(("hydra.", "hydra/")):
            model.append(override.input_line)
    for folder in folders:
        try:
            check_config_folder(folder)
        except ConfigError as exc:
            fail(PROG, str(exc))
    if folders or packages:
        entries = [*(f"file://{f}" for f in folders), *packages]
        model.append(f"hydra.searchpath=[{','.join(entries)}]")
    return model


#: Hydra's flag that adds a folder of configs to the search path
CONFIG_DIR_FLAGS = ("--config-dir", "-cd")


def _config_dir_flags(args: list[str]) -> tuple[list[str], list[str]]:
    """``args`` without ``--config-dir DIR`` (or ``-cd DIR``, ``--config-dir=DIR``), and
    the folders they give."""
    rest, folders = [], []
    given = iter(args)
    for arg in given:
        flag, eq, value = arg.partition("=")
        if flag in CONFIG_DIR_FLAGS:
            folder = value if eq else next(given, None)
            if not folder:
                fail(PROG, f"{flag}: give the folder of your configs")
            folders.append(str(Path(folder).absolute()))
        else:
            rest.append(arg)
    return rest, folders


RESUME_KEYS = ("+resume", "resume")


def resume_overrides(argv: list[str]) -> list[str]:
    """``+resume=<sweep dir>``: run the sweep again into that folder; finished jobs are skipped.

    Returns ``argv`` with the switch replaced by ``hydra.sweep.dir=<sweep dir>``.
    """
    found = [a for a in argv if a.split("=", 1)[0] in RESUME_KEYS]
    if not found:
        return argv
    if len(found) > 1:
        fail(PROG, "resume: give one sweep folder")
    if not any(a in MULTIRUN_FLAGS for a in argv):
        fail(PROG, "resume: only a sweep (-m) can be resumed")
    folder = Path(found[0].split("=", 1)[1])
    if not (folder / MULTIRUN_FILE).is_file():
        fail(PROG, f"resume: {folder} is not a sweep folder (no {MULTIRUN_FILE})")
    rest = [a for a in argv if a not in found and not a.startswith("hydra.sweep.dir=")]
    return [*rest, f"hydra.sweep.dir={folder}"]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def print_summary(result, paths: dict[str, Path], out_dir: Path) -> None:
    """What a user reads after a run: where the files went and the headline numbers."""
    s = summary(result)
    c = s["counts"]
    cfg = result.config
    rung = s["highest_rung"]
    start = dt.date.fromisoformat(cfg.scenario.start_date)
    end = (start + dt.timedelta(days=cfg.days - 1)).isoformat()
    files = ", ".join(p.relative_to(out_dir).as_posix() for p in paths.values())
    reached = f"on {rung['date']} (day {rung['day']})" if rung["date"] else "(nothing happened)"
    lines = [
        f"Results: {out_dir}",
        f"  {files}",
        f"Scenario {s['scenario']}: {cfg.scenario.start_date} to {end}, seed {s['seed']}"
        + (
            f", {s['replicates']} replicates (replicate {s['replicate']} below)"
            if s["replicates"] > 1
            else ""
        ),
        "  Doctrines: "
        + ", ".join(
            f"{k.replace('_', ' ').title() if k != 'us' else 'US'} {v}"
            for k, v in s["doctrines"].items()
        ),
        f"  Attacks: {c['attacks']} ("
        + ", ".join(f"{w} {c[f'attacks_{w}']}" for w in result.params.weapon_names)
        + ")",
        f"  Casualties: US {c['killed_us']} killed, {c['wounded_us']} wounded; "
        f"Iraqi {c['killed_iraqi']} killed, {c['wounded_iraqi']} wounded",
        f"  US responses: {_n(c['us_strikes'], 'strike')} ({c['us_strikes_in_iraq']} in Iraq), "
        f"{_n(c['decapitations'], 'leadership strike')}; Iranian missile strikes: "
        f"{c['iran_direct_strikes']}; Israeli strikes: {c['israeli_strikes']}",
        f"  Highest rung: {rung['level']} ({rung_name(cfg, rung['level'])}) {reached}",
        f"  Outcome: {s['outcome'].replace('_', ' ')}",
    ]
    if "ensemble" in s:
        shares = ", ".join(
            f"{k.replace('_', ' ')} {v:.0%}" for k, v in s["ensemble"]["outcome_shares"].items()
        )
        lines.append(f"  Across replicates: {shares}")
    print("\n".join(lines))


#: seconds a run must last before its progress bar appears
PROGRESS_DELAY = 2.0


@contextlib.contextmanager
def progress_bar(config: BaseConfig) -> Iterator[Callable[[int], None]]:
    """A day-by-day progress bar on stderr, as a ``progress(day)`` callback.

    It appears only once the run has lasted ``PROGRESS_DELAY`` seconds, only when stderr
    is a terminal and not with ``output.quiet``, and is cleared when the run ends.
    """
    bar = tqdm(
        total=config.days,
        unit="day",
        desc=_n(config.replicates, "replicate"),
        delay=PROGRESS_DELAY,
        leave=False,
        disable=True if config.output.quiet else None,  # None: off unless a terminal
        file=sys.stderr,
    )
    try:
        yield lambda day: bar.update(day - bar.n)
    finally:
        bar.close()


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN:
        run_job(cfg, hydra_cfg)  # records its own failure; the sweep goes on
        return
    out_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        config = to_config(cfg)
    except ConfigError as exc:
        # only .hydra/ was written yet: leave nothing behind (and nothing else is touched)
        shutil.rmtree(out_dir / ".hydra", ignore_errors=True)
        with contextlib.suppress(OSError):
            out_dir.rmdir()  # if it is empty now
        fail(PROG, str(exc))
    try:
        with progress_bar(config) as progress:
            result = run(config, progress=progress)
        paths = write_run(result, out_dir, figures=config.output.figures)
        remove_stale_results(out_dir, paths)
    except Exception as exc:  # main removes the unfinished folder
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"{PROG}: error: the run failed: {first_line(exc)}", file=sys.stderr)
        raise SystemExit(EXIT_FAILED) from None
    if not config.output.quiet:
        print_summary(result, paths, out_dir)


#: the files a run may write; those of an earlier run in the same folder that this run did
#: not write are removed, so that a folder never mixes two runs' results
RUN_FILES = ("events.parquet", "daily.parquet", "ensemble.parquet", "summary.json",
             "figures/timeline.png", "figures/map.png")  # fmt: skip


def remove_stale_results(out_dir: Path, written: dict[str, Path]) -> None:
    """Remove the result files of an earlier run in ``out_dir`` that this run did not write."""
    kept = {Path(p).resolve() for p in written.values()}
    for name in RUN_FILES:
        path = out_dir / name
        if path.is_file() and path.resolve() not in kept:
            path.unlink()


def first_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# --- where a run or sweep writes: a folder of its own, locked ----------------------------------

#: Hydra's flags after which nothing runs or is written (help, the configuration printed)
NO_RUN_FLAGS = ("-h", "--help", "--hydra-help", "--version", "-c", "--cfg", "-i", "--info",
                "-sc", "--shell-completion")  # fmt: skip


def _task_overrides(argv: list[str]) -> list[str]:
    """The overrides of the job's own configuration: no flags, none of Hydra's settings."""
    return [a for a in argv if not a.startswith("-")
            and not a.lstrip("+~").startswith(("hydra.", "hydra/"))]  # fmt: skip


def _resolve_folder(value: str) -> Path | None:
    """A folder setting's value with ``${now:...}`` filled in (None if it needs more than that:
    then Hydra resolves it and the folder is not claimed here)."""
    from hydra.core.utils import setup_globals
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    setup_globals()  # Hydra's ${now:...}
    try:
        return Path(str(OmegaConf.create({"dir": value})["dir"]))
    except OmegaConfBaseException:
        return None


def _default_folder(key: str) -> Path | None:
    """The folder ``configs/config.yaml`` gives ``hydra.run.dir`` or ``hydra.sweep.dir``."""
    try:
        data = yaml.safe_load((Path(config_dir()) / "config.yaml").read_text())
        pattern = data["hydra"][key.split(".")[1]]["dir"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    return _resolve_folder(str(pattern))


def claim_output(argv: list[str], multirun: bool) -> tuple[list[str], Claim | None]:
    """Claim the folder a run (or sweep) will write: locked for this process's life.

    The default, named by the time, is made unique (``<time>-2`` when another run took it);
    a folder given with ``hydra.run.dir=`` / ``hydra.sweep.dir=`` (or ``+resume``) is used
    as it is, unless another process holds it. Returns ``argv`` naming the folder, and the
    claim (None when Hydra is left to resolve the folder).
    """
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    given = [a for a in argv if a.split("=", 1)[0].lstrip("+") == key]
    try:
        if given:
            value = given[-1].split("=", 1)[1].strip().strip("'\"")
            if not value:
                raise FolderError(f"{key}: empty; give the folder the results go to")
            folder = _resolve_folder(value)
            return argv, Claim(folder, key) if folder is not None else None
        if any(a in ("-cn", "--config-name") or a.startswith("--config-name=") for a in argv):
            return argv, None  # another primary config: its folder is Hydra's to resolve
        folder = _default_folder(key)
        if folder is None:
            return argv, None
        claim = Claim(folder, key, unique=True)
    except FolderError as exc:
        fail(PROG, str(exc))
    return [*argv, f"{key}={claim.folder}"], claim


#: the settings whose largest swept value sets a sweep job's memory
SIZE_KEYS = ("replicates", "days")


def _with_value(override, value) -> str:
    """The override line of ``override`` with one of its values (its + or ++ kept)."""
    prefix = "++" if override.is_force_add() else "+" if override.is_add() else ""
    return f"{prefix}{override.get_key_element()}={value}"


def check_run_memory(argv: list[str]) -> None:
    """Refuse a run, or a sweep whose largest job, that would not fit in memory (before any
    folder is made)."""
    overrides = []
    try:
        for override in OverridesParser.create().parse_overrides(_task_overrides(argv)):
            if not override.is_sweep_override():
                overrides.append(override.input_line)
                continue
            values = list(override.sweep_iterator())
            if override.key_or_group in SIZE_KEYS:
                overrides.append(_with_value(override, max(values)))
            elif values:
                overrides.append(_with_value(override, values[0]))
        config = compose(*overrides)
    except Exception:  # a bad configuration: Hydra, or the sweep's own check, reports it
        return
    try:
        check_memory(
            config.replicates,
            config.days,
            events=config.output.events,
            event_sample=config.output.event_sample,
            daily=config.output.daily,
        )
    except InsufficientMemoryError as exc:
        fail(PROG, str(exc))


def prepare_output(
    argv: list[str], multirun: bool, resuming: bool
) -> tuple[list[str], Claim | None]:
    """What is checked once the overrides are valid, before any folder is made: a resumed
    sweep's settings, or the memory a run needs; then the output folder is claimed.
    Returns ``argv`` naming the folder and the claim (None when nothing will run)."""
    if any(a.split("=", 1)[0] in NO_RUN_FLAGS for a in argv):
        return argv, None
    if resuming:
        folder = next(a for a in argv if a.startswith("hydra.sweep.dir=")).split("=", 1)[1]
        try:
            check_resume(folder, _task_overrides(argv))
        except SweepError as exc:
            fail(PROG, str(exc))
        except COMPOSE_ERRORS as exc:
            fail(PROG, f"resume {folder}: {one_line(exc)}")
    else:
        check_run_memory(argv)
    return claim_output(argv, multirun)


@command(PROG)
def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    argv = sys.argv[1:] if argv is None else argv
    register_schemas()
    SweepCallback.failed = 0  # of this command's sweep, not of an earlier one in the process
    resuming = any(a.split("=", 1)[0] in RESUME_KEYS for a in argv)
    argv = resume_overrides(argv)
    precheck(argv)
    multirun = any(a in MULTIRUN_FLAGS for a in argv)
    argv, claim = prepare_output(argv, multirun, resuming)
    sys.argv = [PROG, *argv]
    done = False
    try:
        _hydra_main()
        done = True
    finally:
        if claim is not None:
            if done or (multirun and (claim.folder / MULTIRUN_FILE).is_file()):
                claim.keep()  # a sweep keeps its finished jobs, to be resumed
            claim.release()
    if SweepCallback.failed:  # the sweep went on past them; its exit status tells
        raise SystemExit(1)


if __name__ == "__main__":
    main()
