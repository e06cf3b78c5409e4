"""``escalation-app``: serve the seminar page on this machine (127.0.0.1 unless told otherwise).

The page and everything it loads (script, style, map shapes) come from this package, so it
works with no internet.
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
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; give e.g. the "
        "room's network address to let students connect)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start the page's server (:func:`sim.app.server.create_app`) and print its address."""
    args = parse(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    import uvicorn  # the server itself: only when it is started

    app = create_app()
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"{PROG}: the seminar page is at http://{host}:{args.port}/ (Ctrl+C stops it)")
    sys.stdout.flush()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        fail(PROG, f"--host {args.host} --port {args.port}: {exc.strerror or exc}")


if __name__ == "__main__":
    main()
