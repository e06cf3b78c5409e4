"""Resuming a sweep only with the command, and the config files, that started it.

``escalation-sim -m ... +resume=<sweep dir>`` skips the jobs that finished and runs the
others. That is right only if every job would be composed as it was: a changed setting
would mix results of two configurations in one sweep. Before anything runs,
:func:`check_resume` compares

- the command's settings with those recorded in ``multirun.yaml`` (swept or not),
- the sweep's values with the recorded ones (an experiment file's included), and
- for each combination of config-group options among the finished jobs, the configuration
  composed now with the one the job recorded in ``.hydra/config.yaml`` (an edited config
  file),

and refuses, in one line naming the setting, a sweep that would differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from sim.config import config_dir, register_schemas
from sim.sweep import MULTIRUN_FILE, SweepError, finished, job_dirs, read_job

#: what a refusal tells the user to do instead
ADVICE = "resume with the command that started the sweep, or start a new sweep"


def _settings(overrides: list[str]) -> dict[str, str]:
    """Override lines by key (``+``/``++`` and the order do not matter)."""
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return {o.key_or_group: o.input_line.split("=", 1)[1] for o in parsed}


def _flatten(node: Any, path: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flatten(value, f"{path}.{key}" if path else str(key)))
        return out or {path: {}}
    if isinstance(node, list):
        out = {}
        for i, value in enumerate(node):
            out.update(_flatten(value, f"{path}.{i}"))
        return out or {path: []}
    return {path: node}


def first_difference(recorded: Any, now: Any) -> tuple[str, Any, Any] | None:
    """The first dotted key whose value differs between two config trees (None if equal)."""
    old, new = _flatten(recorded), _flatten(now)
    for key in sorted(old.keys() | new.keys()):
        if old.get(key, "(not set)") != new.get(key, "(not set)"):
            return key, old.get(key, "(not set)"), new.get(key, "(not set)")
    return None


def _compose(overrides: list[str], hydra: bool = False) -> DictConfig:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_schemas()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
            return compose(config_name="config", overrides=overrides, return_hydra_config=hydra)
    finally:
        GlobalHydra.instance().clear()


def _container(cfg: Any) -> Any:
    return OmegaConf.to_container(cfg, resolve=False) if OmegaConf.is_config(cfg) else cfg


def _is_group(key: str) -> bool:
    return (Path(config_dir()) / key.lstrip("+~")).is_dir()


def check_resume(sweep_dir: Path | str, task_overrides: list[str]) -> None:
    """Refuse to resume ``sweep_dir`` with settings or config files that differ from the
    recorded ones (see the module). ``task_overrides`` are the command's overrides, without
    Hydra's own (``hydra.*``) and without ``+resume``.

    Raises:
        SweepError: one line naming the first setting that differs, its recorded value and
            its value now.
    """
    sweep_dir = Path(sweep_dir)
    recorded = OmegaConf.load(sweep_dir / MULTIRUN_FILE)
    old = _settings(list(recorded.hydra.overrides.task))
    new = _settings(task_overrides)
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) != new.get(key):
            was = old.get(key, "(not given)")
            now = new.get(key, "(not given)")
            raise SweepError(f"resume {sweep_dir}: {key}: the sweep was started with {was}, "
                             f"now {now}; {ADVICE}")  # fmt: skip
    parser = OverridesParser.create()
    single = [o.input_line for o in parser.parse_overrides(task_overrides)
              if not o.is_sweep_override()]  # fmt: skip
    primary = _compose(single, hydra=True)
    was_params = _container(recorded.hydra.sweeper.get("params") or {})
    now_params = _container(primary.hydra.sweeper.get("params") or {})
    diff = first_difference(was_params, now_params)
    if diff:
        key, was, now = diff
        raise SweepError(f"resume {sweep_dir}: the swept values of {key} were {was}, now {now}; "
                         f"{ADVICE}")  # fmt: skip
    _check_jobs(sweep_dir)


def _check_jobs(sweep_dir: Path) -> None:
    """Compose again one finished job of each combination of config-group options, and
    compare with what it recorded."""
    seen: set[tuple] = set()
    for job_dir in job_dirs(sweep_dir):
        saved = job_dir / ".hydra" / "config.yaml"
        overrides_file = job_dir / ".hydra" / "overrides.yaml"
        if not finished(read_job(job_dir)) or not saved.is_file() or not overrides_file.is_file():
            continue
        overrides = [str(o) for o in OmegaConf.load(overrides_file)]
        groups = tuple(sorted((k, v) for k, v in _settings(overrides).items() if _is_group(k)))
        if groups in seen:
            continue
        seen.add(groups)
        diff = first_difference(_container(OmegaConf.load(saved)), _container(_compose(overrides)))
        if diff:
            key, was, now = diff
            raise SweepError(f"resume {sweep_dir}: {key}: job {job_dir.name} was run with {was}, "
                             f"the configuration now gives {now}; {ADVICE}")  # fmt: skip
