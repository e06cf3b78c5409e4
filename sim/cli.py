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
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from sim.config import (
    BaseConfig,
    ConfigError,
    compose,
    config_dir,
    register_schemas,
    to_config,
)
from sim.engine import run
from sim.io import write_run
from sim.metrics import rung_name, summary

PROG = "escalation-sim"
USAGE_ERROR = 2


def _fail(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(USAGE_ERROR)


def _one_line(exc: BaseException) -> str:
    """A config error from Hydra/OmegaConf as one line: the key, then the complaint."""
    inner = exc.__cause__ if isinstance(exc.__cause__, OmegaConfBaseException) else exc
    message = str(getattr(inner, "msg", None) or inner).strip().splitlines()
    text = message[0] if message else type(inner).__name__
    key = getattr(inner, "full_key", None)
    return f"{key}: {text}" if key and key not in text else text


def precheck(argv: list[str]) -> None:
    """Compose and validate a single run's overrides; exit 2 with one line if they are bad.

    Hydra's own flags (``--help``, ``--cfg``, ``-m``...) and sweeps are left to Hydra.
    """
    if any(arg.startswith("-") for arg in argv):
        return
    try:
        parsed = OverridesParser.create().parse_overrides(argv)
    except HydraException as exc:
        _fail(_one_line(exc))
    if any(o.is_sweep_override() for o in parsed):
        return
    plain = [a for a in argv if not a.lstrip("+~").startswith(("hydra.", "hydra/"))]
    try:
        compose(*plain)
    except ConfigError as exc:
        _fail(str(exc))
    except (HydraException, OmegaConfBaseException) as exc:
        _fail(_one_line(exc))
    except yaml.YAMLError as exc:  # a config file that is not valid YAML
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.name}, line {mark.line + 1}: " if mark else ""
        _fail(f"{where}{getattr(exc, 'problem', None) or exc}".replace("\n", " "))


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
        f"  Attacks: {c['attacks']} (rocket {c['attacks_rocket']}, IED {c['attacks_ied']}, "
        f"drone {c['attacks_drone']})",
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
    from tqdm import tqdm

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
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        config = to_config(cfg)
    except ConfigError as exc:
        # only .hydra/ is in the folder yet: leave nothing behind
        shutil.rmtree(out_dir, ignore_errors=True)
        _fail(str(exc))
    with progress_bar(config) as progress:
        result = run(config, progress=progress)
    paths = write_run(result, out_dir, figures=config.output.figures)
    if not config.output.quiet:
        print_summary(result, paths, out_dir)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    argv = sys.argv[1:] if argv is None else argv
    register_schemas()
    precheck(argv)
    sys.argv = [PROG, *argv]
    _hydra_main()


if __name__ == "__main__":
    main()
