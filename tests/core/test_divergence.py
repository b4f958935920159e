"""Divergence detection (issue 19 item 4): a loss that explodes while still finite stops the
run with the non-finite loss's advice; single spikes, normal training and ``null`` do not."""
from __future__ import annotations

import warnings
from dataclasses import replace

import pytest

from vaekit.core.errors import ConfigError, TrainingError
from vaekit.core.objectives import ELBO
from vaekit.core.trainer import TrainConfig, fit
from vaekit.core.types import LossOutput

BASE = TrainConfig(max_steps=30, batch_size=32, eval_every=0, log_every=5, progress=False, device="cpu",
                   restore_best=False)


class _Scaled:
    """An ELBO whose loss is multiplied by ``factor`` at the steps in ``steps`` (a finite
    explosion at exactly known steps, independent of any optimizer's luck)."""

    def __init__(self, steps, factor=1e6):
        self.inner, self.steps, self.factor = ELBO(), set(steps), factor

    def model_kwargs(self, step):
        return self.inner.model_kwargs(step)

    def __call__(self, out, step, batch=None):
        lo = self.inner(out, step, batch=batch)
        if step not in self.steps:
            return lo
        terms = dict(lo.terms, loss=lo.terms["loss"] * self.factor)
        return LossOutput(loss=lo.loss * self.factor, terms=terms)


def test_a_finite_explosion_stops_with_the_nonfinite_advice(toy_bundle, tiny_model_cfg, make_model):
    m = make_model(tiny_model_cfg, toy_bundle.info)
    with pytest.raises(TrainingError) as exc:
        fit(m, _Scaled(range(10, 30)), toy_bundle, BASE)
    msg = str(exc.value)
    # The third consecutive exploded step (10, 11, 12) stops the run.
    assert msg.startswith("step 12: the loss diverged"), msg
    assert "train.divergence_factor" in msg and "lower train.lr" in msg and "grad_clip" in msg
    assert "median" in msg and "lr=" in msg


def test_a_single_spike_is_not_divergence(toy_bundle, tiny_model_cfg, make_model):
    m = make_model(tiny_model_cfg, toy_bundle.info)
    st = fit(m, _Scaled([10, 11, 20]), toy_bundle, BASE)
    assert st.step == 30


def test_divergence_factor_null_turns_the_check_off(toy_bundle, tiny_model_cfg, make_model):
    m = make_model(tiny_model_cfg, toy_bundle.info)
    st = fit(m, _Scaled(range(10, 30)), toy_bundle, replace(BASE, divergence_factor=None))
    assert st.step == 30


def test_divergence_factor_must_be_positive():
    with pytest.raises(ConfigError, match=r"train\.divergence_factor: .*got 0\.0.*null"):
        TrainConfig(divergence_factor=0.0).validate()


def test_the_issue_probe_toy_lr_0_5_fails_instead_of_reporting_done(tmp_path, train_packaged):
    """``vaekit train toy:default --set train.lr=0.5 train.max_steps=300`` printed "done"
    with a rate of 5e8 nats; it now stops within the first steps."""
    with pytest.raises(TrainingError) as exc:
        train_packaged("toy:default", ["train.lr=0.5", "train.max_steps=300", "train.progress=false"],
                       tmp_path / "run")
    assert "the loss diverged" in str(exc.value)
    step = int(str(exc.value).split(":")[0].split()[1])
    assert step < 20


def test_normal_toy_training_is_not_flagged(tmp_path, train_packaged):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        summary = train_packaged("toy:default", ["train.max_steps=200", "train.progress=false",
                                                 "train.eval_every=0"], tmp_path / "run")
    assert summary is not None
