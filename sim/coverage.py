"""How complete a dated event record is against tallies of the same events.

``escalation-coverage`` loads one or more event records (``docs/data.md``; by default the
shipped records: the seeds' and the public reports' events and the out-of-sample record
of 2023-2024) and a file of tallies (by
default ``data/event_counts.csv``), and prints for each tally how many of the record's
events it covers (:func:`sim.record.coverage`). With ``--doc`` it rewrites instead the
coverage table of that doc (the part between the marker comments; ``make doc-tables``
does so for ``docs/data.md``), and with ``--check`` it writes nothing and exits 1 when the
table is out of date. A bad file is refused with one line naming its file, line and field,
exit status 2.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd

from sim.errors import OneLineArgumentParser, fail
from sim.record import (
    RecordError,
    coverage,
    event_counts,
    file_problem,
    gaza2023_record,
    load_counts,
    load_records,
    public_record,
    seeds_record,
)

PROG = "escalation-coverage"
DOC = Path(__file__).resolve().parents[1] / "docs" / "data.md"
START = "<!-- generated: coverage table -->"
END = "<!-- end generated coverage -->"
NOTE = (
    "<!-- written by `make doc-tables` from data/events_seeds.csv, data/events_public.csv, "
    "data/events_gaza2023.csv and data/event_counts.csv: edit those files, not this part -->"
)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _period(start: pd.Timestamp, end: pd.Timestamp) -> str:
    first, last = start.date().isoformat(), end.date().isoformat()
    return first if first == last else f"{first} to {last}"


def render(table: pd.DataFrame) -> str:
    """The coverage table as Markdown: one row per tally, in the tallies' order."""
    lines = [
        "| period | actor | action | target | country | what the tally counts | tallied | listed"
        " | share |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples(index=False):
        share = "" if math.isnan(row.share) else f"{row.share:.0%}"
        cells = [
            _period(row.start, row.end),
            str(row.actor),
            str(row.action),
            str(row.target),
            str(row.country),
            _cell(row.scope),
            str(row.tallied),
            str(row.listed),
            share,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def generated(table: pd.DataFrame) -> str:
    """The generated part of the doc, from marker to marker."""
    return "\n".join([START, NOTE, "", render(table), "", END])


def generated_part(doc: str) -> str:
    """The part of a doc between the markers (markers included)."""
    start, end = doc.find(START), doc.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the doc has no {START} ... {END} part to rewrite")
    return doc[start : end + len(END)]


def shipped_records() -> tuple[Path, ...]:
    """The records the project ships, whose coverage the doc's table gives: the seeds',
    the public reports' (the fuller record of 2019-2021) and the out-of-sample record of
    2023-2024."""
    return (seeds_record(), public_record(), gaza2023_record())


def _readable(option: str, path: Path) -> Path:
    problem = file_problem(option, path, "a CSV file")
    if problem:
        fail(PROG, problem)
    return path


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ``escalation-coverage [--events F]... [--counts F] [--doc D]``."""
    parser = OneLineArgumentParser(
        prog=PROG,
        description="How many of each tally's events a dated record lists (docs/data.md).",
    )
    parser.add_argument(
        "--events",
        type=Path,
        action="append",
        help="an event record (repeat for several, loaded as one); default: the shipped "
        "records, data/events_seeds.csv, data/events_public.csv and data/events_gaza2023.csv",
    )
    parser.add_argument(
        "--counts", type=Path, help="a file of tallies; default: data/event_counts.csv"
    )
    parser.add_argument(
        "--doc", type=Path, help="rewrite the coverage table of this doc instead of printing it"
    )
    parser.add_argument(
        "--check", action="store_true", help="with --doc: write nothing; exit 1 if out of date"
    )
    args = parser.parse_args(argv)
    if args.check and args.doc is None:
        fail(PROG, "--check: only with --doc (the doc whose table to check)")
    events = [_readable("--events", p) for p in args.events or shipped_records()]
    counts = _readable("--counts", args.counts or event_counts())
    doc_text = None
    if args.doc is not None:
        _readable("--doc", args.doc)
        try:
            doc_text = args.doc.read_text(encoding="utf-8")
            generated_part(doc_text)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            fail(PROG, f"--doc {args.doc}: {exc}")
    try:
        table = coverage(load_records(*events), load_counts(counts))
    except RecordError as exc:
        fail(PROG, str(exc))
    if doc_text is None:
        print(render(table))
        return
    new = doc_text.replace(generated_part(doc_text), generated(table), 1)
    if new == doc_text:
        print(f"{args.doc}: the coverage table is up to date")
    elif args.check:
        print(f"{PROG}: {args.doc}: the coverage table is out of date (make doc-tables)",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(1)
    else:
        args.doc.write_text(new, encoding="utf-8")
        print(f"{args.doc}: coverage table rewritten")


if __name__ == "__main__":
    main()
