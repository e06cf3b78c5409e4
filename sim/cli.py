"""The ``escalation-sim`` command: Hydra composes the config, the engine runs, results land.

Bad configuration values are caught before Hydra creates any output folder: the
overrides are composed and validated first, and a problem is reported on one line
(naming the field and what is allowed) with exit status 2.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import hydra
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
    config_dir,
    register_schemas,
    to_config,
)
from sim.engine import run
from sim.errors import fail, fail_each, one_line
from sim.io import write_run
from sim.metrics import rung_name, summary
from sim.report import SweepCallback
from sim.sweep import MULTIRUN_FILE, run_job
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
        # only .hydra/ is in the folder yet: leave nothing behind
        shutil.rmtree(out_dir, ignore_errors=True)
        fail(PROG, str(exc))
    with progress_bar(config) as progress:
        result = run(config, progress=progress)
    paths = write_run(result, out_dir, figures=config.output.figures)
    if not config.output.quiet:
        print_summary(result, paths, out_dir)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    argv = sys.argv[1:] if argv is None else argv
    register_schemas()
    SweepCallback.failed = 0  # of this command's sweep, not of an earlier one in the process
    argv = resume_overrides(argv)
    precheck(argv)
    sys.argv = [PROG, *argv]
    _hydra_main()
    if SweepCallback.failed:  # the sweep went on past them; its exit status tells
        raise SystemExit(1)


if __name__ == "__main__":
    main()
