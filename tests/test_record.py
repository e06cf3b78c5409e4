"""The seeds' event record and the loader that validates any record against the schema."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.record import (
    ACTIONS,
    ACTORS,
    COLUMNS,
    COUNTRIES,
    TARGETS,
    RecordError,
    attacks,
    date_range,
    load_events,
    seeds_record,
)

SEED_003 = "003_3a95ae8d279ce84b.txt"
SEED_004 = "004_1f3a1c9e903c2ecf.txt"
SEED_001 = "001_9aed0e2ca0549bec.txt"

# The sentence of seed 003_3a95ae8d279ce84b.txt that lists the July-September attacks,
# quoted verbatim so the expected dates come from the article, not from the CSV.
SEED_003_LIST = (
    "Convoys for US facilities were attacked by IEDs on July 23; August 3, 9, 23 and 26; "
    "September 2, 3, 5, 7, 15, 18, 21, 27 and 28. Rockets were fired on July 24, 27, 28, "
    "30 and 31; August 3, 5, 11, 14, 15, 16, 18, 28, 29 and 30; September 6, 7, 10, 15, "
    "16 and 20."
)


def _dates_in(clause: str, year: int) -> list[dt.date]:
    """Expand 'July 23; August 3, 9 and 26' into dates of the given year."""
    dates = []
    for part in clause.split(";"):
        month, days = part.strip().split(" ", 1)
        number = dt.datetime.strptime(month, "%B").month
        dates += [dt.date(year, number, int(day)) for day in re.findall(r"\d+", days)]
    return dates


def _seed_003_dates() -> tuple[list[dt.date], list[dt.date]]:
    ieds, rockets = re.match(
        r"[^\d]*on (.*?)\. Rockets were fired on (.*)\.", SEED_003_LIST
    ).groups()
    # The seed names no year; Kadhimi as prime minister and Ghaani as Soleimani's successor
    # place it in 2020 (see docs/data.md).
    return _dates_in(ieds, 2020), _dates_in(rockets, 2020)


@pytest.fixture(scope="module")
def seeds() -> pd.DataFrame:
    return load_events(seeds_record())


# --- the seeds' record -------------------------------------------------------------------


def test_seeds_record_is_packaged_beside_sim() -> None:
    path = seeds_record()
    assert path.is_file() and path.name == "events_seeds.csv"


def test_seeds_record_prefers_the_installed_copy(tmp_path: Path) -> None:
    """An installed wheel holds the file at sim/data/ (hatch force-include), not ../data/."""
    package = tmp_path / "sim"
    (package / "data").mkdir(parents=True)
    shutil.copy(Path(__file__).parents[1] / "sim" / "record.py", package / "record.py")
    shutil.copy(seeds_record(), package / "data" / "events_seeds.csv")
    spec = importlib.util.spec_from_file_location("installed_record", package / "record.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.seeds_record() == (package / "data" / "events_seeds.csv").resolve()


def test_seeds_record_loads_with_the_schema_types(seeds: pd.DataFrame) -> None:
    assert tuple(seeds.columns) == COLUMNS
    assert seeds["date"].dtype == "datetime64[ns]"
    assert str(seeds["killed_us"].dtype) == "Int64" == str(seeds["wounded_us"].dtype)
    assert list(seeds["actor"].cat.categories) == list(ACTORS)
    assert seeds["date"].is_monotonic_increasing


def test_seed_003_convoy_ied_and_rocket_dates_match_the_article(seeds: pd.DataFrame) -> None:
    ieds, rockets = _seed_003_dates()
    assert (len(ieds), len(rockets)) == (14, 21)
    rows = seeds[seeds["source"] == SEED_003]
    assert set(rows["actor"]) == {"militia"}
    got_ieds = rows.loc[rows["action"] == "ied_convoy", "date"].dt.date.tolist()
    got_rockets = rows.loc[rows["action"] == "rocket", "date"].dt.date.tolist()
    assert got_ieds == ieds
    assert got_rockets == rockets
    assert len(rows) == len(ieds) + len(rockets)


def test_december_2019_sequence_from_seed_004(seeds: pd.DataFrame) -> None:
    """K1 rockets (one US contractor killed) -> US strikes two days later -> embassy assault."""
    rows = seeds[(seeds["source"] == SEED_004) & (seeds["date"] >= "2019-12-01")]
    got = [(r.date.date().isoformat(), r.actor, r.action, r.target) for r in rows.itertuples()]
    assert got == [
        ("2019-12-27", "militia", "rocket", "k1"),
        ("2019-12-29", "us", "airstrike", "militia_site"),
        ("2019-12-31", "militia", "assault", "baghdad_embassy"),
    ]
    assert rows.iloc[0]["killed_us"] == 1 and pd.isna(rows.iloc[0]["wounded_us"])


def test_february_march_2021_exchange_from_seed_001(seeds: pd.DataFrame) -> None:
    rows = seeds[seeds["source"] == SEED_001]
    strike, rockets = rows.iloc[0], rows.iloc[1]
    assert (strike["date"], strike["actor"], strike["country"]) == (
        pd.Timestamp("2021-02-25"),
        "us",
        "syria",
    )
    assert (rockets["date"], rockets["target"]) == (pd.Timestamp("2021-03-03"), "ain_al_asad")
    assert "February 26" in strike["notes"]  # seed 000's date for the same strike


def test_every_date_lies_in_the_seeds_period(seeds: pd.DataFrame) -> None:
    # Seed 004 speaks of 2019 as "this year"; seed 000, the latest, is dated 30 May 2021.
    assert seeds["date"].min() >= pd.Timestamp("2019-01-01")
    assert seeds["date"].max() <= pd.Timestamp("2021-05-30")
    in_003 = seeds.loc[seeds["source"] == SEED_003, "date"]
    assert in_003.between("2020-07-01", "2020-09-30").all()


def test_one_row_per_event_and_sources_are_seed_files(seeds: pd.DataFrame) -> None:
    key = ["date", "actor", "action", "target", "country"]
    assert not seeds.duplicated(key).any()
    assert seeds["source"].str.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt").all()


def test_date_range_and_attacks(seeds: pd.DataFrame) -> None:
    first, last = date_range(seeds)
    assert (first, last) == (seeds["date"].iloc[0], seeds["date"].iloc[-1])
    militia = attacks(seeds)
    assert set(militia["actor"]) == {"militia"}
    assert len(militia) == (seeds["actor"] == "militia").sum() > 0


# --- any record: the format and its errors ------------------------------------------------

GOOD = "2020-07-24,militia,rocket,other,iraq,,,rockets fired,my_source.txt"


def _write(tmp_path: Path, *lines: str, header: str = ",".join(COLUMNS)) -> Path:
    path = tmp_path / "events.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def _bad(tmp_path: Path, line: int, field: str, *lines: str, **kw: str) -> str:
    path = _write(tmp_path, *lines, **kw)
    with pytest.raises(RecordError) as err:
        load_events(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}, line {line}: {field}: "), message
    return message


@pytest.mark.parametrize(
    ("row", "field", "allowed"),
    [
        ("2020-07-24,hezbollah,rocket,other,iraq,,,,s", "actor", ACTORS),
        ("2020-07-24,militia,mortar,other,iraq,,,,s", "action", ACTIONS),
        ("2020-07-24,militia,rocket,green_zone,iraq,,,,s", "target", TARGETS),
        ("2020-07-24,militia,rocket,other,lebanon,,,,s", "country", COUNTRIES),
    ],
)
def test_unknown_category_names_line_field_and_allowed_values(
    tmp_path: Path, row: str, field: str, allowed: tuple[str, ...]
) -> None:
    message = _bad(tmp_path, 3, field, GOOD, row)
    assert all(value in message for value in allowed)


@pytest.mark.parametrize("date", ["2020-13-01", "2020-02-30", "24/07/2020", "20200724", "July"])
def test_bad_date_is_rejected(tmp_path: Path, date: str) -> None:
    _bad(tmp_path, 2, "date", f"{date},militia,rocket,other,iraq,,,,s")


@pytest.mark.parametrize(
    ("killed", "wounded", "field"),
    [
        ("-1", "", "killed_us"),
        ("", "-3", "wounded_us"),
        ("1.5", "", "killed_us"),
        ("", "a", "wounded_us"),
    ],
)
def test_bad_casualties_are_rejected(tmp_path: Path, killed: str, wounded: str, field: str) -> None:
    _bad(tmp_path, 3, field, GOOD, f"2020-07-25,militia,rocket,other,iraq,{killed},{wounded},,s")


def test_empty_source_is_rejected(tmp_path: Path) -> None:
    _bad(tmp_path, 2, "source", "2020-07-24,militia,rocket,other,iraq,,,note,")


def test_missing_and_extra_columns_are_rejected_on_the_header(tmp_path: Path) -> None:
    without = ",".join(c for c in COLUMNS if c != "wounded_us")
    _bad(tmp_path, 1, "wounded_us", "2020-07-24,militia,rocket,other,iraq,,,s", header=without)
    extra = ",".join([*COLUMNS, "weapon"])
    _bad(tmp_path, 1, "weapon", GOOD + ",x", header=extra)


def test_row_with_wrong_number_of_fields_is_rejected(tmp_path: Path) -> None:
    _bad(tmp_path, 3, "row", GOOD, "2020-07-24,militia,rocket,other,iraq,,,s")


def test_empty_file_and_header_only_are_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(RecordError, match=r"line 1: header: "):
        load_events(empty)
    _bad(tmp_path, 2, "row")


def test_missing_file_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match=r"absent\.csv: file: "):
        load_events(tmp_path / "absent.csv")


def test_line_numbers_follow_the_file_across_quoted_newlines(tmp_path: Path) -> None:
    note = '2020-07-24,militia,rocket,other,iraq,,,"a note\nover two lines",s'
    _bad(tmp_path, 5, "actor", note, "", "2020-07-25,militias,rocket,other,iraq,,,,s")


def test_good_record_loads_sorted_with_unknown_casualties_as_na(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '2021-03-03,militia,rocket,ain_al_asad,iraq,1,0,"ten rockets, one death",a.txt',
        "2021-02-25,us,airstrike,militia_site,syria,,,,b.txt",
    )
    frame = load_events(path)
    assert frame["date"].tolist() == [pd.Timestamp("2021-02-25"), pd.Timestamp("2021-03-03")]
    assert pd.isna(frame.loc[0, "killed_us"]) and frame.loc[1, "wounded_us"] == 0
    assert frame.loc[1, "notes"] == "ten rockets, one death"


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)),
            st.sampled_from(ACTORS),
            st.sampled_from(ACTIONS),
            st.sampled_from(TARGETS),
            st.sampled_from(COUNTRIES),
            st.one_of(st.none(), st.integers(0, 500)),
            st.one_of(st.none(), st.integers(0, 500)),
            st.text(
                st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from('\n,"'),
                max_size=30,
            ),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_any_valid_record_round_trips(tmp_path_factory: pytest.TempPathFactory, rows) -> None:
    path = tmp_path_factory.mktemp("record") / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for date, actor, action, target, country, killed, wounded, notes in rows:
            killed, wounded = ("" if v is None else v for v in (killed, wounded))
            writer.writerow([date, actor, action, target, country, killed, wounded, notes, "s"])
    frame = load_events(path)
    expected = sorted(rows, key=lambda r: r[0])
    assert frame["date"].dt.date.tolist() == [r[0] for r in expected]
    assert frame["actor"].tolist() == [r[1] for r in expected]
    assert frame["killed_us"].fillna(-1).tolist() == [
        -1 if r[5] is None else r[5] for r in expected
    ]


# --- the documentation matches the record -------------------------------------------------

DATA_DOC = (Path(__file__).parents[1] / "docs" / "data.md").read_text(encoding="utf-8")


def test_data_doc_counts_match_the_seeds_record(seeds: pd.DataFrame) -> None:
    table = re.findall(r"^\| (\w+) \| (\w+) \| (\d+) \|$", DATA_DOC, flags=re.MULTILINE)
    documented = {(actor, action): int(n) for actor, action, n in table}
    counted = seeds.groupby(["actor", "action"], observed=True).size()
    assert documented == {key: int(n) for key, n in counted.items()}
    assert f"{len(seeds)} events from" in DATA_DOC


def test_data_doc_python_example_runs() -> None:
    block = re.search(r"```python\n(.*?)```", DATA_DOC, flags=re.DOTALL).group(1)
    namespace: dict[str, object] = {}
    exec(compile(block, "docs/data.md", "exec"), namespace)  # noqa: S102
    assert len(namespace["militia"]) > 0
