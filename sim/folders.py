"""Output folders that belong to one process: claimed, locked, checked, and cleaned on failure.

Every command writes into a folder of its own. Three guards keep two processes (or a failed
run) from mixing or losing results:

- **Unique.** A folder named by the time (``results/runs/<date>/<H-M-S>``) is created with an
  exclusive ``mkdir``; when another run took that name in the same second, the next free
  ``<H-M-S>-2``, ``-3``... is taken instead.
- **Locked.** A process holds ``.lock`` in its folder for its whole life (an ``flock`` on
  the file, which also records the process id). The operating system releases the lock of
  a process that dies, so a stale lock is simply taken over. A second process pointed at a
  locked folder is refused in one line.
- **Writable.** A folder (or the first of its parents that exists) is checked before any
  simulation runs: a path that is a file, or a folder the user cannot write in, is refused
  in one line, and nothing is created.

A run that fails or is stopped after its folder was made leaves nothing behind: the folder
is removed if the run created it, else only what the run added (:class:`Claim`).

Imports nothing of the model, so every command can use it first.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from sim.errors import fail

#: the lock file a process holds in the folder it writes
LOCK_FILE = ".lock"


class FolderError(ValueError):
    """An output folder that cannot be used (one-line message naming the path)."""


def check_writable(folder: Path | str, what: str) -> None:
    """Refuse, before anything runs, an output folder that could not be written.

    ``what`` names the setting in the message (``--out``, ``hydra.run.dir``...). Nothing is
    created here: the first existing folder on the path must be a folder the user may write
    in. Raises :class:`FolderError`.
    """
    if not str(folder).strip():  # Path("") would be the current folder
        raise FolderError(f"{what}: empty; give a folder path")
    folder = Path(folder)
    existing = folder.absolute()
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link cannot be made into a folder
            raise FolderError(f"{what} = {folder}: {existing} is a broken link")
        existing = existing.parent
    if not existing.is_dir():
        raise FolderError(f"{what} = {folder}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise FolderError(f"{what} = {folder}: cannot write in {existing} (permission denied)")


def unique_folder(folder: Path | str) -> Path:
    """Create ``folder`` exclusively, or the first free ``folder-2``, ``folder-3``...

    Two processes asking for the same name at the same moment get two folders: ``mkdir``
    fails for all but one of them.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    candidate, number = folder, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            number += 1
            candidate = folder.with_name(f"{folder.name}-{number}")


class FolderLock:
    """``.lock`` in a folder, held with ``flock`` for as long as this object is held.

    The file says which process holds it. A lock left by a dead process is free (the
    operating system drops a process's locks when it ends), so it is taken over.
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, what: str) -> FolderLock:
        """Take the lock, or raise :class:`FolderError` naming the process that holds it."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                holder = holder_of(self.folder)
                by = f" (process {holder})" if holder else ""
                raise FolderError(
                    f"{what} = {self.folder}: in use by another run{by}; "
                    "wait for it to end or choose another folder"
                ) from None
            # the holder before us may have removed the file as it released it: lock the
            # file that is there now
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Remove the lock file and let go of the lock (nothing if not held)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == os.fstat(self._fd).st_ino:
                self.path.unlink()
        os.close(self._fd)
        self._fd = None


def check_not_inside_busy(folder: Path | str, what: str) -> None:
    """Refuse a folder inside one that another process holds (a job folder of a running
    sweep, say). Raises :class:`FolderError`."""
    folder = Path(folder).absolute()
    for parent in folder.parents:
        if not (parent / LOCK_FILE).is_file():
            continue
        try:
            FolderLock(parent).acquire(what).release()
        except FolderError:
            holder = holder_of(parent)
            by = f" (process {holder})" if holder else ""
            raise FolderError(
                f"{what} = {folder}: inside {parent}, in use by another run{by}; "
                "choose another folder"
            ) from None


def holder_of(folder: Path | str) -> int | None:
    """The process id written in a folder's lock file (None if none is readable)."""
    try:
        return int((Path(folder) / LOCK_FILE).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Claim:
    """An output folder claimed by this process: created (or found), locked, and cleaned
    up if the work fails.

    Use as a context manager around the work; call :meth:`keep` once the results are
    complete. Leaving the block without :meth:`keep` (an error, a stop) removes the folder
    when this process created it, else only the entries it added.
    """

    def __init__(self, folder: Path | str, what: str, unique: bool = False) -> None:
        folder = Path(folder)
        check_writable(folder, what)
        check_not_inside_busy(folder, what)
        # the parents this claim creates, removed with the folder if the work fails
        self.new_parents = [p for p in folder.absolute().parents if not p.exists()]
        if unique:
            self.folder, self.created = unique_folder(folder), True
        else:
            self.created = not folder.exists()
            folder.mkdir(parents=True, exist_ok=True)
            self.folder = folder
        self.before = {p.name for p in self.folder.iterdir()}
        self.kept = False
        self.lock = FolderLock(self.folder)
        try:
            self.lock.acquire(what)
        except FolderError:
            if self.created:
                shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def keep(self) -> None:
        """The work is complete: leave the folder as it is."""
        self.kept = True

    def discard(self) -> None:
        """Remove what this process wrote (the folder itself if it created it)."""
        if self.created:
            shutil.rmtree(self.folder, ignore_errors=True)
            for parent in self.new_parents:  # innermost first; another run may use them now
                with contextlib.suppress(OSError):
                    parent.rmdir()
            return
        for path in self.folder.iterdir():
            if path.name not in self.before and path.name != LOCK_FILE:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)

    def release(self) -> None:
        """Discard the folder's contents unless kept, then let go of the lock."""
        if not self.kept:
            self.discard()
        self.lock.release()

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


@contextlib.contextmanager
def locked(folder: Path | str, what: str) -> Iterator[FolderLock]:
    """Hold the lock of an existing folder for the block (its contents are left alone)."""
    lock = FolderLock(folder).acquire(what)
    try:
        yield lock
    finally:
        lock.release()


def claim_or_fail(prog: str, folder: Path | str, what: str, unique: bool = False) -> Claim:
    """:class:`Claim` for a command, refusing an unusable or busy folder in one line (exit 2)."""
    try:
        return Claim(folder, what, unique=unique)
    except FolderError as exc:
        fail(prog, str(exc))


def check_writable_or_fail(prog: str, folder: Path | str, what: str) -> None:
    """:func:`check_writable` for a command: one line and exit 2 if the folder is unusable."""
    try:
        check_writable(folder, what)
    except FolderError as exc:
        fail(prog, str(exc))
