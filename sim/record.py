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
COUNTRIES = ("iraq", "syria", "iran")

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
        text = row["date"]
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError
            date = dt.date.fromisoformat(text)
        except ValueError:
            raise RecordError(path, line, "date", f"{text!r} is not a date YYYY-MM-DD") from None
        if not FIRST_DATE <= date <= LAST_DATE:
            raise RecordError(
                path,
                line,
                "date",
                f"{text} is outside {FIRST_DATE} to {LAST_DATE} (what pandas holds)",
            )
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
            if text and not _WHOLE.fullmatch(text):
                raise RecordError(
                    path, line, field, f"{text!r} is not a whole number >= 0 (empty when unknown)"
                )
            number = int(text) if text else None
            if number is not None and number < 0:
                raise RecordError(path, line, field, f"{text} is negative; a whole number >= 0")
            if number is not None and number > MAX_CASUALTIES:
                raise RecordError(
                    path, line, field, f"{text} is too large; a whole number <= {MAX_CASUALTIES}"
                )
            counts[field] = number
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
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            _check_header(path, header)
            names = [name.strip() for name in header or ()]
            line = reader.line_num + 1
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
                columns.add(path, start, dict(zip(names, (f.strip() for f in fields), strict=True)))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise RecordError(path, None, "file", f"cannot be read as UTF-8 CSV ({err})") from None
    if not len(columns):
        raise RecordError(path, 2, "row", "no events; a record needs at least one row")
    return columns.frame()


def date_range(frame: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last event dates of a loaded record."""
    return frame["date"].min(), frame["date"].max()


def attacks(frame: pd.DataFrame) -> pd.DataFrame:
    """The militia attacks of a loaded record (the series the model's militias produce)."""
    return frame[frame["actor"] == "militia"]
