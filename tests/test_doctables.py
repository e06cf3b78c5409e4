"""The doctrine tables of docs/doctrines.md are written from the configs, and each doctrine
file composes from its actor's base and states only where it differs, with the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import config
from omegaconf import OmegaConf

from sim import doctables
from sim.doctables import ACTORS

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "doctrines.md"
DOCTRINES = [(actor, name) for actor in ACTORS for name in doctables.doctrines(actor)]


@pytest.mark.slow
def test_the_doc_tables_are_what_the_configs_give(monkeypatch):
    # each doctrine composed by Hydra as the command does, once for this test and
    # test_docs.py (the cache of conftest.config: composing all of them takes seconds)
    monkeypatch.setattr(doctables, "compose", config)
    doc = DOC.read_text()
    assert doctables.generated_part(doc) == doctables.render(), (
        "docs/doctrines.md is out of date with configs/doctrine*/: run make doc-tables"
    )


@pytest.mark.parametrize(("actor", "name"), DOCTRINES, ids=lambda x: x)
def test_a_doctrine_file_holds_only_what_differs_from_its_base(actor, name):
    assert doctables.repeated(actor, name) == [], (
        f"configs/doctrine/{actor}/{name}.yaml repeats values of its base: drop them"
    )


@pytest.mark.parametrize(("actor", "name"), DOCTRINES, ids=lambda x: x)
def test_a_doctrine_composes_from_its_base_and_gives_a_reason_for_each_value(actor, name):
    path = doctables.doctrine_path(actor, name)
    defaults = OmegaConf.to_container(OmegaConf.load(path)["defaults"])
    assert defaults == [f"/doctrine_base/{actor}@_here_", "_self_"], path
    own = doctables.own_values(actor, name)
    assert own["name"] == name
    reasons = doctables.comments(path)
    missing = [key for key in own if key != "name" and not reasons.get(key)]
    assert not missing, f"{path}: no reason given for {missing}"
    assert doctables.description(actor, name)


@pytest.mark.parametrize("actor", list(ACTORS))
def test_every_base_value_has_its_comment(actor):
    comments = doctables.comments(doctables.base_path(actor))
    assert [key for key in doctables.parameters(actor) if not comments.get(key)] == []


def test_a_repeated_base_value_is_found(tmp_path, monkeypatch):
    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", configs)
    red_line = configs / "doctrine" / "us" / "red_line.yaml"
    red_line.write_text(red_line.read_text() + "response_lag_days: 2  # as the base\n")
    monkeypatch.setattr(doctables, "config_dir", lambda: str(configs))
    assert doctables.repeated("us", "red_line") == ["response_lag_days"]
    assert doctables.repeated("us", "syria_only") == []


def test_the_command_rewrites_only_the_generated_part(tmp_path, monkeypatch, capsys):
    fresh = f"{doctables.START}\nfresh tables\n{doctables.END}"
    monkeypatch.setattr(doctables, "render", lambda: fresh)
    doc = tmp_path / "doctrines.md"
    doc.write_text(f"# Hand-written\n\n{doctables.START}\nstale\n{doctables.END}\n\nMore prose.\n")
    with pytest.raises(SystemExit) as exit_:
        doctables.main(["--doc", str(doc), "--check"])
    assert exit_.value.code == 1
    doctables.main(["--doc", str(doc)])
    text = doc.read_text()
    assert text.startswith("# Hand-written\n\n") and text.endswith("\n\nMore prose.\n")
    assert doctables.generated_part(text) == fresh
    doctables.main(["--doc", str(doc), "--check"])
    assert "up to date" in capsys.readouterr().out
