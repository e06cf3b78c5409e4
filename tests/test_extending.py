"""The worked examples of docs/extending.md apply to the code as it is, and work.

Each example's changes (the ``<!-- apply: ... -->`` markers, syntax at the top of the doc)
are made to a copy of the project in ``tmp_path``; the example must change exactly the
files its "Files touched" list names, its Python must pass ruff, and its ``<!-- check -->``
block must then run to the end in that copy (it imports the copy, not this tree). A
marker whose anchor text is no longer in its file fails here first: the doc is stale.

The weapons example adds a weapon with two files, so no module of the model may name a
weapon (the record's vocabulary and the default weapons' colours aside).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "extending.md"
#: what the package needs to import and compose, and what the examples change or check
COPIED = ("sim", "configs", "data", "hydra_plugins", "docs", "tests", "pyproject.toml", "README.md")
#: tools' caches: left out of the copy, and with ``__pycache__`` (copied, for the compiled
#: helpers) out of the comparison of files before and after
CACHES = (".pytest_cache", ".ruff_cache", ".hypothesis")
SKIPPED = ("__pycache__", *CACHES)

MARKER = re.compile(r"^<!-- (?:apply: (?P<step>.+?)|(?P<check>check)) -->[ \t]*$", re.M)
BLOCK = re.compile(r"\s*^```[\w-]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
STEP = re.compile(
    r"^(?:(?P<new>new) (?P<new_path>\S+)"
    r'|(?P<where>after|before|replace) "(?P<text>(?:[^"\\]|\\.)+)" in (?P<path>\S+)'
    r"|run (?P<command>.+))$"
)


@dataclass
class Step:
    marker: str  # the marker as written, for messages
    kind: str  # new, after, before, replace or run
    path: str = ""
    text: str = ""  # the anchor (after, before, replace)
    body: str = ""  # the block (new, after, before, replace) or the command (run)


@dataclass
class Example:
    number: int
    title: str
    text: str
    files: list[str]
    steps: list[Step]
    check: str | None


def examples() -> dict[int, Example]:
    """The doc's examples, by number."""
    doc = DOC.read_text()
    parts = re.split(r"^## Example (\d+): (.*)$", doc, flags=re.M)
    found = {}
    for number, title, text in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        text = text.split("\n## ", 1)[0]  # up to the next section
        found[int(number)] = Example(
            int(number), title.strip(), text, files_touched(text), *steps(int(number), text)
        )
    return found


def files_touched(text: str) -> list[str]:
    """The paths of the example's "Files touched" list: the first code span of each item of
    the list that follows the paragraph starting with **Files touched**."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("**Files touched**")), None)
    assert start is not None, "an example must have a **Files touched** list"
    items = itertools.dropwhile(lambda line: not line.startswith("- "), lines[start:])
    listed = itertools.takewhile(lambda line: line.startswith(("- ", "  ")), items)
    return [re.match(r"- `([^`]+)`", line)[1] for line in listed if line.startswith("- ")]


def steps(number: int, text: str) -> tuple[list[Step], str | None]:
    """The example's changes in order, and its check block."""
    found, check = [], None
    for marker in MARKER.finditer(text):
        block = BLOCK.match(text, marker.end())
        where = f"docs/extending.md, example {number}: {marker[0]}"
        if marker["check"]:
            assert block, f"{where}: no Python block follows"
            check = block["body"]
            continue
        step = STEP.match(marker["step"])
        assert step, f"{where}: not a marker this test knows (see the top of the doc)"
        if step["command"]:
            found.append(Step(marker[0], "run", body=step["command"]))
            continue
        assert block, f"{where}: no block follows"
        if step["new"]:
            found.append(Step(marker[0], "new", step["new_path"], body=block["body"]))
        else:
            anchor = re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m[1], m[1]), step["text"])
            found.append(Step(marker[0], step["where"], step["path"], anchor, block["body"]))
    return found, check


# --- making the changes in a copy ------------------------------------------------------------


def copy_project(to: Path) -> Path:
    """The parts of the project the examples need, copied with their timestamps (so the
    compiled helpers' cache in ``__pycache__`` stays valid and nothing compiles again)."""
    to.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, to / name, ignore=shutil.ignore_patterns(*CACHES))
        else:
            shutil.copy2(source, to / name)
    return to


def snapshot(root: Path) -> dict[str, str]:
    """Each file's digest, by path relative to ``root`` (caches left out)."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and not set(path.relative_to(root).parts) & set(SKIPPED)
    }


def environment(copy: Path) -> dict[str, str]:
    """This interpreter's environment, importing ``sim`` from the copy first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=str(copy), MPLBACKEND="Agg")
    return env


