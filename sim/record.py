"""Event records: the documented CSV schema, its validating loader, and the seeds' record.

A record is what the model is judged against, so a file is either valid in every row
or refused whole: :func:`load_events` names the first bad file line and field in a
one-line :class:`RecordError` and never returns part of a record. The schema is
documented in ``docs/data.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pandas as pd

COLUMNS = (
    "date",
    "actor",
    "action",
    "target",
    "country",
    "killed_us",
    "wounded_us",
    "notes",
    "source",
)
ACTORS = ("militia", "us", "iran", "israel", "iraq_gov")
ACTIONS = (
    "rocket",
    "ied_convoy",
    "drone",
    "ballistic_missile",
    "airstrike",
    "raid",
    "assault",
    "other",
)
TARGETS = (
    "ain_al_asad",
    "erbil",
    "baghdad_embassy",
    "biap",
    "taji",
    "balad",
    "qayyarah",
    "k1",
    "convoy",
    "syria_site",
    "militia_site",
    "other",
)
COUNTRIES = ("iraq", "syria", "iran")

_CHOICES = {"actor": ACTORS, "action": ACTIONS, "target": TARGETS, "country": COUNTRIES}
_CASUALTIES = ("killed_us", "wounded_us")
# fromisoformat alone also takes 20200723 and 2020-W30-4; the record wants one spelling.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE = re.compile(r"[+-]?\d+")
#: the dates pandas can hold (whole days): a record's dates must lie between them
FIRST_DATE = (pd.Timestamp.min + pd.Timedelta(days=1)).date()
LAST_DATE = pd.Timestamp.max.date()
#: the most casualties one event may count (the configuration's bound on a count of people,
#: ``sim.config.MAX_PEOPLE``, which cannot be imported here)
MAX_CASUALTIES = 10_000_000


class RecordError(ValueError):
    """A record file that breaks the schema (one line: file, line, field, what is allowed)."""

    def __init__(self, path: str | Path, line: int | None, field: str, problem: str) -> None:
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {field}: {problem}")
        self.path, self.line, self.field = str(path), line, field


def seeds_record() -> Path:
    """Path of the record transcribed from the seed articles (packaged copy first)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "data", here.parent / "data"):
        path = candidate / "events_seeds.csv"
        if path.is_file():
            return path
    raise FileNotFoundError("data/events_seeds.csv not found beside the sim package")


def _check_header(path: Path, header: list[str] | None) -> None:
    if not header:
        raise RecordError(path, 1, "header", f"file is empty; expected {','.join(COLUMNS)}")
    names = [name.strip() for name in header]
    for name in COLUMNS:
        if name not in names:
            raise RecordError(path, 1, name, f"missing column; expected {','.join(COLUMNS)}")
    for name in names:
        if names.count(name) > 1 or name not in COLUMNS:
            what = "duplicate" if name in COLUMNS else "unknown"
            raise RecordError(
                path, 1, name or "(blank)", f"{what} column; expected {','.join(COLUMNS)}"
            )


def _parse_row(path: Path, line: int, row: dict[str, str]) -> dict[str, object]:
    """One validated row, or RecordError naming the first bad field."""
    out: dict[str, object] = {}
    text = row["date"]
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError
        out["date"] = dt.date.fromisoformat(text)
    except ValueError:
        raise RecordError(path, line, "date", f"{text!r} is not a date YYYY-MM-DD") from None
    if not FIRST_DATE <= out["date"] <= LAST_DATE:
        raise RecordError(
            path, line, "date", f"{text} is outside {FIRST_DATE} to {LAST_DATE} (what pandas holds)"
        )
    for field, allowed in _CHOICES.items():
        if row[field] not in allowed:
            raise RecordError(
                path, line, field, f"{row[field]!r} is not one of {', '.join(allowed)}"
            )
        out[field] = row[field]
    for field in _CASUALTIES:
        text = row[field]
        if text and not _WHOLE.fullmatch(text):
            raise RecordError(
                path, line, field, f"{text!r} is not a whole number >= 0 (empty when unknown)"
            )
        if text and int(text) < 0:
            raise RecordError(path, line, field, f"{text} is negative; a whole number >= 0")
        if text and int(text) > MAX_CASUALTIES:
            raise RecordError(
                path, line, field, f"{text} is too large; a whole number <= {MAX_CASUALTIES}"
            )
        out[field] = int(text) if text else pd.NA
    if not row["source"]:
        raise RecordError(path, line, "source", "empty; name the source of the event")
    out["notes"], out["source"] = row["notes"], row["source"]
    return out


def load_events(path: str | Path) -> pd.DataFrame:
    """Load and validate an event record (schema in docs/data.md), sorted by date.

    Raises:
        RecordError: the first row or column that breaks the schema, by file line (the
            header is line 1); nothing is returned in that case.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            _check_header(path, header)
            names = [name.strip() for name in header or ()]
            rows, line = [], reader.line_num + 1
            for fields in reader:
                start, line = line, reader.line_num + 1  # a quoted note may span lines
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) != len(names):
                    raise RecordError(
                        path,
                        start,
                        "row",
                        f"{len(fields)} fields, the header has {len(names)}",
                    )
                row = dict(zip(names, (f.strip() for f in fields), strict=True))
                rows.append(_parse_row(path, start, row))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise RecordError(path, None, "file", f"cannot be read as UTF-8 CSV ({err})") from None
    if not rows:
        raise RecordError(path, 2, "row", "no events; a record needs at least one row")
    return _frame(rows)


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    for field, allowed in _CHOICES.items():
        frame[field] = pd.Categorical(frame[field], categories=allowed)
    for field in _CASUALTIES:
        frame[field] = frame[field].astype("Int64")
    frame = frame.sort_values("date", kind="stable").reset_index(drop=True)
    return frame


def date_range(frame: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last event dates of a loaded record."""
    return frame["date"].min(), frame["date"].max()


def attacks(frame: pd.DataFrame) -> pd.DataFrame:
    """The militia attacks of a loaded record (the series the model's militias produce)."""
    return frame[frame["actor"] == "militia"]
