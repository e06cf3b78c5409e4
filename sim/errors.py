"""How the commands report bad input: one line, ``<command>: error: <message>``, exit status 2.

Every command (``escalation-sim``, ``-compare``, ``-report``, ``-validate``, ``-calibrate``,
``-bench``, ``-app``) and the notebook surface (:mod:`sim.api`) word a configuration problem
the same way: :func:`one_line` turns Hydra's and OmegaConf's multi-line complaints into one
line naming the key, and :func:`fail` prints it and exits. This module imports nothing of
the model, so figures, reports and the app can use it without importing a command.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from hydra.errors import HydraException, MissingConfigException
from omegaconf.errors import OmegaConfBaseException

#: the exit status of a command given bad input (as argparse uses)
USAGE_ERROR = 2
#: what composing a configuration raises for an unknown key, group option or bad file,
#: besides the schema's own ``sim.config.ConfigError``
COMPOSE_ERRORS = (HydraException, OmegaConfBaseException)


def one_line(exc: BaseException) -> str:
    """A config error from Hydra/OmegaConf as one line: the key, then the complaint.

    An unknown option of a config group lists the options there are.
    """
    if isinstance(exc, MissingConfigException) and exc.missing_cfg_file and exc.options:
        group, _, option = exc.missing_cfg_file.rpartition("/")
        if group:  # an unknown option of a config group: say which ones there are
            return f"{group}: no option '{option}' (choose from: {', '.join(exc.options)})"
    inner = exc.__cause__ if isinstance(exc.__cause__, OmegaConfBaseException) else exc
    message = [line.strip() for line in str(getattr(inner, "msg", None) or inner).splitlines()]
    message = [line for line in message if line]
    text = message[0] if message else type(inner).__name__
    if text.endswith(":") and len(message) > 1:  # "In 'file': X raised ...:" then the problem
        text = f"{text} {message[1]}"
    key = getattr(inner, "full_key", None)
    if key and str(key).startswith("inputs.") and "not in struct" in text:
        return (
            f"{key}: the scenario has no dated input of that name (inputs.NAME=off switches "
            f"off one of its own, listed in its file; +{key}={{date: ..., path: ..., value: "
            "..., source: ...} adds one)"
        )
    return f"{key}: {text}" if key and key not in text else text


def fail(prog: str, message: str) -> NoReturn:
    """Print ``<prog>: error: <message>`` on stderr and exit with status 2 (no traceback)."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(USAGE_ERROR) from None


def fail_each(prog: str, messages: list[str]) -> NoReturn:
    """Print one ``<prog>: error: <message>`` line per problem (every bad point of a sweep
    at once) and exit with status 2."""
    for message in messages:
        print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(USAGE_ERROR) from None


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse's parser, reporting a bad option in one line and exit status 2 (argparse
    prints its usage first; ``--help`` still shows it)."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)
