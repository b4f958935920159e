"""Atomic, code-free checkpoints.

A checkpoint holds only tensors and plain values (no pickled classes), so it loads with
``torch.load(..., weights_only=True)``; the model is rebuilt from the saved config. Writes go
to a temporary file in the same directory, are flushed to disk and then moved into place with
``os.replace``, so a crash mid-write never leaves a truncated ``last.pt``.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator

import torch

from .errors import CheckpointError

FORMAT_VERSION = 1


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Write a file atomically: yield a temporary path beside ``path`` (its folder is created),
    move it onto ``path`` when the block ends, delete it if the block raises.

    Readers never see a half-written file, and an interrupted write leaves the old one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise


def save_checkpoint(path: str | Path, state: Dict[str, Any]) -> Path:
    """Atomically write ``state`` (tensors and plain values only) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = dict(state, format_version=FORMAT_VERSION)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``.

    Raises
    ------
    CheckpointError
        If the file is missing, unreadable, or not a vaekit checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found. Train first (`vaekit train CONFIG --run-dir ...`) "
                              f"or pass the run directory that holds checkpoints/.")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise CheckpointError(f"{path}: cannot read the checkpoint ({type(exc).__name__}: {exc}). The file is "
                              f"corrupt or not a vaekit checkpoint; delete it to restart from scratch.") from exc
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path}: not a vaekit checkpoint (no 'model' entry).")
    if state.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer vaekit (format {state['format_version']} > "
                              f"{FORMAT_VERSION}). Upgrade vaekit.")
    return state
