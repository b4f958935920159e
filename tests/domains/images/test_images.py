"""The images domain: generated shapes, .npz loading (MNIST layout), binarisation, errors,
and the packaged default through train -> evaluate -> generate."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vaekit.core.config import from_dict
from vaekit.core.errors import ConfigError, DataValidationError
from vaekit.domains import get_domain
from vaekit.domains.images.data import ImagesDataConfig, generate_shapes, load_images
from vaekit.pipelines import evaluate_run, generate_run, load_config, train_run


def _cfg(**kw) -> ImagesDataConfig:
    cfg = from_dict(ImagesDataConfig, kw, "data")
    cfg.validate()
    return cfg


def _npz(path, n=(40, 10, 12), grey=True, with_val=True, labels=True):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, m in zip(("train", "valid", "test"), n):
        if split == "valid" and not with_val:
            continue
        x = rng.integers(0, 256, size=(m, 64)) if grey else rng.integers(0, 2, size=(m, 64))
        arrays[f"x_{split}"] = x.astype(np.uint8)
        if labels:
            arrays[f"y_{split}"] = rng.integers(0, 10, size=m)
    np.savez(path, **arrays)
    return path


def test_generated_shapes_have_four_distinct_classes():
    x, y = generate_shapes(400, 16, 0.0, np.random.default_rng(0))
    assert x.shape == (400, 1, 16, 16) and set(np.unique(x)) <= {0.0, 1.0}
    assert set(np.unique(y)) == {0, 1, 2, 3}
    rows = x[y == 0].sum(axis=(1, 3))  # horizontal bars: ink on exactly two rows
    assert ((rows > 0).sum(1) == 2).all()
    b = load_images(_cfg(n_train=50, n_val=10, n_test=10))
    assert b.info.kind == "image" and b.info.shape == (1, 16, 16) and b.info.extra["binary"]
    assert len(b.train) == 50 and b.collate([b.test[i] for i in range(4)]).x.shape == (4, 1, 16, 16)


def test_npz_grey_levels_binarised_and_labels(tmp_path):
    p = _npz(tmp_path / "d.npz")
    raw = load_images(_cfg(source=str(p)))
    assert raw.info.shape == (1, 8, 8) and not raw.info.extra["binary"]
    assert float(raw.train.x.max()) <= 1.0 and raw.info.extra["class_names"] == [str(k) for k in range(10)]
    thr = load_images(_cfg(source=str(p), binarize="threshold"))
    assert torch.equal(thr.train.x, (raw.train.x > 0.5).float())
    a = load_images(_cfg(source=str(p), binarize="fixed_seed", binarize_seed=3))
    b = load_images(_cfg(source=str(p), binarize="fixed_seed", binarize_seed=3))
    assert torch.equal(a.train.x, b.train.x) and a.info.extra["binary"]
    # a Bernoulli draw of the grey levels: its mean tracks the grey levels
    assert abs(float(a.train.x.mean()) - float(raw.train.x.mean())) < 0.02
    assert torch.equal(a.test.y, raw.test.y)


def test_npz_without_validation_split_holds_out_training_images(tmp_path):
    p = _npz(tmp_path / "d.npz", n=(100, 0, 20), with_val=False)
    b = load_images(_cfg(source=str(p), val_fraction=0.2), seed=0)
    assert (len(b.train), len(b.val), len(b.test)) == (80, 20, 20)
    assert "val_split" in b.info.extra
    both = load_images(_cfg(source=str(p), val_fraction=0.2, train_on_val=True, max_train=90))
    assert len(both.train) == 90


def test_npz_errors_name_the_file_the_rule_and_the_fix(tmp_path):
    with pytest.raises(DataValidationError, match="an existing .npz file"):
        load_images(_cfg(source=str(tmp_path / "missing.npz")))
    np.savez(tmp_path / "k.npz", images=np.zeros((3, 4)))
    with pytest.raises(DataValidationError, match=r"x_train and x_test.*\['images'\]"):
        load_images(_cfg(source=str(tmp_path / "k.npz")))
    np.savez(tmp_path / "r.npz", x_train=np.full((3, 4), 2.0), x_test=np.zeros((3, 4)))
    with pytest.raises(DataValidationError, match=r"\[0, 1\].*Divide grey levels by 255"):
        load_images(_cfg(source=str(tmp_path / "r.npz")))
    np.savez(tmp_path / "s.npz", x_train=np.zeros((3, 10)), x_test=np.zeros((3, 10)))
    with pytest.raises(DataValidationError, match="square.*data.shape"):
        load_images(_cfg(source=str(tmp_path / "s.npz")))
    ok = load_images(_cfg(source=str(tmp_path / "s.npz"), shape=[1, 2, 5], val_fraction=0.34))
    assert ok.info.shape == (1, 2, 5)
    with pytest.raises(ConfigError, match="data.source"):
        _cfg(source="images.csv")
    with pytest.raises(ConfigError, match="labels"):
        load_images(_cfg(source=str(tmp_path / "s.npz"), shape=[1, 2, 5], conditional=True))


def test_packaged_default_trains_evaluates_and_generates(tmp_path):
    cfg = load_config("images:default", ["train.max_steps=60", "train.eval_every=30", "train.progress=false",
                                         "data.n_train=600", "eval.iw_samples=5", "eval.mi_examples=100"])
    run = tmp_path / "run"
    train_run(cfg, run, resume="never", log=lambda m: None)
    r = evaluate_run(run)
    assert r["nll_iw"] > 0 and r["iw_samples"] == 5 and 0 < r["recon_bit_acc"] <= 1
    assert r["knn_acc"] > 0.25  # above chance for four classes
    out = generate_run(run, 6, tmp_path / "s.npy")
    arr = np.load(out)
    assert arr.shape == (6, 1, 16, 16) and arr.min() >= 0 and arr.max() <= 1
    pytest.importorskip("matplotlib")
    png = generate_run(run, 6, tmp_path / "s.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(DataValidationError, match=".npy or .png"):
        generate_run(run, 2, tmp_path / "s.csv")
    html = (run / "report.html").read_text()
    for title in ("Reconstructions", "Samples"):
        assert f">{title}</h2>" in html
    assert "32 images of the test split" in html and "64 samples from the prior" in html


def test_condition_parsing():
    dom = get_domain("images")
    info = load_images(_cfg(n_train=40, n_val=8, n_test=8, conditional=True)).info
    assert int(dom.parse_cond(["label=2"], info)) == 2
    with pytest.raises(DataValidationError, match=r"label in \[0, 4\)"):
        dom.parse_cond(["label=7"], info)
    with pytest.raises(DataValidationError, match="label=K"):
        dom.parse_cond(["style=1"], info)
