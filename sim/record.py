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
from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

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
COUNTRIES = ("iraq", "syria", "iran", "jordan")

_CHOICES = {"actor": ACTORS, "action": ACTIONS, "target": TARGETS, "country": COUNTRIES}
_CASUALTIES = ("killed_us", "wounded_us")
_TEXTS = ("notes", "source")
#: what pandas makes of a column of text (``str`` from pandas 3, ``object`` before)
_TEXT_DTYPE = pd.Series([""]).dtype
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


def _shipped(name: str) -> Path:
    """Path of a data file the project ships (the packaged copy first, then the repo's)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "data", here.parent / "data"):
        path = candidate / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"data/{name} not found beside the sim package")


def seeds_record() -> Path:
    """Path of the record transcribed from the seed articles (packaged copy first)."""
    return _shipped("events_seeds.csv")


def public_record() -> Path:
    """Path of the record of dated events read in public reports (packaged copy first):
    the events of October 2019 - December 2021 that the seeds do not date, each row citing
    the address of the page it was read in."""
    return _shipped("events_public.csv")


def gaza2023_record() -> Path:
    """Path of the out-of-sample record (packaged copy first): the dated events of
    17 October 2023 - 31 March 2024, the militias' campaign after the Gaza war began, each
    row citing the address of the page it was read in. The model was never fitted to it
    (scenario ``gaza2023``, docs/validation.md)."""
    return _shipped("events_gaza2023.csv")


def load_gaza2023() -> pd.DataFrame:
    """The out-of-sample record of 2023-2024 (:func:`gaza2023_record`), loaded and
    validated by :func:`load_events`."""
    return load_events(gaza2023_record())


def event_counts() -> Path:
    """Path of the shipped tallies of events (``data/event_counts.csv``, see
    :func:`load_counts`)."""
    return _shipped("event_counts.csv")


def _check_header(
    path: Path, header: list[str] | None, columns: tuple[str, ...] = COLUMNS
) -> list[str]:
    """The header's column names, or RecordError for a missing, unknown or repeated one."""
    if not header:
        raise RecordError(path, 1, "header", f"file is empty; expected {','.join(columns)}")
    names = [name.strip() for name in header]
    for name in columns:
        if name not in names:
            raise RecordError(path, 1, name, f"missing column; expected {','.join(columns)}")
    for name in names:
        if names.count(name) > 1 or name not in columns:
            what = "duplicate" if name in columns else "unknown"
            raise RecordError(
                path, 1, name or "(blank)", f"{what} column; expected {','.join(columns)}"
            )
    return names


def _date_field(path: Path, line: int, field: str, text: str) -> dt.date:
    """A ``YYYY-MM-DD`` day that pandas can hold, or RecordError naming the field."""
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise RecordError(path, line, field, f"{text!r} is not a date YYYY-MM-DD") from None
    if not FIRST_DATE <= date <= LAST_DATE:
        raise RecordError(
            path, line, field, f"{text} is outside {FIRST_DATE} to {LAST_DATE} (what pandas holds)"
        )
    return date


def _whole(path: Path, line: int, field: str, text: str, unknown: str = "") -> int:
    """A whole number from 0 to MAX_CASUALTIES, or RecordError naming the field."""
    if not _WHOLE.fullmatch(text):
        raise RecordError(path, line, field, f"{text!r} is not a whole number >= 0{unknown}")
    number = int(text)
    if number < 0:
        raise RecordError(path, line, field, f"{text} is negative; a whole number >= 0")
    if number > MAX_CASUALTIES:
        raise RecordError(
            path, line, field, f"{text} is too large; a whole number <= {MAX_CASUALTIES}"
        )
    return number


