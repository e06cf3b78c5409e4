"""``escalation-app``: serve the seminar page on this machine (127.0.0.1 unless told otherwise).

Works with no internet once ``python -m sim.app.assets`` has put Solara's front-end files in
place (``make setup`` does); telemetry is switched off before Solara is imported.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from sim.app import assets
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
        description="The seminar app: two copies of the escalation model side by side.",
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
    """Start the Solara server for :func:`sim.app.page.Page` and print its address."""
    args = parse(sys.argv[1:] if argv is None else argv)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        missing = [p for p in assets.solara_packages() if not assets.installed(p)]
    except (RuntimeError, OSError) as exc:
        missing = [str(exc)]
    if missing:
        print(
            f"{PROG}: warning: Solara's page files are not installed locally "
            f"({', '.join(missing)}); without internet the page stays blank. "
            "Install them with: python -m sim.app.assets",
            file=sys.stderr,
        )
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"{PROG}: the seminar page is at http://{host}:{args.port}/ (Ctrl+C stops it)")
    sys.stdout.flush()

    from solara.__main__ import cli  # slow to import; after the telemetry switch above

    cli(
        [
            "run",
            "sim.app.page:Page",
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--production",
            "--no-open",
            "--log-level",
            "warning",
        ],
        prog_name=PROG,
    )


if __name__ == "__main__":
    main()
