"""The documentation stays true to the code: every parameter with its current default."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from conftest import config

from sim.daily import daily_columns
from sim.events import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
ODD = (ROOT / "docs" / "ODD.md").read_text()
README = (ROOT / "README.md").read_text()


def _scalar_fields(node):
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if dataclasses.is_dataclass(value) or f.name in {"name", "source", "label"}:
            continue
        if isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            continue
        yield f.name, value


def _blocks():
    cfg = config()
    return {
        "doctrine.us": cfg.doctrine.us,
        "doctrine.iran": cfg.doctrine.iran,
        "doctrine.israel": cfg.doctrine.israel,
        "doctrine.iraq": cfg.doctrine.iraq,
        "actors.dynamics": cfg.actors.dynamics,
        "actors": cfg.actors,
        "ladder": cfg.ladder,
    }


@pytest.mark.parametrize("block", list(_blocks()))
def test_odd_tables_list_every_parameter_with_its_default(block):
    node = _blocks()[block]
    for name, value in _scalar_fields(node):
        row = re.search(rf"^\| `{name}` \| ([^|]*) \|", ODD, flags=re.M)
        assert row, f"{block}.{name} missing from docs/ODD.md"
        cells = [
            m.group(1).strip() for m in re.finditer(rf"^\| `{name}` \| ([^|]*) \|", ODD, flags=re.M)
        ]
        assert str(value) in cells, f"{block}.{name}: ODD says {cells}, config says {value}"


def test_odd_militia_and_weapon_tables_match_the_config():
    cfg = config()
    for f in dataclasses.fields(cfg.actors.militias[0]):
        if f.name in {"name", "label", "source"}:
            continue
        values = [getattr(m, f.name) for m in cfg.actors.militias]
        if isinstance(values[0], dict):  # a keyed table (stocks by weapon): a row per key
            for key in cfg.weapons:
                shown = " | ".join(str(float(v.get(key, 0.0))) for v in values)
                assert f"| `{f.name}.{key}` | {shown} |" in ODD, f"{f.name}.{key}"
            continue
        shown = " | ".join(", ".join(v) if isinstance(v, list) else str(v) for v in values)
        assert f"| `{f.name}` | {shown} |" in ODD, f.name
    for f in dataclasses.fields(next(iter(cfg.weapons.values()))):
        if f.name == "source":
            continue
        shown = " | ".join(str(getattr(w, f.name)) for w in cfg.weapons.values())
        assert f"| `{f.name}` | {shown} |" in ODD, f.name


def test_readme_documents_every_output_column():
    for column in (*COLUMNS, *daily_columns(config().weapons)):
        assert f"`{column}`" in README, column
    for name in ("events.parquet", "daily.parquet", "summary.json", "timeline.png", "map.png"):
        assert name in README


def test_readme_quick_start_is_make_run_and_make_test():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", quick, flags=re.M)
    assert commands == ["make run", "make test"]
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


def test_readme_figure_exists():
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (ROOT / image).is_file(), image


DOCTRINES = (ROOT / "docs" / "doctrines.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("group", ["us", "iran", "israel", "iraq"])
def test_doctrines_doc_lists_every_option_with_its_values(group):
    options = sorted(p.stem for p in (ROOT / "configs" / "doctrine" / group).glob("*.yaml"))
    header = next(
        line
        for line in DOCTRINES.splitlines()
        if line.startswith("| parameter |") and f"`{options[0]}`" in line
    )
    shown = re.findall(r"`([a-z_]+)`", header)
    assert sorted(shown) == options, f"docs/doctrines.md must list every {group} doctrine"
    # composed once for this test and test_doctables.py (the cache of conftest.config)
    configs = {o: getattr(config(f"doctrine/{group}={o}").doctrine, group) for o in shown}
    for f in dataclasses.fields(configs[shown[0]]):
        if f.name in {"name", "source"}:
            continue
        values = [getattr(configs[o], f.name) for o in shown]
        cells = " | ".join(
            ", ".join(v)
            if isinstance(v, list) and v
            else "(none)"
            if isinstance(v, list)
            else ("true" if v else "false")
            if isinstance(v, bool)
            else str(v)
            for v in values
        )
        assert f"| `{f.name}` | {cells} |" in DOCTRINES, (group, f.name)


@pytest.mark.slow
def test_readme_python_example_runs():
    block = README.split("## From Python", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    assert len(namespace["result"].replicates) == 1000
    assert namespace["model"].day == 1


def test_readme_api_example_runs():
    section = README.split("### Notebooks and the Python API", 1)[1]
    block = section.split("```python", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    crisis = namespace["crisis"]
    assert len(crisis.replicates) == 1000
    assert "dec2019_crisis" in repr(crisis) and "syria_only" in repr(crisis)
    for name in ("01_compare_doctrines", "02_december_2019", "03_sweep_analysis"):
        assert (ROOT / "notebooks" / f"{name}.py").is_file() and f"`{name}`" in section
