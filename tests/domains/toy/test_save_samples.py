"""The toy domain's ``vaekit generate`` output is written atomically (issue 19 item 18): a
crash before the write completes leaves the previous file whole, and no temporary behind."""
from __future__ import annotations

import os

import numpy as np
import pytest

from vaekit.domains.toy.data import ToyDataConfig, make_toy_data
from vaekit.domains.toy.domain import DOMAIN


def _crash_before_rename(monkeypatch):
    def replace(src, dst):
        raise OSError(5, "Input/output error (simulated crash before the rename)")

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("kind, name, samples", [
    ("sequence", "samples.txt", ["a b c", "d e"]),
    ("mixture", "samples.csv", [[0.5] * 8, [1.5] * 8]),
    ("mixture", "samples.npy", [[0.5] * 8, [1.5] * 8]),
])
def test_an_interrupted_write_keeps_the_previous_output(tmp_path, monkeypatch, kind, name, samples):
    info = make_toy_data(ToyDataConfig(kind=kind, n_train=32, n_val=8, n_test=8, x_dim=8)).info
    path = tmp_path / name
    DOMAIN.save_samples(samples, path, info)
    before = path.read_bytes()
    _crash_before_rename(monkeypatch)
    with pytest.raises(OSError, match="simulated crash"):
        DOMAIN.save_samples(samples[:1], path, info)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_outputs_are_complete_after_a_normal_write(tmp_path):
    info = make_toy_data(ToyDataConfig(kind="mixture", n_train=32, n_val=8, n_test=8, x_dim=3)).info
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    DOMAIN.save_samples(arr.tolist(), tmp_path / "s.npy", info)
    assert np.array_equal(np.load(tmp_path / "s.npy"), arr)
    DOMAIN.save_samples(arr.tolist(), tmp_path / "s.csv", info)
    assert (tmp_path / "s.csv").read_text().splitlines()[0] == "x0,x1,x2"
    seq = make_toy_data(ToyDataConfig(kind="sequence", n_train=32, n_val=8, n_test=8)).info
    DOMAIN.save_samples(["a", ""], tmp_path / "s.txt", seq)
    assert (tmp_path / "s.txt").read_text() == "a\n\n"
