"""PyTorch DDP plumbing for runs launched by ``torchrun`` (no home-made distributed layer).

``torchrun --nproc_per_node=N -m vaekit.pipelines train CONFIG`` sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous variables; :func:`init_distributed` reads
them and starts a process group with ``nccl`` on CUDA and ``gloo`` on CPU.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import torch
import torch.distributed as dist

from .errors import ConfigError, fmt_error


@dataclass
class DistEnv:
    """Where this process sits in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    initialized_here: bool = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _device_fix(where: str) -> str:
    """How to ask for a device that exists, in the words of ``where`` (a config key or a flag)."""
    if where.startswith("--"):
        return f"Pass {where} cpu, or {where} auto (CUDA when available, else the CPU)."
    return f"Set {where} to cpu, or auto (CUDA when available, else the CPU): --set {where}=cpu."


def check_device_name(pref: str, where: str = "train.device") -> None:
    """Raise :class:`ConfigError` unless ``pref`` is ``auto`` or a device name torch can parse
    (``cpu``, ``cuda``, ``cuda:N``...). Whether the device exists is checked by
    :func:`resolve_device`, when it is used, so a config written for a GPU still loads (and
    its run evaluates) on a machine without one."""
    if pref == "auto":
        return
    try:
        torch.device(pref)
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(fmt_error(where, "must be auto, cpu, cuda or cuda:N", pref, _device_fix(where))) from None


def resolve_device(pref: str = "auto", local_rank: int = 0, where: str = "--device") -> torch.device:
    """``auto`` -> ``cuda:LOCAL_RANK`` when CUDA is available, else ``cpu``.

    Raises
    ------
    ConfigError
        If ``pref`` names CUDA (or another accelerator) that this machine does not have, or a
        CUDA device index beyond the visible devices; ``where`` (the flag or config key that
        gave ``pref``: ``--device`` of evaluate / generate by default, ``train.device`` from
        :func:`init_distributed`) is named in the message.
    """
    if pref == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    check_device_name(pref, where)
    dev = torch.device(pref)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device(f"cuda:{local_rank}")
    if dev.type == "cuda":
        # torch's own failure is "AssertionError: Torch not compiled with CUDA enabled", raised
        # at the first tensor moved there, far from the key that asked for it.
        if not torch.cuda.is_available():
            raise ConfigError(fmt_error(where, "CUDA is not available on this machine (no GPU or a CPU-only "
                                        "torch)", pref, _device_fix(where)))
        if dev.index >= torch.cuda.device_count():
            raise ConfigError(fmt_error(where, f"this machine has {torch.cuda.device_count()} CUDA device(s), "
                                        f"cuda:0..cuda:{torch.cuda.device_count() - 1}", str(dev), _device_fix(where)))
    elif dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ConfigError(fmt_error(where, "the MPS (Apple GPU) backend is not available here", pref,
                                    _device_fix(where)))
    return dev


def init_distributed(device_pref: str = "auto", where: str = "train.device") -> DistEnv:
    """Join the ``torchrun`` process group if one is described by the environment; the
    device comes from :func:`resolve_device` (``where`` names the key that gave it)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_pref, local, where)
    if world <= 1:
        return DistEnv(0, 1, 0, device)
    if dist.is_initialized():
        return DistEnv(dist.get_rank(), dist.get_world_size(), local, device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend)
    return DistEnv(rank, world, local, device, initialized_here=True)


def all_reduce_sum(t: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """Sum ``t`` over ranks in place (no-op for a single process)."""
    if env.enabled:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def broadcast_object(obj, env: DistEnv, src: int = 0):
    """Send a picklable object from ``src`` to every rank."""
    if not env.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def barrier(env: DistEnv) -> None:
    if env.enabled:
        dist.barrier()


def cleanup(env: Optional[DistEnv]) -> None:
    """Destroy the process group if this module created it."""
    if env is not None and env.initialized_here and dist.is_initialized():
        dist.destroy_process_group()
