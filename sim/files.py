"""Writing a file atomically: under a temporary name beside it, then renamed into place, so a
reader never sees a half-written file. Imports nothing of the project: data files, figures
and records all write through it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it into place,
    so a reader never sees a half-written file. ``write`` creates the file (with the
    usual permissions of the user's umask) under a fresh name of its own."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
