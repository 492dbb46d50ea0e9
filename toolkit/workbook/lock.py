"""One writer per workbook: an OS-released lock held from a command's read to its replace.

Two mednec commands that update the same workbook at once (Validate and Import 835 started
within a second) would each read the old file and the second replace would silently drop the
first one's work.  So every writing command holds an exclusive lock on a small lock file beside
the workbook (``.~mednec.<name>.lock``) from before it reads until after it has replaced the
file.  The lock is an OS file lock (``filelock``: ``fcntl.flock`` / ``msvcrt.locking``), so the
operating system releases it when the process ends, however it ends (kill -9, power cut): there
is never a stale pid file to clean up.  A second writer waits up to ``MEDNEC_LOCK_WAIT`` seconds
(10 by default), then refuses with exit 3.

The lock is re-entrant inside one process: the CLI takes it around a whole command and the
``WorkbookFile`` it opens takes it again, which just counts.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MednecError, WorkbookLocked

if TYPE_CHECKING:
    from filelock import BaseFileLock

DEFAULT_WAIT_SECONDS = 10.0
WAIT_VARIABLE = "MEDNEC_LOCK_WAIT"

_locks: dict[str, BaseFileLock] = {}
_guard = threading.Lock()


class WorkbookBusy(WorkbookLocked):
    """Another mednec process holds the workbook's lock (exit 3, like a workbook open in Excel)."""


def lock_path(workbook: Path | str) -> Path:
    """The lock file beside the workbook (hidden on Unix; tiny and harmless if left)."""
    workbook = Path(workbook)
    return workbook.with_name(f".~mednec.{workbook.name}.lock")


def wait_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(WAIT_VARIABLE, DEFAULT_WAIT_SECONDS)))
    except ValueError:
        return DEFAULT_WAIT_SECONDS


def _lock_for(workbook: Path | str) -> BaseFileLock:
    from filelock import FileLock

    key = os.path.normcase(str(Path(workbook).resolve()))
    with _guard:
        lock = _locks.get(key)
        if lock is None:
            # thread_local=False: the scheduler's worker thread and the main thread share one count.
            lock = _locks[key] = FileLock(str(lock_path(Path(key))), thread_local=False)
        return lock


def acquire(workbook: Path | str, *, wait: float | None = None) -> None:
    """Take the workbook's lock (re-entrant); ``WorkbookBusy`` after ``wait`` seconds."""
    from filelock import Timeout

    workbook = Path(workbook)
    lock = _lock_for(workbook)
    try:
        lock.acquire(timeout=wait_seconds() if wait is None else wait)
    except Timeout:
        raise WorkbookBusy(f"{workbook.name}: another mednec command is updating this workbook; "
                           "try again when it has finished (nothing was changed)") from None
    except OSError as exc:
        raise MednecError(f"{workbook.name}: cannot write in {workbook.parent} ({exc.strerror or exc}); "
                          "copy the workbook to a folder you can write to (nothing was changed)") from None


def release(workbook: Path | str) -> None:
    """Give back one hold on the workbook's lock (the OS file lock goes with the last one)."""
    lock = _lock_for(workbook)
    if lock.is_locked:
        lock.release()


def is_held(workbook: Path | str) -> bool:
    """Whether this process holds the workbook's lock."""
    return bool(_lock_for(workbook).is_locked)


@contextmanager
def updating(workbook: Path | str, *, wait: float | None = None) -> Iterator[Path]:
    """Hold the workbook's lock for the block: every workbook-writing command runs inside one.

    Also refuses what cannot be replaced safely (a read-only workbook or folder), and removes
    temporary files an earlier, killed save of this workbook left behind.
    """
    workbook = Path(workbook)
    ensure_replaceable(workbook)
    acquire(workbook, wait=wait)
    try:
        remove_stale_temps(workbook)
        yield workbook
    finally:
        release(workbook)


def ensure_replaceable(workbook: Path) -> None:
    """A read-only workbook, or one in a folder we cannot write, is refused before any work.

    A save writes a new copy beside the workbook and then swaps it in (never a half-written
    file), so both the file and its folder must be writable.
    """
    # The mode bits too: the Windows read-only attribute shows as no write bit, and an
    # administrator (root) would pass os.access yet must not overwrite a file marked read-only.
    if workbook.exists() and (not os.access(workbook, os.W_OK) or not workbook.stat().st_mode & 0o222):
        raise WorkbookLocked(f"{workbook.name}: the workbook is read-only; clear the read-only "
                             "setting (file properties) or save a copy, then try again (nothing was changed)")
    folder = workbook.parent if str(workbook.parent) else Path(".")
    if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise WorkbookLocked(f"{workbook.name}: the folder {folder} is read-only, so the workbook cannot be "
                             "saved safely; copy it to a folder you can write to (nothing was changed)")


def temp_prefix(target: Path | str) -> str:
    """The name every temporary file of a save of ``target`` starts with (see ``atomic_write``)."""
    return f".~{Path(target).name}-"


def remove_stale_temps(workbook: Path | str) -> int:
    """Delete temporary files a killed save of this workbook left beside it; returns how many.

    Only called while holding the workbook's lock, so no live save of ours owns them.
    """
    from .history import history_path

    workbook = Path(workbook)
    removed = 0
    try:  # the workbook's own, and those of the validation history kept beside it
        entries = [p for target in (workbook, history_path(workbook))
                   for p in workbook.parent.glob(temp_prefix(target) + "*")]
    except OSError:
        return 0
    for path in entries:
        if path.name.startswith(".~mednec."):
            continue
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def refuse_overwriting_input(output: Path | str | None, inputs) -> None:
    """An output path that is one of the command's inputs is refused before anything is read.

    ``validate claims.csv --rules rules.csv --report rules.csv`` once replaced the rules with
    the report.  Paths are compared after resolving links and ``..`` (and case, on Windows).
    """
    from ..errors import InputError

    if output is None:
        return
    out = _same_file_key(output)
    for given in inputs:
        if given is not None and _same_file_key(given) == out:
            raise InputError(f"the output would overwrite the input {Path(given).name}; choose another "
                             "output file (nothing was changed)", file=output)


def _same_file_key(path: Path | str) -> str:
    return os.path.normcase(str(Path(path).expanduser().resolve()))