def apply(step: Step, copy: Path, example: int) -> None:
    """Make one change in the copy; an anchor not found once in its file fails the test."""
    where = f"docs/extending.md, example {example}: {step.marker}"
    if step.kind == "run":
        command = shlex.split(step.body)
        if command[0] == "python":
            command[0] = sys.executable
        proc = subprocess.run(
            command, cwd=copy, env=environment(copy), capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, f"{where}: failed\n{proc.stdout}\n{proc.stderr}"
        return
    path = copy / step.path
    if step.kind == "new":
        assert not path.exists(), f"{where}: {step.path} exists already"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(step.body)
        return
    assert path.is_file(), f"{where}: no file {step.path}"
    text = path.read_text()
    count = text.count(step.text)
    assert count == 1, (
        f"{where}: the anchor is found {count} times in {step.path}, not once: "
        "the doc is stale (update the anchor or the block)"
    )
    at = text.index(step.text)
    start = text.rfind("\n", 0, at) + 1  # the anchor's first line
    end = text.find("\n", at + len(step.text))  # the end of its last line
    end = len(text) if end < 0 else end + 1
    if step.kind == "after":
        text = text[:end] + step.body + text[end:]
    elif step.kind == "before":
        text = text[:start] + step.body + text[start:]
    else:  # replace the lines holding the anchor
        text = text[:start] + step.body + text[end:]
    path.write_text(text)


def ruff_clean(root: Path, paths: list[str], show: bool = False) -> bool:
    """Whether ``paths`` (under ``root``; missing ones are left out) pass ``ruff check``
    and ``ruff format --check``; ``show`` fails with ruff's report instead of False."""
    paths = [p for p in paths if (root / p).is_file()]
    for command in (["check"], ["format", "--check"]):
        if not paths:
            break
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *command, *paths],
            cwd=root,
            capture_output=True,
            text=True,
        )
        assert not (show and proc.returncode), f"ruff {command[0]}:\n{proc.stdout}"
        if proc.returncode:
            return False
    return True


def run_check(example: Example, copy: Path, scratch: Path) -> subprocess.CompletedProcess:
    """The example's check block, run from the top of the copy with this interpreter."""
    script = scratch / f"check_example_{example.number}.py"
    guard = (
        "import pathlib, sim\n"
        "here = pathlib.Path.cwd().resolve()\n"
        "assert pathlib.Path(sim.__file__).resolve().is_relative_to(here), sim.__file__\n"
    )
    script.write_text(guard + example.check)
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=copy,
        env=environment(copy),
        capture_output=True,
        text=True,
        timeout=900,
    )


EXAMPLES = examples()
APPLIED = [n for n, e in EXAMPLES.items() if e.steps]


def test_the_doc_has_the_three_examples():
    assert sorted(EXAMPLES) == [1, 2, 3]
    assert APPLIED == [1, 2, 3], "every example is a change to apply"
    for example in EXAMPLES.values():
        assert example.files, example.title
        if example.steps:
            assert example.check, f"example {example.number} has no check block"


@pytest.mark.slow
@pytest.mark.parametrize("number", APPLIED)
def test_example_applies_touches_its_files_and_its_check_passes(number, tmp_path):
    example = EXAMPLES[number]
    copy = copy_project(tmp_path / "project")
    before = snapshot(copy)
    for step in example.steps:
        apply(step, copy, number)
    after = snapshot(copy)
    touched = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert touched == set(example.files), (
        f"example {number} changes {sorted(touched)}, its Files touched list names "
        f"{sorted(example.files)}"
    )
    # the example's Python is held to the project's lint and format, in the files that
    # met them before (a file being edited elsewhere may not, for reasons not the doc's)
    python = sorted(p for p in touched if p.endswith(".py") and ruff_clean(ROOT, [p]))
    assert ruff_clean(copy, python, show=True), f"example {number}: ruff"
    proc = run_check(example, copy, tmp_path)
    assert proc.returncode == 0, (
        f"example {number}: the check failed\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    )


#: modules that may name a weapon of the default list, and why
NAMES_WEAPONS = {
    "sim/record.py": "the event record's vocabulary of actions (real events, docs/data.md)",
    "sim/scorecard.py": "the record's facts by weapon (its rocket, convoy IED and drone)",
    "sim/plots/style.py": "the default weapons' colours (any other gets one by its name)",
    "sim/fitstats.py": "the calibration's statistics of the record by its weapons (convoy IED "
    "and drone shares by quarter), as the scorecard's",
    "sim/forecast.py": "the forecast's window takes biden2021's dated drone arrival, with no "
    "drones shipped before it (a scenario's setting, named as an override)",
}


def test_no_module_of_the_model_names_a_weapon():
    """A weapon is a YAML entry (example 2): the code works on the list, whatever it holds."""
    weapons = yaml.safe_load((ROOT / "configs" / "weapons" / "default.yaml").read_text())
    names = re.compile(r"\b(" + "|".join(weapons) + r")s?\b", flags=re.I)
    naming = set()
    for path in sorted((ROOT / "sim").rglob("*.py")):
        code = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
        if names.search(code):
            naming.add(path.relative_to(ROOT).as_posix())
    assert naming == set(NAMES_WEAPONS), (
        f"modules naming a weapon: {sorted(naming - set(NAMES_WEAPONS))}; "
        f"listed but naming none: {sorted(set(NAMES_WEAPONS) - naming)}"
    )