class _Columns:
    """A record's validated columns, kept compactly as rows are read (a code per category,
    a day number per date, an integer and a flag per count), so that a large file loads in
    memory a small multiple of its size."""

    def __init__(self) -> None:
        self.days = array("q")  # proleptic ordinals of the dates
        self.codes: dict[str, bytearray] = {field: bytearray() for field in _CHOICES}
        self.counts = {field: array("q") for field in _CASUALTIES}
        self.known: dict[str, bytearray] = {field: bytearray() for field in _CASUALTIES}
        # the texts as UTF-8 bytes end to end, with where each row's text ends
        self.text: dict[str, tuple[bytearray, array]] = {
            field: (bytearray(), array("q", [0])) for field in _TEXTS
        }

    def __len__(self) -> int:
        return len(self.days)

    def add(self, path: Path, line: int, row: dict[str, str]) -> None:
        """Validate one row and append it, or raise RecordError naming the first bad field."""
        date = _date_field(path, line, "date", row["date"])
        values = {}
        for field, allowed in _CHOICES.items():
            if row[field] not in allowed:
                raise RecordError(
                    path, line, field, f"{row[field]!r} is not one of {', '.join(allowed)}"
                )
            values[field] = allowed.index(row[field])
        counts = {}
        for field in _CASUALTIES:
            text = row[field]
            counts[field] = (
                _whole(path, line, field, text, " (empty when unknown)") if text else None
            )
        if not row["source"]:
            raise RecordError(path, line, "source", "empty; name the source of the event")
        self.days.append(date.toordinal())
        for field, code in values.items():
            self.codes[field].append(code)
        for field, number in counts.items():
            self.counts[field].append(number or 0)
            self.known[field].append(number is not None)
        for field in _TEXTS:
            data, ends = self.text[field]
            data += row[field].encode()
            ends.append(len(data))

    def frame(self) -> pd.DataFrame:
        """The record as a DataFrame sorted by date (same-day rows in file order).

        Each column is put in date order on its own, its unordered copy let go before the
        next, so that sorting never holds two copies of the whole record.
        """
        epoch = dt.date(1970, 1, 1).toordinal()
        days = np.asarray(self.days, dtype=np.int64) - epoch
        self.days = array("q")
        order = np.argsort(days, kind="stable") if np.any(np.diff(days) < 0) else None

        def ordered(values):
            return values if order is None else values[order]

        dates = ordered(days).astype("datetime64[D]").astype("datetime64[ns]")
        data: dict[str, object] = {"date": dates}
        for field, allowed in _CHOICES.items():
            codes = ordered(np.frombuffer(self.codes.pop(field), dtype=np.int8))
            data[field] = pd.Categorical.from_codes(codes, categories=list(allowed))
        for field in _CASUALTIES:
            values = ordered(np.asarray(self.counts.pop(field), dtype=np.int64))
            known = ordered(np.frombuffer(self.known.pop(field), dtype=np.bool_))
            data[field] = pd.arrays.IntegerArray(values, ~known)
        for field in _TEXTS:  # Arrow strings over the same bytes, then pandas' text type
            chars, ends = self.text.pop(field)
            arrow = pa.LargeStringArray.from_buffers(
                len(ends) - 1, pa.py_buffer(ends), pa.py_buffer(chars)
            )
            del chars, ends
            if order is not None:
                arrow = arrow.take(pa.array(order))
            text = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([arrow])), copy=False)
            del arrow
            data[field] = text.astype(_TEXT_DTYPE)
        return pd.DataFrame(data, columns=list(COLUMNS))


def file_problem(option: str, path: str | Path, what: str = "a record file") -> str | None:
    """Why ``path``, given as ``option`` on a command line, cannot be read as a file, in one
    line (a folder, or nothing there), or None."""
    path = Path(path)
    if path.is_dir():
        return f"{option} {path}: is a folder, not {what}"
    if not path.is_file():
        return f"{option} {path}: no such file"
    return None


def _csv_rows(
    path: Path, expected: tuple[str, ...] = COLUMNS
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with a checked header (``_check_header`` against ``expected``, by
    default the event schema), as (line, {column: stripped text}); blank rows
    skipped. RecordError names the file, and the line of a row of the wrong length."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            names = _check_header(path, next(reader, None), expected)
            line = reader.line_num + 1
            for fields in reader:
                start, line = line, reader.line_num + 1  # a quoted note may span lines
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) != len(names):
                    raise RecordError(
                        path, start, "row", f"{len(fields)} fields, the header has {len(names)}"
                    )
                yield start, dict(zip(names, (f.strip() for f in fields), strict=True))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise RecordError(path, None, "file", f"cannot be read as UTF-8 CSV ({err})") from None


def load_events(path: str | Path) -> pd.DataFrame:
    """Load and validate an event record (schema in docs/data.md), sorted by date.

    The file is read row by row into compact columns: a record's DataFrame, and the peak
    memory of loading it, stay within a small multiple of the file's size.

    Raises:
        RecordError: the first row or column that breaks the schema, by file line (the
            header is line 1); nothing is returned in that case.
    """
    path = Path(path)
    columns = _Columns()
    for line, values in _csv_rows(path):
        columns.add(path, line, values)
    if not len(columns):
        raise RecordError(path, 2, "row", "no events; a record needs at least one row")
    return columns.frame()


