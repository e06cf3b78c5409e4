"""The one place that compiles: numba's ``njit`` with the settings every helper shares.

No fast math and no fused multiply-add: a compiled helper computes, bit for bit, what the
NumPy expression it replaces computes. Transcendental functions stay in NumPy, whose SIMD
versions round differently from the C library's. Compiled code is cached on disk after
the first run.
"""

from __future__ import annotations

import numba


def jit(func):
    """Compile ``func`` (cached on disk, releasing the GIL, NumPy's error model)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(func)


def inline(func):
    """Compile ``func`` into its callers (a call would count references to its arrays)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")(func)
