"""The seeds' event record and the loader that validates any record against the schema."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import coverage as coverage_command
from sim.record import (
    ACTIONS,
    ACTORS,
    COLUMNS,
    COUNT_COLUMNS,
    COUNTRIES,
    TARGETS,
    RecordError,
    attacks,
    coverage,
    date_range,
    event_counts,
    full_record,
    load_counts,
    load_events,
    load_records,
    public_record,
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


# --- the public reports' record, loaded with the seeds' ----------------------------------

SEED_FILES = {SEED_001, SEED_003, SEED_004}


@pytest.fixture(scope="module")
def public() -> pd.DataFrame:
    return load_events(public_record())


def test_public_record_loads_and_every_row_cites_a_page(public: pd.DataFrame) -> None:
    assert public_record().name == "events_public.csv"
    assert len(public) > 0
    assert public["source"].str.match(r"https?://\S+$").all()
    assert not public["source"].isin(SEED_FILES).any()


def test_public_record_lies_in_october_2019_to_december_2021(public: pd.DataFrame) -> None:
    first, last = date_range(public)
    assert first >= pd.Timestamp("2019-10-01") and last <= pd.Timestamp("2021-12-31")


def test_public_record_repeats_no_seed_event(seeds: pd.DataFrame, public: pd.DataFrame) -> None:
    """One row per event across the two files: a public row never has a seed row's day,
    actor, action and target (the seeds' events are not transcribed twice)."""
    key = ["date", "actor", "action", "target"]
    both = seeds[key].astype(str).merge(public[key].astype(str), on=key)
    assert both.empty, both


def test_full_record_is_the_seeds_and_the_public_rows_sorted(
    seeds: pd.DataFrame, public: pd.DataFrame
) -> None:
    full = full_record()
    assert len(full) == len(seeds) + len(public)
    assert full["date"].is_monotonic_increasing
    assert tuple(full.columns) == COLUMNS
    assert list(full["action"].cat.categories) == list(ACTIONS)
    assert sorted(full["source"]) == sorted([*seeds["source"], *public["source"]])


def test_load_records_keeps_file_order_within_a_day(tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text(",".join(COLUMNS) + "\n2020-08-02,militia,rocket,taji,iraq,,,a,s\n")
    second = tmp_path / "b.csv"
    second.write_text(
        ",".join(COLUMNS)
        + "\n2020-08-02,us,airstrike,militia_site,iraq,,,b,s\n2020-08-01,iran,drone,k1,iraq,,,c,s\n"
    )
    frame = load_records(first, second)
    assert frame["notes"].tolist() == ["c", "a", "b"]


def test_load_records_refuses_the_first_bad_file(tmp_path: Path) -> None:
    good = _write(tmp_path, GOOD)
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(COLUMNS) + "\n2020-07-24,militia,mortar,other,iraq,,,,s\n")
    with pytest.raises(RecordError, match=r"bad\.csv, line 2: action: "):
        load_records(good, bad)


# --- tallies ---------------------------------------------------------------------------------

COUNT_HEADER = ",".join(COUNT_COLUMNS)
TALLY = "2020-08-01,2020-08-31,militia,attack,any,iraq,5,attacks in August,page,"


def _counts(tmp_path: Path, *lines: str, header: str = COUNT_HEADER) -> Path:
    path = tmp_path / "counts.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def _bad_counts(tmp_path: Path, line: int, field: str, *lines: str, **kw: str) -> str:
    path = _counts(tmp_path, *lines, **kw)
    with pytest.raises(RecordError) as err:
        load_counts(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}, line {line}: {field}: "), message
    return message


def test_shipped_counts_load_with_their_types() -> None:
    counts = load_counts(event_counts())
    assert tuple(counts.columns) == COUNT_COLUMNS
    assert len(counts) > 0
    assert counts["start"].dtype == counts["end"].dtype == "datetime64[ns]"
    assert (counts["end"] >= counts["start"]).all()
    assert counts["count"].dtype == "int64" and (counts["count"] >= 0).all()
    assert counts["source"].str.match(r"https?://\S+$").all()


@pytest.mark.parametrize(
    ("row", "field", "fragment"),
    [
        ("2020-08-01,2020-08-31,militia,attack,any,iraq,-1,x,s,", "count", "-1 is negative"),
        ("2020-08-01,2020-08-31,militia,attack,any,iraq,many,x,s,", "count", "not a whole"),
        ("2020-08-01,2020-08-31,militia,attack,any,iraq,99999999999,x,s,", "count", "too large"),
        ("2020-08-31,2020-08-01,militia,attack,any,iraq,3,x,s,", "end", "before start"),
        ("2020-08-01,2020-08-31,hezbollah,attack,any,iraq,3,x,s,", "actor", "'hezbollah'"),
        ("2020-08-01,2020-08-31,militia,mortar,any,iraq,3,x,s,", "action", "'mortar'"),
        ("2020-08-01,2020-08-31,militia,attack,base,iraq,3,x,s,", "target", "'base'"),
        ("2020-08-01,2020-08-31,militia,attack,any,lebanon,3,x,s,", "country", "'lebanon'"),
        ("2020-8-1,2020-08-31,militia,attack,any,iraq,3,x,s,", "start", "not a date"),
        ("2020-08-01,2020-02-30,militia,attack,any,iraq,3,x,s,", "end", "not a date"),
        ("1600-08-01,2020-08-31,militia,attack,any,iraq,3,x,s,", "start", "outside"),
        ("2020-08-01,2020-08-31,militia,attack,any,iraq,3,x,,", "source", "empty"),
        ("2020-08-01,2020-08-31,militia,attack,any,iraq,3,,s,", "scope", "empty"),
        ("2020-08-01,2020-08-31,militia,attack,any,iraq,3,x,s", "row", "9 fields"),
    ],
)
def test_bad_tally_is_refused_naming_line_and_field(
    tmp_path: Path, row: str, field: str, fragment: str
) -> None:
    assert fragment in _bad_counts(tmp_path, 3, field, TALLY, row)


def test_tally_header_and_empty_files_are_refused(tmp_path: Path) -> None:
    without = ",".join(c for c in COUNT_COLUMNS if c != "scope")
    _bad_counts(tmp_path, 1, "scope", "x", header=without)
    _bad_counts(tmp_path, 1, "weapon", "x", header=COUNT_HEADER + ",weapon")
    _bad_counts(tmp_path, 2, "row")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(RecordError, match=r"line 1: header: file is empty"):
        load_counts(empty)
    with pytest.raises(RecordError, match=r"absent\.csv: file: "):
        load_counts(tmp_path / "absent.csv")


# --- coverage of the dated list against the tallies ----------------------------------------

SYNTHETIC_EVENTS = [
    "2020-08-01,militia,rocket,taji,iraq,,,,s",  # in August: rocket
    "2020-08-15,militia,ied_convoy,convoy,iraq,,,,s",  # in August: convoy IED
    "2020-08-31,militia,drone,erbil,iraq,,,,s",  # last day of August
    "2020-09-01,militia,rocket,taji,iraq,,,,s",  # September: outside the August tallies
    "2020-08-10,us,airstrike,militia_site,iraq,,,,s",  # not a militia attack
    "2020-08-12,militia,rocket,syria_site,syria,,,,s",  # Syria, not Iraq
    "2020-08-20,iraq_gov,raid,militia_site,iraq,,,,s",  # a raid: not an attack
]
SYNTHETIC_TALLIES = [
    "2020-08-01,2020-08-31,militia,attack,any,iraq,6,all attacks in August,s,",
    "2020-08-01,2020-08-31,militia,rocket,any,iraq,4,rockets in August,s,",
    "2020-08-01,2020-08-31,militia,attack,convoy,iraq,2,convoy attacks in August,s,",
    "2020-08-01,2020-09-30,militia,rocket,taji,iraq,2,rockets on Taji,s,",
    "2020-08-01,2020-08-31,us,airstrike,any,iraq,0,US strikes,s,",
    "2020-08-02,2020-08-30,militia,attack,any,iraq,1,inside the month,s,",
]


def test_coverage_counts_the_listed_events_of_each_tally(tmp_path: Path) -> None:
    events = load_events(_write(tmp_path, *SYNTHETIC_EVENTS))
    counts = load_counts(_counts(tmp_path, *SYNTHETIC_TALLIES))
    table = coverage(events, counts)
    assert table["listed"].tolist() == [3, 1, 1, 2, 1, 1]
    assert table["tallied"].tolist() == [6, 4, 2, 2, 0, 1]
    assert table["share"].iloc[:4].tolist() == [0.5, 0.25, 0.5, 1.0]
    assert np.isnan(table["share"].iloc[4])  # a tally of 0: no share
    assert table["share"].iloc[5] == 1.0
    assert table["scope"].iloc[0] == "all attacks in August"


def test_coverage_command_prints_the_table(tmp_path: Path, capsys) -> None:
    events = _write(tmp_path, *SYNTHETIC_EVENTS)
    counts = _counts(tmp_path, *SYNTHETIC_TALLIES)
    coverage_command.main(["--events", str(events), "--counts", str(counts)])
    out = capsys.readouterr().out
    assert (
        "| 2020-08-01 to 2020-08-31 | militia | attack | any | iraq | all attacks in August" in out
    )
    assert "| 6 | 3 | 50% |" in out
    assert "| 0 | 1 |  |" in out


def test_coverage_command_rewrites_only_the_generated_part(tmp_path: Path, capsys) -> None:
    events = _write(tmp_path, *SYNTHETIC_EVENTS)
    counts = _counts(tmp_path, *SYNTHETIC_TALLIES)
    doc = tmp_path / "data.md"
    start, end = coverage_command.START, coverage_command.END
    doc.write_text(f"# Prose\n\n{start}\nstale\n{end}\n\nMore prose.\n")
    argv = ["--events", str(events), "--counts", str(counts), "--doc", str(doc)]
    with pytest.raises(SystemExit) as exit_:
        coverage_command.main([*argv, "--check"])
    assert exit_.value.code == 1
    coverage_command.main(argv)
    text = doc.read_text()
    assert text.startswith("# Prose\n\n") and text.endswith("\n\nMore prose.\n")
    assert "| 4 | 1 | 25% |" in text
    coverage_command.main([*argv, "--check"])
    assert "up to date" in capsys.readouterr().out


def test_data_doc_coverage_table_is_generated_from_the_shipped_files() -> None:
    records = load_records(*coverage_command.shipped_records())
    table = coverage(records, load_counts(event_counts()))
    assert coverage_command.generated_part(DATA_DOC) == coverage_command.generated(table), (
        "docs/data.md's coverage table is out of date with data/: run make doc-tables"
    )


def test_data_doc_counts_match_the_public_record(public: pd.DataFrame) -> None:
    """The doc's table of the public rows by action and year is the file's."""
    section = DATA_DOC.split("### What the public record holds", 1)[1].split("\n### ", 1)[0]
    header = re.search(r"^\| action((?: \| \d{4})+) \|$", section, flags=re.MULTILINE)
    years = [int(y) for y in re.findall(r"\d{4}", header.group(1))]
    documented = {}
    rows = re.findall(r"^\| ([a-z_]+)((?: \| \d+)+) \|$", section, flags=re.MULTILINE)
    for action, cells in (row for row in rows if row[0] != "action"):
        for year, n in zip(years, re.findall(r"\d+", cells), strict=True):
            if int(n):
                documented[(year, action)] = int(n)
    counted = public.groupby([public["date"].dt.year, "action"], observed=True).size()
    assert documented == {(int(y), str(a)): int(n) for (y, a), n in counted.items() if n}
    first, last = date_range(public)
    pages = public["source"].nunique()
    assert f"{len(public)} events from {first.date()} to {last.date()}, read in {pages} pages" in (
        " ".join(section.split())
    )