def date_range(frame: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last event dates of a loaded record."""
    return frame["date"].min(), frame["date"].max()


def attacks(frame: pd.DataFrame) -> pd.DataFrame:
    """The militia attacks of a loaded record (the series the model's militias produce)."""
    return frame[frame["actor"] == "militia"]


def load_records(*paths: str | Path) -> pd.DataFrame:
    """Several records loaded as one, each validated by :func:`load_events`, sorted by date
    (rows of the same day keep the order of the files, then of their lines).

    Raises:
        RecordError: the first bad row of the first bad file, as :func:`load_events`.
    """
    if not paths:
        raise ValueError("load_records needs at least one record file")
    frames = [load_events(path) for path in paths]
    if len(frames) == 1:
        return frames[0]
    joined = pd.concat(frames, ignore_index=True)
    for field, allowed in _CHOICES.items():  # concat keeps the categories when all agree
        joined[field] = pd.Categorical(joined[field], categories=list(allowed))
    return joined.sort_values("date", kind="stable", ignore_index=True)


def full_record() -> pd.DataFrame:
    """The fuller record: the seeds' events and the public reports' events
    (:func:`seeds_record` and :func:`public_record`), loaded and validated as one."""
    return load_records(seeds_record(), public_record())


# --- tallies: aggregate counts of events over a period ----------------------------------------

COUNT_COLUMNS = (
    "start",
    "end",
    "actor",
    "action",
    "target",
    "country",
    "count",
    "scope",
    "source",
    "note",
)
#: the actions a tally may count: the record's actions, and ``attack`` for any attack
#: whatever its weapon (every action but ``airstrike`` and ``raid``: rocket, convoy IED,
#: drone, ballistic missile, assault, other)
COUNT_ACTIONS = (*ACTIONS, "attack")
ATTACK_ACTIONS = tuple(a for a in ACTIONS if a not in ("airstrike", "raid"))
#: the targets a tally may count: the record's targets, and ``any`` for every target
COUNT_TARGETS = (*TARGETS, "any")
#: the countries a tally may count: the record's countries, and ``any`` for all of them
#: (a total over several countries, such as the Pentagon's counts of 2023-2024)
COUNT_COUNTRIES = (*COUNTRIES, "any")
_COUNT_CHOICES = {
    "actor": ACTORS,
    "action": COUNT_ACTIONS,
    "target": COUNT_TARGETS,
    "country": COUNT_COUNTRIES,
}


def _count_row(path: Path, line: int, row: dict[str, str]) -> dict[str, object]:
    """One validated tally, or RecordError naming the first bad field."""
    start = _date_field(path, line, "start", row["start"])
    end = _date_field(path, line, "end", row["end"])
    if end < start:
        raise RecordError(path, line, "end", f"{end} is before start {start}")
    for field, allowed in _COUNT_CHOICES.items():
        if row[field] not in allowed:
            raise RecordError(
                path, line, field, f"{row[field]!r} is not one of {', '.join(allowed)}"
            )
    count = _whole(path, line, "count", row["count"])
    if not row["scope"]:
        raise RecordError(path, line, "scope", "empty; say what was counted, and where")
    if not row["source"]:
        raise RecordError(path, line, "source", "empty; name the source of the tally")
    return {
        "start": start, "end": end, "actor": row["actor"], "action": row["action"],
        "target": row["target"], "country": row["country"], "count": count, "scope": row["scope"],
        "source": row["source"], "note": row["note"],
    }  # fmt: skip


def load_counts(path: str | Path) -> pd.DataFrame:
    """Load and validate a file of tallies (schema in docs/data.md), in file order.

    Each row counts the events of one actor and action (``attack``: any attack) on one
    target (``any``: every target) in one country (``any``: every country) from ``start``
    to ``end`` (both days included), as a source tallied them.

    Raises:
        RecordError: the first row or column that breaks the schema, by file line (the
            header is line 1); nothing is returned in that case.
    """
    path = Path(path)
    rows = [_count_row(path, line, values) for line, values in _csv_rows(path, COUNT_COLUMNS)]
    if not rows:
        raise RecordError(path, 2, "row", "no tallies; a file of tallies needs at least one row")
    frame = pd.DataFrame(rows, columns=list(COUNT_COLUMNS))
    frame["start"] = pd.to_datetime(frame["start"]).astype("datetime64[ns]")
    frame["end"] = pd.to_datetime(frame["end"]).astype("datetime64[ns]")
    for field, allowed in _COUNT_CHOICES.items():
        frame[field] = pd.Categorical(frame[field], categories=list(allowed))
    frame["count"] = frame["count"].astype("int64")
    return frame


def coverage(events: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """How complete a dated record is against tallies: for each tally, how many of the
    record's events it covers (same actor; the same country or, for a tally of ``any``,
    every country; the same action or, for a tally of ``attack``, any attack action; the
    same target or, for a tally of ``any``, every target; dated from its start to its
    end, both included).

    Returns one row per tally, in the tallies' order: ``start``, ``end``, ``actor``,
    ``action``, ``target``, ``country``, ``scope``, ``tallied`` (the tally's count), ``listed`` (the
    record's events it covers) and ``share`` (listed / tallied; NaN for a tally of 0).
    """
    dates = events["date"].to_numpy()
    actors = events["actor"].astype(str).to_numpy()
    actions = events["action"].astype(str).to_numpy()
    countries = events["country"].astype(str).to_numpy()
    targets = events["target"].astype(str).to_numpy()
    listed = []
    for tally in counts.itertuples(index=False):
        wanted = ATTACK_ACTIONS if tally.action == "attack" else (str(tally.action),)
        inside = (dates >= np.datetime64(tally.start)) & (dates <= np.datetime64(tally.end))
        match = (
            inside
            & (actors == str(tally.actor))
            & ((countries == str(tally.country)) | (str(tally.country) == "any"))
            & np.isin(actions, wanted)
            & ((targets == str(tally.target)) | (str(tally.target) == "any"))
        )
        listed.append(int(match.sum()))
    table = counts[["start", "end", "actor", "action", "target", "country", "scope"]].copy()
    table["tallied"] = counts["count"].to_numpy()
    table["listed"] = np.asarray(listed, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = table["listed"] / table["tallied"].where(table["tallied"] > 0)
    table["share"] = share.astype("float64")
    return table.reset_index(drop=True)
