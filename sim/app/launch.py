"""``escalation-app``: serve the seminar page on this machine (127.0.0.1 unless told otherwise).

The page and everything it loads (script, style, map shapes) come from this package, so it
works with no internet. ``--classroom`` (or a ``--host`` other than this machine) lets the
room's devices connect, e.g. a second wargame team joining by code: a warning is printed,
since anyone on that network can then open the page, start games and join them.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from sim.app.server import create_app
from sim.errors import fail

PROG = "escalation-app"
DEFAULT_PORT = 8765
#: the address ``--classroom`` listens on: every network of this machine
CLASSROOM_HOST = "0.0.0.0"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and status 2, like the other commands
        fail(PROG, message)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside 1..65535")
    return port


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog=PROG,
        description="The seminar app: two histories of the escalation model side by side.",
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (default 8765)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; give e.g. the "
        "room's network address to let students connect)",
    )
    where.add_argument(
        "--classroom",
        action="store_const",
        const=CLASSROOM_HOST,
        dest="host",
        help="listen on every network of this machine (0.0.0.0), so that the devices of a "
        "classroom network can open the page and join a wargame; prints a warning",
    )
    return parser.parse_args(argv)


def exposed(host: str) -> bool:
    """Whether ``host`` lets other machines connect (not a loopback address)."""
    return host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127.")


def main(argv: list[str] | None = None) -> None:
    """Start the page's server (:func:`sim.app.server.create_app`) and print its address."""
    args = parse(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    import uvicorn  # the server itself: only when it is started

    app = create_app()
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"{PROG}: the seminar page is at http://{host}:{args.port}/ (Ctrl+C stops it)")
    if exposed(args.host):
        print(
            f"{PROG}: warning: listening on {args.host}: anyone on this network can open the "
            "page, start games and join them; use it on a classroom network you trust, "
            f"and give teams this machine's address with port {args.port} and /game",
            file=sys.stderr,
        )
    sys.stdout.flush()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        fail(PROG, f"--host {args.host} --port {args.port}: {exc.strerror or exc}")


if __name__ == "__main__":
    main()
