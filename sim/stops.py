"""Clean stops: Ctrl-C (SIGINT) and SIGTERM end a command with one line and exit 130 or 143.

A stop is raised in the main thread as an exception (``KeyboardInterrupt``, or its subclass
:class:`Stopped` for SIGTERM), so every ``finally`` block runs on the way out: temporary
files are removed (:mod:`sim.files`), a run's unfinished folder is removed and locks are
released (:mod:`sim.folders`). Files written before the stop are complete and stay.

Every command's entry point is wrapped in :func:`command`, which also turns an error of the
file system (disk full, permission denied...) into one line with exit status 1.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

#: exit status after SIGINT and SIGTERM (128 + the signal's number, as shells report)
EXIT_SIGINT = 128 + signal.SIGINT
EXIT_SIGTERM = 128 + signal.SIGTERM
#: exit status of a command whose work failed (bad input is 2, sim.errors.USAGE_ERROR)
EXIT_FAILED = 1

F = TypeVar("F", bound=Callable[..., Any])


class Stopped(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs."""


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped()


def exit_status(stop: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return EXIT_SIGTERM if isinstance(stop, Stopped) else EXIT_SIGINT


#: what a stop leaves, unless the command says more
KEPT = "; complete files are kept, nothing partial is left"


def stop_message(prog: str, stop: KeyboardInterrupt, kept: str = KEPT) -> str:
    """The one line printed when a command is stopped: ``kept``, then the signal."""
    how = "SIGTERM" if isinstance(stop, Stopped) else "Ctrl-C, SIGINT"
    return f"{prog}: stopped{kept} ({how})"


@contextlib.contextmanager
def clean_stops(prog: str) -> Iterator[None]:
    """SIGTERM raises :class:`Stopped` in the block; a stop ends the command in one line."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        yield
    except KeyboardInterrupt as stop:
        print(stop_message(prog, stop), file=sys.stderr, flush=True)
        raise SystemExit(exit_status(stop)) from None
    except OSError as exc:  # the file system refused (full disk, permissions, a lost mount)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{prog}: error: {where}{exc.strerror or exc}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_FAILED) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def command(prog: str) -> Callable[[F], F]:
    """Decorate a command's ``main``: stops and file-system errors end it in one line."""

    def wrap(main: F) -> F:
        @functools.wraps(main)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with clean_stops(prog):
                return main(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return wrap
