"""escalation-sim: the escalation cycle between Iran-backed Iraqi militias, US forces,
the Iraqi government, Iran and Israel, as an agent-based model with a vectorized core."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("escalation-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
