"""Clean stops: Ctrl-C (SIGINT) and SIGTERM end a command with one line and exit 130 or 143.

A stop is raised in the main thread as an exception (``KeyboardInterrupt``, or its subclass
:class:`Stopped` for SIGTERM), so every ``finally`` block runs on the way out: temporary
files are removed (:mod:`sim.files`), a run's unfinished folder is removed and locks are
released (:mod:`sim.folders`). Files written before the stop are complete and stay.

Every command's entry point is wrapped in :func:`command`, which also turns an error of the
file system (disk full, permission denied...) into one line with exit status 1.

Python ignores an exception raised where nothing can catch it: in a finalizer (``__del__``)
or in a callback from compiled code, such as the ones that load the compiled kernels early
in a run. A stop landing there would be lost (the command ran on to its end and exited 0),
so it is remembered until a command handles it, and :func:`raise_pending_stop` (called each
simulated day) raises it again.
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


#: the signal of a stop raised and not yet handled by a command (see the module's docstring)
_pending: list[int] = []


def _stop(signum: int) -> KeyboardInterrupt:
    return Stopped() if signum == signal.SIGTERM else KeyboardInterrupt()


def _raise_stopped(signum: int, frame: object) -> None:
    _pending[:] = [signum]
    raise _stop(signum)


def raise_pending_stop() -> None:
    """Raise again a stop that was raised and not handled since (lost where Python ignores
    exceptions); nothing if there is none."""
    if _pending:
        raise _stop(_pending[0])


def exit_status(stop: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (the stop is then handled: it is not raised again)."""
    _pending.clear()
    return EXIT_SIGTERM if isinstance(stop, Stopped) else EXIT_SIGINT


#: what a stop leaves, unless the command says more
KEPT = "; complete files are kept, nothing partial is left"


def stop_message(prog: str, stop: KeyboardInterrupt, kept: str = KEPT) -> str:
    """The one line printed when a command is stopped: ``kept``, then the signal."""
    how = "SIGTERM" if isinstance(stop, Stopped) else "Ctrl-C, SIGINT"
    return f"{prog}: stopped{kept} ({how})"


@contextlib.contextmanager
def clean_stops(prog: str) -> Iterator[None]:
    """SIGTERM raises :class:`Stopped` in the block, Ctrl-C ``KeyboardInterrupt``; a stop
    ends the command in one line."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _raise_stopped)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not if ignored
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, _raise_stopped)
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
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def command(prog: str) -> Callable[[F], F]:
    """Decorate a command's ``main``: stops and file-system errors end it in one line."""

    def wrap(main: F) -> F:
        @functools.wraps(main)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with clean_stops(prog):
                return main(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return wrap
