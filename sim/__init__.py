"""escalation-sim: the escalation cycle between Iran-backed Iraqi militias, US forces,
the Iraqi government, Iran and Israel, as an agent-based model with a vectorized core.

``import sim`` gives the notebook surface of :mod:`sim.api`: :func:`run`,
:func:`compare_scenarios`, :func:`load_sweep`, :func:`compose` and the
:class:`ConfigError` they raise (see docs/api.md). They
are loaded on first use, so the command-line tools do not pay for them. ``sim.compare`` is
the module of the ``escalation-compare`` command, not a function.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("escalation-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

#: names re-exported from sim.api (its ``__all__``), loaded lazily (PEP 562)
_API = (
    "ConfigError", "Ensemble", "ScenarioComparison", "Sweep",
    "compare_scenarios", "compose", "load_sweep", "run",
)  # fmt: skip
__all__ = [*_API, "__version__"]


def __getattr__(name: str):
    if name in _API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
