"""Shared fixtures: composed configs are cached, since composing takes a few tenths of a second."""

from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np
import pytest
from hypothesis import settings

from sim.config import BaseConfig, compose

# Property tests draw the same examples on every run, so a failure in CI is repeatable;
# HYPOTHESIS_PROFILE=explore searches afresh with more examples (and prints the blob to
# reproduce anything it finds). No deadline: tests assert results, never wall-clock time
# (the first example of a test may load compiled code from disk, a few tenths of a second).
settings.register_profile(
    "repeatable", derandomize=True, database=None, max_examples=25, deadline=None
)
settings.register_profile("explore", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@functools.cache
def _cached(overrides: tuple[str, ...]) -> BaseConfig:
    return compose(*overrides)


def config(*overrides: str) -> BaseConfig:
    """A fresh (deep-copied) validated config with the given overrides."""
    return _copy(_cached(tuple(overrides)))


def _copy(cfg):
    import copy

    return copy.deepcopy(cfg)


def replace(cfg: BaseConfig, path: str, value) -> BaseConfig:
    """A copy of ``cfg`` with the dotted field ``path`` (list items as numbers) set to ``value``."""
    cfg = _copy(cfg)
    *parents, leaf = path.split(".")
    node = cfg
    for part in parents:
        if isinstance(node, dict):
            node = node[part]
        else:
            node = node[int(part)] if part.isdigit() else getattr(node, part)
    if leaf.isdigit():
        node[int(leaf)] = value
    elif isinstance(node, dict):
        assert leaf in node, path
        node[leaf] = value
    else:
        assert dataclasses.is_dataclass(node) and hasattr(node, leaf), path
        setattr(node, leaf, value)
    return cfg


@pytest.fixture
def default_config() -> BaseConfig:
    return config()


def known_attacks(rows, militia, killed_us, wounded_us):
    """Attacks of the given groups with the given US casualties, whose attacker the US
    knows (blamed with full confidence); everything else zero."""
    from sim.rules.today import Attacks

    rows, militia = np.asarray(rows, dtype=np.int64), np.asarray(militia, dtype=np.int64)
    zero = np.zeros(len(rows), dtype=np.int64)
    return Attacks(
        rows, militia, zero, zero, zero.astype(bool), zero - 1, zero, zero + 1,
        zero.astype(bool), np.asarray(killed_us), np.asarray(wounded_us), zero, zero,
        blamed=militia, confidence=np.ones(len(rows)),
    )  # fmt: skip


def asgi_request(app, method: str, path: str, body: bytes = b"", query: str = "") -> tuple:
    """One request to an ASGI app, in this process: (status, the JSON body read, or the
    raw bytes of any other body)."""
    import asyncio
    import json

    scope = {
        "type": "http", "method": method, "path": path, "raw_path": path.encode(),
        "query_string": query.encode(), "headers": [(b"content-type", b"application/json")],
        "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1), "root_path": "",
    }  # fmt: skip
    sent: list[dict] = []

    async def exchange():
        # as a server does: the request, then (once the response is sent) the client gone;
        # a file response below ASGI 2.4 listens for that while it streams
        requested, answered = asyncio.Event(), asyncio.Event()

        async def receive():
            if not requested.is_set():
                requested.set()
                return {"type": "http.request", "body": body, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered.set()

        await app(scope, receive, send)

    asyncio.run(exchange())
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Two things for the parallel run (``-n``, with ``--dist loadgroup`` from pyproject):

    - a test that reads a module-scoped fixture of its file joins that file's xdist group,
      so the fixture (a sweep, a server, a batch of runs) is made once, on one worker, not
      once on each worker that gets one of its tests;
    - the tests marked slow go first, so that the long ones do not start last and keep one
      worker busy while the other has nothing left.

    Every worker collects the same items in the same order, as xdist requires."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.values() if info is not None else ()
        if any(d[-1].scope == "module" for d in defs if d):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if getattr(config.option, "loadgroup", False):  # an xdist worker under --dist loadgroup
        _name_groups(items)


def _name_groups(items) -> None:
    """Give each test of an xdist group its group's name after an ``@``, as xdist 3.8 itself
    does for ``--dist loadgroup`` by setting ``item._nodeid``, which pytest 9 no longer
    reads (its tests would go to any worker); the controller groups the tests by it."""
    from _pytest.nodeid import NodeId

    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        if names and "@" not in item.nodeid and isinstance(getattr(item, "_id", None), NodeId):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(sorted(names))}")
