"""One writer per run directory: an OS lock on ``RUN/.lock``.

Two processes writing one run directory interleave ``metrics.jsonl`` and leave the config and
checkpoints of whichever finished last, so every command that *writes* a run directory holds
this lock while it does: ``vaekit train`` (a fresh run, a resumed one, ``--fresh``),
``vaekit evaluate`` (``eval.json``, ``report.html``, the MLflow run), and through them
``sweep``, ``study``, ``demo`` and ``benchmark`` (each holds the lock of one run directory across
its training, evaluation and report). A second writer stops at once with
:class:`RunDirBusyError`, which names the holder (pid, host, start time, command, as the holder
wrote them into the lock file). Readers take no lock: ``vaekit generate`` and ``vaekit runs``
read files that are only ever replaced atomically, and ``generate`` writes only ``--out``.

The lock is ``fcntl.flock(LOCK_EX | LOCK_NB)`` (``msvcrt.locking`` on Windows, untested), held
by an open file: the kernel drops it when the holder exits, crashes or is SIGKILLed, so a stale
lock never needs deleting. ``.lock`` itself stays in the run directory. The lock is re-entrant
within one process (the demo holds a run directory across ``train_run`` and ``evaluation``,
which take it too).
"""
from __future__ import annotations

import contextlib
import datetime
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

from vaekit.core.errors import ConfigError, VaekitError, fmt_error

LOCK_NAME = ".lock"


class RunDirBusyError(VaekitError, RuntimeError):
    """Another process is writing the run directory (the CLI: one line, exit status 2)."""


# Locks this process holds: resolved run dir -> (open lock file, depth, whether the outermost
# acquisition created the folder). flock conflicts between two open files even in one process,
# so a nested acquisition reuses the open file.
_HELD: Dict[str, Tuple[int, int, bool]] = {}
_GUARD = threading.Lock()


def _command() -> str:
    argv = list(sys.argv)
    if argv:
        argv[0] = Path(argv[0]).name
    return " ".join(argv)[:200]


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock without waiting; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: lock one byte far past the holder's text (which others read)
        import msvcrt

        os.lseek(fd, 1 << 30, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def holder(run_dir: str | Path) -> str:
    """Who holds ``run_dir``'s lock, as the holder wrote it (empty if unknown)."""
    try:
        return (Path(run_dir) / LOCK_NAME).read_text(errors="replace").strip()[:400]
    except OSError:
        return ""


def _busy(run_dir: Path) -> RunDirBusyError:
    who = holder(run_dir) or "a process that has not written its details yet"
    return RunDirBusyError(f"{run_dir}: this run directory is in use by another vaekit process ({who}); two "
                           f"processes writing one run would mix their metrics and checkpoints. Wait for it to "
                           f"finish (or stop it), or train into another folder with --run-dir NEW_DIR.")


def _open_locked(run_dir: Path, command: str) -> int:
    path = run_dir / LOCK_NAME
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(fmt_error(str(run_dir), "vaekit writes into the run directory (its lock file, "
                                        "results)", f"{type(exc).__name__}: {exc.strerror}",
                                        "Pass a folder you can write (train: --run-dir DIR; to evaluate a "
                                        "read-only run, copy its folder first).")) from exc
        if not _try_lock(fd):
            os.close(fd)
            raise _busy(run_dir)
        # The file may have been removed (a failed setup deletes the run dir it made) between
        # our open and our lock: then the lock guards nothing; open the new file and lock again.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
        run_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    text = f"pid {os.getpid()} on host {socket.gethostname()}, started {started}: {command}\n"
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, text.encode())
    return fd


@contextlib.contextmanager
def run_lock(run_dir: str | Path, command: Optional[str] = None) -> Iterator[Path]:
    """Hold ``run_dir``'s exclusive lock for the block (creating the folder if needed).

    Parameters
    ----------
    run_dir : path
        The run directory.
    command : str, optional
        What the holder is doing, shown to a process turned away (default: this process's
        command line).

    Raises
    ------
    RunDirBusyError
        Another process holds the lock (raised at once, without waiting).
    ConfigError
        The folder cannot be written.
    """
    run_dir = Path(run_dir)
    existed = run_dir.exists() or run_dir.is_symlink()
    run_dir.mkdir(parents=True, exist_ok=True)
    key = str(run_dir.resolve())
    with _GUARD:
        fd, depth, created = _HELD.get(key, (None, 0, not existed))
        if fd is None:
            fd = _open_locked(run_dir, command or _command())
        _HELD[key] = (fd, depth + 1, created)
    try:
        yield run_dir
    finally:
        with _GUARD:
            fd, depth, created = _HELD[key]
            if depth > 1:
                _HELD[key] = (fd, depth - 1, created)
            else:
                del _HELD[key]
                os.close(fd)  # closing the last descriptor releases the lock


def remove_if_unused(run_dir: Path) -> bool:
    """Remove a run directory this command created (its outermost :func:`run_lock` made the
    folder) after a failure before training: only while this process holds its lock, and
    only if no checkpoint is in it. A folder that existed before is never removed.

    Returns True when the folder was removed.
    """
    import shutil

    held = _HELD.get(str(run_dir.resolve()))
    if held is None or not held[2] or run_dir.is_symlink() or not run_dir.is_dir():
        return False
    ck = run_dir / "checkpoints"
    if ck.is_dir() and any(ck.iterdir()):
        return False
    shutil.rmtree(run_dir)
    return True
