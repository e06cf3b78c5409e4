"""The doctrine tables of ``docs/doctrines.md``, generated from the doctrine configs.

Each actor has a base doctrine (``configs/doctrine_base/<actor>.yaml``: every parameter with
its value, unit and source) and doctrine files (``configs/doctrine/<actor>/<name>.yaml``)
that compose from it and set only where they differ, each with its reason. From these files
``escalation-doctables`` (``make doc-tables``) writes, for each actor, its doctrines (from
each file's header comment), a table of every parameter under every doctrine beside the
base value, and a table of where each doctrine differs from the base and why. It rewrites
only the part of ``docs/doctrines.md`` between the marker comments; the prose around it is
written by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import re
import sys
import typing
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.config import DoctrineConfig, compose, config_dir
from sim.errors import COMPOSE_ERRORS, fail, one_line

PROG = "escalation-doctables"
DOC = Path(__file__).resolve().parents[1] / "docs" / "doctrines.md"
START = "<!-- generated: doctrine tables -->"
END = "<!-- end generated -->"
NOTE = (
    "<!-- written by `make doc-tables` from configs/doctrine_base/ and configs/doctrine/: "
    "edit those files, not this part -->"
)

#: each actor's section title and the order of its doctrines in the doc; doctrines not
#: listed here follow in alphabetical order
ACTORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "us": (
        "United States",
        ("restraint", "proportional", "red_line", "decapitation", "syria_only", "max_pressure"),
    ),
    "iran": ("Iran", ("restrain_proxies", "calibrated", "revenge", "talks_first")),
    "israel": ("Israel", ("none", "interdict_syria", "interdict_iraq_and_syria")),
    "iraq": ("Iraqi government", ("passive", "crackdown", "sovereignty_first")),
}
NOT_PARAMETERS = ("name", "source")


# --- reading the configs ---------------------------------------------------------------------


def base_path(actor: str) -> Path:
    """The actor's base doctrine file."""
    return Path(config_dir(), "doctrine_base", f"{actor}.yaml")


def doctrine_path(actor: str, name: str) -> Path:
    """A doctrine file of the actor's config group."""
    return Path(config_dir(), "doctrine", actor, f"{name}.yaml")


def doctrines(actor: str) -> list[str]:
    """The actor's doctrines (the files of its config group), in the doc's order."""
    found = {p.stem for p in Path(config_dir(), "doctrine", actor).glob("*.yaml")}
    listed = [name for name in ACTORS[actor][1] if name in found]
    return listed + sorted(found - set(listed))


def parameters(actor: str) -> list[str]:
    """The actor's doctrine parameters, in the schema's order."""
    schema = typing.get_type_hints(DoctrineConfig)[actor]
    return [f.name for f in dataclasses.fields(schema) if f.name not in NOT_PARAMETERS]


def comments(path: Path) -> dict[str, str]:
    """The one-line comment after each top-level ``key: value`` line of a YAML file."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^(\w+):\s.*?\s#\s*(.*)$", line)
        if match:
            found[match[1]] = match[2].strip()
    return found


def description(actor: str, name: str) -> str:
    """What the doctrine is: its header comment from after the doctrine's name (``: ...``)."""
    path = doctrine_path(actor, name)
    header = itertools.takewhile(lambda line: line.startswith("#"), path.read_text().splitlines())
    text = " ".join(line.lstrip("#").strip() for line in header)
    match = re.search(rf"`{re.escape(name)}`((?: \([^)]*\))?: .*)", text)
    if not match:
        raise ValueError(f"{path}: the header comment must describe it as `{name}`: ...")
    return match[1]


def _mapping(path: Path) -> DictConfig:
    loaded = OmegaConf.load(path)
    if not isinstance(loaded, DictConfig):
        raise ValueError(f"{path}: expected key: value lines")
    return loaded


def base_values(actor: str) -> DictConfig:
    """The base doctrine's values, typed by the schema (the doctrine's name left unset)."""
    schema = typing.get_type_hints(DoctrineConfig)[actor]
    merged = OmegaConf.merge(OmegaConf.structured(schema), _mapping(base_path(actor)))
    assert isinstance(merged, DictConfig)
    return merged


def own_values(actor: str, name: str) -> dict[str, Any]:
    """What a doctrine file sets itself (its defaults list aside), typed by the schema."""
    raw = _mapping(doctrine_path(actor, name))
    raw.pop("defaults", None)
    typed = OmegaConf.merge(base_values(actor), raw)
    return {str(key): typed[key] for key in raw}


