"""How much memory a run will need, checked against what the machine has before it starts.

The estimate is a sum of measured costs (peak resident memory of ``escalation-sim`` runs on
the benchmark machine, rounded up): the process itself with its libraries, each
replicate's state, and what the output mode keeps per replicate and day. It errs on the
high side, so a run it passes fits; a run it refuses would have exhausted the machine.

``ESCALATION_SKIP_MEMORY_CHECK=1`` in the environment runs it anyway (a machine whose
swap or overcommit the estimate does not know about).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: the environment variable that forces a run the estimate refuses
FORCE_ENV = "ESCALATION_SKIP_MEMORY_CHECK"
MB = 1024**2
#: the process with Python, NumPy, pandas, numba, Hydra and matplotlib loaded (measured 300 MB)
BASE_BYTES = 350 * MB
#: one replicate's state and per-replicate tallies (measured 5 KB at 20,000 replicates)
PER_REPLICATE_BYTES = 8 * 1024
#: the events of one replicate-day kept in memory and written (measured 270 B, all events)
EVENT_BYTES_PER_REPLICATE_DAY = 350
#: one replicate-day of the full daily series (measured 850 B, output.daily=full)
DAILY_BYTES_PER_REPLICATE_DAY = 1000


class InsufficientMemoryError(ValueError):
    """A run whose estimated peak memory exceeds what the machine has available."""


@dataclass(frozen=True)
class Estimate:
    """A run's estimated peak resident memory in bytes, and the machine's available memory."""

    peak: int
    available: int | None

    @property
    def fits(self) -> bool:
        return self.available is None or self.peak <= self.available


def peak_bytes(
    replicates: int, days: int, events: str = "sample", event_sample: int = 100, daily: str = "auto"
) -> int:
    """Estimated peak resident memory (bytes) of a run of ``replicates`` x ``days``.

    ``events`` and ``daily`` are the ``output.`` settings: all events, or only those of the
    first ``event_sample`` replicates (whose daily series are kept too); the full daily
    series of every replicate (``full``, or ``auto`` with one replicate) or quantiles.
    """
    replicates, days = max(int(replicates), 0), max(int(days), 0)
    kept = {"all": replicates, "sample": min(replicates, event_sample), "none": 0}.get(events, 0)
    full_daily = daily == "full" or (daily == "auto" and replicates == 1)
    daily_rows = replicates if full_daily else min(replicates, event_sample)
    return (
        BASE_BYTES
        + replicates * PER_REPLICATE_BYTES
        + kept * days * EVENT_BYTES_PER_REPLICATE_DAY
        + daily_rows * days * DAILY_BYTES_PER_REPLICATE_DAY
    )


def available_bytes() -> int | None:
    """The machine's available memory (``MemAvailable`` of ``/proc/meminfo``; None if unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def forced() -> bool:
    """Whether the user asked to skip the memory check."""
    return os.environ.get(FORCE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _size(n: int) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / MB:.0f} MB"


def check_memory(replicates: int, days: int, what: str = "", **output: object) -> Estimate:
    """Refuse a run that would not fit in the machine's available memory.

    ``output`` takes ``events``, ``event_sample`` and ``daily`` as in :func:`peak_bytes`;
    ``what`` names the run in the message (``--replicates`` for a command's option).

    Raises:
        InsufficientMemoryError: one line naming replicates and days, the estimate and what is
            available, and how to force the run.
    """
    estimate = Estimate(peak_bytes(replicates, days, **output), available_bytes())  # type: ignore[arg-type]
    if estimate.fits or forced():
        return estimate
    size = what or f"replicates={replicates} x days={days}"
    raise InsufficientMemoryError(
        f"{size}: needs about {_size(estimate.peak)} of memory, "
        f"{_size(estimate.available or 0)} is available; run fewer replicates or days "
        f"(or set {FORCE_ENV}=1 to run it anyway)"
    )
