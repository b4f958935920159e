"""Checkpoints and atomic writes (issue 19 items 18, 21, 22, 24): durable writes (file and
folder fsynced), the metrics log rewritten atomically on resume, one file-mode rule for a run,
corrupt-checkpoint errors without torch's advice to load unsafely, and a safe torch required."""
from __future__ import annotations

import builtins
import io
import json
import os
import pickle
import re
from pathlib import Path

import pytest
import torch

from vaekit.core import checkpoint
from vaekit.core.checkpoint import atomic_path, load_checkpoint, save_checkpoint
from vaekit.core.errors import CheckpointError
from vaekit.core.trainer import _JsonlLog

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- item 18: fsync
def _record_fsyncs(monkeypatch):
    """Replace os.fsync by a recorder of the synced paths (resolved through /proc)."""
    synced = []
    real = os.fsync

    def fsync(fd):
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name the synced files")
def test_atomic_path_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    synced = _record_fsyncs(monkeypatch)
    target = tmp_path / "out" / "table.csv"
    with atomic_path(target) as tmp:
        tmp.write_text("a,b\n1,2\n")
    assert target.read_text() == "a,b\n1,2\n"
    # The data is synced under the temporary name (before os.replace), then the folder, so
    # the rename itself survives a power cut.
    assert any(p.parent == target.parent and p.name.endswith(".tmp") for p in synced), synced
    assert synced[-1] == target.parent.resolve(), synced


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name the synced files")
def test_save_checkpoint_fsyncs_its_folder(tmp_path, monkeypatch):
    synced = _record_fsyncs(monkeypatch)
    save_checkpoint(tmp_path / "ck" / "last.pt", {"model": {"w": torch.zeros(2)}})
    assert synced[-1] == (tmp_path / "ck").resolve(), synced


def _failing_writes(monkeypatch, folder: Path):
    """Writes to files in ``folder`` fail after the file was opened (a full disk)."""
    real_open = builtins.open

    def faulty_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if "w" in mode and Path(file).resolve().parent == folder.resolve():
            def write(_s):
                raise OSError(28, "No space left on device")
            f.write = write
        return f

    monkeypatch.setattr(builtins, "open", faulty_open)
    monkeypatch.setattr(io, "open", faulty_open)


def test_metrics_rewrite_on_resume_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"step": s, "split": "train", "loss": 1.0 / s}) for s in range(1, 6)]
    path.write_text("".join(line + "\n" for line in lines) + '{"step": 6, "spl')  # a line cut by a crash
    before = path.read_text()
    log = _JsonlLog(path, enabled=True)
    _failing_writes(monkeypatch, tmp_path)
    with pytest.raises(OSError):
        log.truncate_after(3)
    monkeypatch.undo()
    assert path.read_text() == before  # the old log, whole, not an empty or half-written file
    assert not [p for p in tmp_path.iterdir() if p.name != "metrics.jsonl"]  # no temporary left behind
    log.truncate_after(3)
    assert [json.loads(x)["step"] for x in path.read_text().splitlines()] == [1, 2, 3]


# ----------------------------------------------------------------------------- item 24: modes
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_every_file_of_a_run_follows_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        ck = save_checkpoint(tmp_path / "checkpoints" / "last.pt", {"model": {"w": torch.zeros(2)}})
        with atomic_path(tmp_path / "config.yaml") as tmp:
            tmp.write_text("a: 1\n")
        log = _JsonlLog(tmp_path / "metrics.jsonl", enabled=True)
        log.write({"step": 1, "loss": 1.0})
        log.truncate_after(1)
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(old)
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in (ck, tmp_path / "config.yaml",
                                                             tmp_path / "metrics.jsonl", plain)}
    assert set(modes.values()) == {oct(mode)}, modes


# ----------------------------------------------------------------------------- item 21: messages
def _corrupt_files(tmp_path):
    good = save_checkpoint(tmp_path / "good.pt", {"model": {"w": torch.zeros(3)}})
    data = good.read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "random.pt").write_bytes(bytes(range(256)) * 2)

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo should-not-run",))

    torch.save({"model": Payload()}, tmp_path / "code.pt")
    with open(tmp_path / "plain_pickle.pt", "wb") as f:
        pickle.dump({"model": Payload()}, f)
    return ["truncated.pt", "random.pt", "code.pt", "plain_pickle.pt"]


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_corrupt_checkpoint_errors_do_not_relay_torchs_advice_to_load_unsafely(tmp_path):
    for name in _corrupt_files(tmp_path):
        with pytest.raises(CheckpointError) as exc:
            load_checkpoint(tmp_path / name)
        msg = str(exc.value)
        assert msg.startswith(f"{tmp_path / name}: "), msg
        assert not re.search(r"weights_only|trusted source|arbitrary code|Re-running", msg), msg
        assert "\n" not in msg and len(msg) < 600, msg
        assert "delete it" in msg, msg


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_a_checkpoint_holding_code_says_nothing_was_run(tmp_path):
    _corrupt_files(tmp_path)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(tmp_path / "code.pt")
    msg = str(exc.value)
    assert "posix.system" in msg or "os.system" in msg or "system" in msg
    assert "nothing in it was run" in msg


# ----------------------------------------------------------------------------- item 22: safe torch
@pytest.mark.parametrize("version", ["2.5.1", "2.2.0+cpu", "1.13.1"])
def test_checkpoints_are_not_loaded_with_a_torch_before_2_6(tmp_path, monkeypatch, version):
    ck = save_checkpoint(tmp_path / "last.pt", {"model": {"w": torch.zeros(2)}})
    monkeypatch.setattr(torch, "__version__", version)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(ck)
    msg = str(exc.value)
    assert "CVE-2025-32434" in msg and version in msg and "pip install 'torch>=2.6'" in msg


@pytest.mark.parametrize("version", ["2.6.0", "2.13.0+cu121", "2.7.0a0+git123"])
def test_a_safe_torch_loads(tmp_path, monkeypatch, version):
    ck = save_checkpoint(tmp_path / "last.pt", {"model": {"w": torch.zeros(2)}})
    monkeypatch.setattr(torch, "__version__", version)
    assert torch.equal(load_checkpoint(ck)["model"]["w"], torch.zeros(2))


def test_pyproject_requires_torch_2_6():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"torch>=2\.6(\.\d+)?"', text), "pyproject.toml must require torch>=2.6"
    assert not re.search(r'"torch>=2\.[0-5]\b', text)
    assert checkpoint.MIN_SAFE_TORCH == (2, 6)
