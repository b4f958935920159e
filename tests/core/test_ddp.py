"""DDP through torchrun (gloo on CPU): 2 processes == 1 process on the same global batch.

The trainer splits each global batch into world_size x grad_accum slots and seeds each slot
by (seed, step, slot), so 2 ranks x 1 micro-batch compute exactly what 1 process x 2
accumulated micro-batches computes; only the float summation order of the gradient
all-reduce differs.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

WORKER = Path(__file__).with_name("ddp_worker.py")


def _torchrun(nproc, out, batch, accum, steps, cwd, *extra):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           str(WORKER), str(out), str(batch), str(accum), str(steps), *extra]
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return torch.load(out, weights_only=True)


def _run_single(out, batch, accum, steps, cwd, *extra):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, str(WORKER), str(out), str(batch), str(accum), str(steps), *extra], cwd=cwd,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return torch.load(out, weights_only=True)


def test_two_process_gloo_matches_one_process_same_global_batch(tmp_path):
    two = _torchrun(2, tmp_path / "two.pt", batch=32, accum=1, steps=15, cwd=tmp_path)
    one = _run_single(tmp_path / "one.pt", batch=32, accum=2, steps=15, cwd=tmp_path)
    assert two["world"] == 2 and one["world"] == 1
    for k, v in one["model"].items():
        torch.testing.assert_close(two["model"][k], v, rtol=1e-4, atol=1e-5, msg=f"parameter {k}")
    # validation is all-reduced exactly: same numbers whatever the number of processes
    for k in ("neg_elbo", "recon", "kl"):
        assert two["val"][k] == pytest.approx(one["val"][k], rel=1e-4)


def test_a_phase_plan_agrees_across_processes(tmp_path):
    # The phase of a step is a function of the step alone, so the ranks switch optimizers together
    # without communicating: 2 ranks x 1 micro-batch == 1 process x 2 accumulated micro-batches.
    two = _torchrun(2, tmp_path / "two.pt", 32, 1, 12, tmp_path, "phased")
    one = _run_single(tmp_path / "one.pt", 32, 2, 12, tmp_path, "phased")
    plain = _run_single(tmp_path / "plain.pt", 32, 2, 12, tmp_path)
    for k, v in one["model"].items():
        torch.testing.assert_close(two["model"][k], v, rtol=1e-4, atol=1e-5, msg=f"parameter {k}")
    # and the plan did change the training (the decoder was frozen during encoder blocks)
    assert any(not torch.allclose(one["model"][k], plain["model"][k]) for k in one["model"] if "decoder" in k)


def test_torchrun_cli_trains_toy_config(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
           "vaekit.pipelines", "train", "toy:default", "--no-progress", "--run-dir", str(tmp_path / "run"),
           "--set", "train.max_steps=40", "train.eval_every=20", "data.n_train=512"]
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "x 2 processes" in r.stderr
    ck = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert ck["train_state"]["step"] == 40


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_node_rendezvous_as_in_the_readme(tmp_path):
    """The README's multi-node command (c10d rendezvous, one torchrun per node), both "nodes"
    on this machine: they meet at the endpoint and train one run together."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    endpoint = f"127.0.0.1:{_free_port()}"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc_per_node=1", "--rdzv-id=vaekit-test",
           "--rdzv-backend=c10d", f"--rdzv-endpoint={endpoint}", "-m", "vaekit.pipelines", "train", "toy:default",
           "--no-progress", "--run-dir", str(tmp_path / "run"), "--set", "train.max_steps=20", "train.eval_every=10",
           "data.n_train=256", "tracking.tensorboard=false"]
    nodes = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in nodes]
    assert all(p.returncode == 0 for p in nodes), "\n".join(o[1][-2000:] for o in outs)
    assert sum("x 2 processes" in err for _, err in outs) == 1  # rank 0 alone reports (and writes the run)
    ck = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert ck["train_state"]["step"] == 20