def repeated(actor: str, name: str) -> list[str]:
    """The keys a doctrine file sets to the value its base already holds."""
    base = base_values(actor)
    return [
        k for k, v in own_values(actor, name).items() if k in base and k != "name" and v == base[k]
    ]


def composed(actor: str, names: list[str]) -> dict[str, Any]:
    """Each doctrine as the model sees it: composed by Hydra, typed and validated."""
    return {name: getattr(compose(f"doctrine/{actor}={name}").doctrine, actor) for name in names}


# --- writing the tables ----------------------------------------------------------------------


def cell(value: Any) -> str:
    """A value as the tables show it: lists joined, booleans as in YAML."""
    if isinstance(value, list | ListConfig):
        return ", ".join(str(v) for v in value) or "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(comment: str) -> str:
    return comment.replace("|", "\\|")  # a comment's "a | b" must not split the table cell


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def actor_section(actor: str) -> list[str]:
    """One actor's part of the doc: its doctrines, their values, and where they differ."""
    title, _ = ACTORS[actor]
    names = doctrines(actor)
    lines = [f"## {title} (`doctrine/{actor}=...`)", ""]
    lines += [f"- **`{name}`**{description(actor, name)}" for name in names]
    return [*lines, "", *_values_table(actor, names), "", *_differences_table(actor, names)]


def _values_table(actor: str, names: list[str]) -> list[str]:
    """Rows = parameters; columns = the doctrines as composed, then the base value."""
    base, meaning = base_values(actor), comments(base_path(actor))
    values = composed(actor, names)
    header = ["parameter", *(f"`{n}`" for n in names), "base"]
    header.append("meaning (unit; source of the base value)")
    lines = [_row(header), "|" + "---|" * len(header)]
    for key in parameters(actor):
        shown = [cell(getattr(values[name], key)) for name in names]
        lines.append(_row([f"`{key}`", *shown, cell(base[key]), _text(meaning.get(key, ""))]))
    return lines


def _differences_table(actor: str, names: list[str]) -> list[str]:
    """One row per value a doctrine file sets, with the base value and the file's reason."""
    base = base_values(actor)
    lines = [
        f"Where each doctrine differs from the base (`configs/doctrine_base/{actor}.yaml`), "
        f"and why (`configs/doctrine/{actor}/<doctrine>.yaml`):",
        "",
        _row(["doctrine", "parameter", "value", "base", "reason"]),
        "|---|---|---|---|---|",
    ]
    for name in names:
        own = {k: v for k, v in own_values(actor, name).items() if k != "name"}
        reasons = comments(doctrine_path(actor, name))
        if not own:
            lines.append(_row([f"`{name}`", "(none: the base holds its values)", "", "", ""]))
        for key, value in own.items():
            row = [f"`{name}`", f"`{key}`", cell(value), cell(base[key])]
            lines.append(_row([*row, _text(reasons.get(key, ""))]))
    return lines


def render() -> str:
    """The generated part of ``docs/doctrines.md``, from marker to marker."""
    lines = [START, NOTE]
    for actor in ACTORS:
        lines += ["", *actor_section(actor)]
    return "\n".join([*lines, "", END])


def generated_part(doc: str) -> str:
    """The part of a doc between the markers (markers included)."""
    start, end = doc.find(START), doc.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the doc has no {START} ... {END} part to rewrite")
    return doc[start : end + len(END)]


def rewrite(doc: str) -> str:
    """The doc with its generated part written anew from the configs."""
    return doc.replace(generated_part(doc), render(), 1)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ``escalation-doctables [--check] [--doc PATH]``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Rewrite the doctrine tables of docs/doctrines.md from the doctrine configs "
        "(the part between the marker comments).",
    )
    parser.add_argument("--doc", type=Path, default=DOC, help="the doc (docs/doctrines.md)")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the tables are out of date"
    )
    args = parser.parse_args(argv)
    try:
        doc = args.doc.read_text()
        new = rewrite(doc)
    except COMPOSE_ERRORS as exc:
        fail(PROG, one_line(exc))
    except (OSError, ValueError) as exc:  # a missing doc or marker, a bad file (ConfigError)
        fail(PROG, str(exc))
    if new == doc:
        print(f"{args.doc}: the doctrine tables are up to date")
    elif args.check:
        print(
            f"{PROG}: {args.doc}: the doctrine tables are out of date (make doc-tables)",
            file=sys.stderr,
        )
        raise SystemExit(1)
    else:
        args.doc.write_text(new)
        print(f"{args.doc}: doctrine tables rewritten")


if __name__ == "__main__":
    main()
