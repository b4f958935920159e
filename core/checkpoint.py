"""Atomic, durable, code-free checkpoints and file writes.

A checkpoint holds only tensors and plain values (no pickled classes), so it loads with
``torch.load(..., weights_only=True)``; the model is rebuilt from the saved config. That
safe loader has a published bypass before torch 2.6 (CVE-2025-32434), so checkpoints are
loaded only with torch >= 2.6 (:data:`MIN_SAFE_TORCH`).

Every file of a run (checkpoints, ``config.yaml``, ``metrics.jsonl``, reports) is written
through :func:`atomic_path`: to a temporary file beside the target, fsynced, moved into place
with ``os.replace``, and the folder fsynced, so a crash or a power cut leaves the old file or
the new one, never a truncated one. Files are created like any other file of the process: their
mode is ``0666`` minus the umask (``0644``, ``rw-r--r--``, under the usual umask ``022``).
"""
from __future__ import annotations

import contextlib
import os
import pickle
import re
import secrets
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import torch

from .errors import CheckpointError

FORMAT_VERSION = 1
MIN_SAFE_TORCH: Tuple[int, int] = (2, 6)  # torch.load(weights_only=True) is bypassable before (CVE-2025-32434)


def _fsync_path(path: Path, directory: bool = False) -> None:
    """fsync a file or a folder by path. A folder's fsync makes a rename in it durable; some
    platforms (Windows) cannot open a folder, and then the rename is as durable as they allow."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:  # a folder on a file system without directory fsync
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Write a file atomically and durably: yield a temporary path beside ``path`` (its folder
    is created) for the block to write; when the block ends the temporary file is fsynced,
    moved onto ``path`` and the folder fsynced; if the block raises it is deleted.

    Readers never see a half-written file, an interrupted write leaves the old one, and a
    power cut after the block cannot undo the write. The file's mode follows the umask, as
    any file the block creates (the temporary file is created by the block itself).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # pid + a random token: two writers of one file (threads, processes) never share a temporary.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        _fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    _fsync_path(path.parent, directory=True)


def save_checkpoint(path: str | Path, state: Dict[str, Any]) -> Path:
    """Atomically and durably write ``state`` (tensors and plain values only) to ``path``."""
    path = Path(path)
    state = dict(state, format_version=FORMAT_VERSION)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(state, f)
    return path


def _torch_version() -> Tuple[int, ...]:
    """``torch.__version__`` as numbers (``"2.7.0a0+git1"`` -> ``(2, 7, 0)``), read at call time."""
    nums = []
    for part in str(torch.__version__).split("+")[0].split(".")[:3]:
        m = re.match(r"\d+", part)
        if m is None:
            break
        nums.append(int(m.group()))
    return tuple(nums)


def require_safe_torch(where: str) -> None:
    """Refuse to unpickle with a torch whose ``weights_only=True`` loader can be bypassed.

    Raises
    ------
    CheckpointError
        With torch < :data:`MIN_SAFE_TORCH`, naming CVE-2025-32434 and the upgrade.
    """
    if _torch_version() < MIN_SAFE_TORCH:
        need = ".".join(map(str, MIN_SAFE_TORCH))
        raise CheckpointError(
            f"{where}: torch {torch.__version__} is older than {need}; its torch.load(weights_only=True) can be made "
            f"to run code by a crafted file (CVE-2025-32434), so vaekit loads no checkpoint with it. Upgrade torch: "
            f"pip install 'torch>={need}'.")


# Torch's refusals add advice to load with the unsafe loader; a vaekit checkpoint never needs
# it (it holds only tensors and plain values), so that advice is never passed on.
_TORCH_ADVICE = re.compile(r"weights_only|weights only load failed|re-running|trusted source|arbitrary code|"
                           r"file an issue|check the documentation", re.IGNORECASE)


def _torch_reason(exc: BaseException) -> str:
    """The cause in torch's error message, on one line, without its advice."""
    lines = [" ".join(line.split()) for line in str(exc).splitlines()]
    kept = [line for line in lines if line and not _TORCH_ADVICE.search(line)]
    if not kept:
        return type(exc).__name__
    text = "; ".join(kept)
    if not isinstance(exc, pickle.UnpicklingError):
        text = text.split(". ")[0]  # e.g. "PytorchStreamReader failed reading zip archive: ..."
    return text if len(text) <= 200 else text[:197] + "..."


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` (torch >= 2.6 only: :func:`require_safe_torch`).

    Raises
    ------
    CheckpointError
        If the file is missing, unreadable, not a vaekit checkpoint, or torch is too old to
        load it safely.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found. Train first (`vaekit train CONFIG --run-dir ...`) "
                              f"or pass the run directory that holds checkpoints/.")
    require_safe_torch(str(path))
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"{path}: not a vaekit checkpoint: torch's safe loader refused its content "
                              f"({_torch_reason(exc)}) and nothing in it was run. A vaekit checkpoint holds only "
                              f"tensors and plain values, so the file is corrupt, another program's, or tampered with; "
                              f"delete it to restart from scratch, or replace it with a copy you trust.") from exc
    except Exception as exc:  # torch raises many types for corrupt files
        raise CheckpointError(f"{path}: cannot read the checkpoint ({type(exc).__name__}: {_torch_reason(exc)}). The "
                              f"file is corrupt or not a vaekit checkpoint; delete it to restart from scratch.") from exc
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path}: not a vaekit checkpoint (no 'model' entry).")
    if state.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer vaekit (format {state['format_version']} > "
                              f"{FORMAT_VERSION}). Upgrade vaekit.")
    return state
