"""Trainer phase plans: per-phase optimizers, eval-mode modules, on_phase_end, exact resume."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from torch import nn

from vaekit.core.checkpoint import load_checkpoint
from vaekit.core.config import from_dict
from vaekit.core.errors import CheckpointError, ConfigError
from vaekit.core.objectives import ELBO
from vaekit.core.phases import PhaseConfig, PhasePlan
from vaekit.core.trainer import TrainConfig, fit
from vaekit.core.vae import ComponentConfig, ModelConfig

BASE = TrainConfig(max_steps=14, batch_size=32, eval_every=0, log_every=1, progress=False, device="cpu",
                   restore_best=False)
# 256 training examples / 32 = 8 steps per epoch: encoder 3 steps, decoder 2 steps, cycle 5
PHASES = (PhaseConfig("encoder", ("encoder", "head"), steps=3, lr=2e-3),
          PhaseConfig("decoder", ("decoder",), steps=2, eval_modules=("encoder",), eval_after=True))


@pytest.fixture
def dropout_cfg():
    """A model with input dropout, so the phases' train / eval modes change the numbers."""
    return ModelConfig(latent_dim=3, encoder=ComponentConfig("mlp", {"hidden_dims": [16], "input_dropout": 0.3}),
                       decoder=ComponentConfig("mlp", {"hidden_dims": [16]}))


class _Snapshot(nn.Module):
    """Copies the encoder into a buffer at the end of every 'encoder' block (as RecVAE's
    composite prior does), and records every on_phase_end call."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self._src = [encoder]  # not a submodule
        self.register_buffer("copy", torch.zeros_like(next(encoder.parameters())))
        self.calls = []

    def on_phase_end(self, name):
        self.calls.append(name)
        if name == "encoder":
            self.copy.copy_(next(self._src[0].parameters()).detach())


def _model(make_model, cfg, info, seed=0):
    m = make_model(cfg, info, seed=seed)
    m.snapshot = _Snapshot(m.encoder)
    return m


def _state(m):
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def test_the_phase_of_a_step_is_a_pure_function_of_the_step():
    plan = PhasePlan([PhaseConfig("a", ("x",), epochs=3), PhaseConfig("b", ("y",), steps=1)], steps_per_epoch=2)
    assert plan.lengths == [6, 1] and plan.cycle == 7
    assert [plan.index(t) for t in range(15)] == [0] * 6 + [1] + [0] * 6 + [1] + [0]
    assert [t for t in range(15) if plan.ends_block(t)] == [5, 6, 12, 13]
    implicit = PhasePlan([], steps_per_epoch=5)
    assert implicit.names == ["train"] and implicit.index(123) == 0 and not implicit.ends_block(4)


def test_each_phase_updates_only_its_parameters(toy_bundle, dropout_cfg, make_model):
    m = _model(make_model, dropout_cfg, toy_bundle.info)
    before = _state(m)
    fit(m, ELBO(), toy_bundle, replace(BASE, max_steps=3, phases=PHASES))  # the encoder block only
    after = _state(m)
    changed = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"encoder", "head", "snapshot"}
    assert m.snapshot.calls == ["encoder"]
    assert torch.equal(m.snapshot.copy, next(m.encoder.parameters()))
    fit(m, ELBO(), toy_bundle, replace(BASE, max_steps=2, phases=PHASES[1:]))  # a decoder block
    final = _state(m)
    changed = {k.split(".")[0] for k in after if not torch.equal(after[k], final[k])}
    assert changed == {"decoder"}


def test_on_phase_end_runs_at_every_block_end_and_eval_modules_are_in_eval_mode(toy_bundle, dropout_cfg,
                                                                                 make_model, tmp_path):
    m = _model(make_model, dropout_cfg, toy_bundle.info)
    modes = []
    m.encoder.register_forward_pre_hook(lambda mod, args: modes.append(mod.training) if torch.is_grad_enabled()
                                        else None)
    fit(m, ELBO(), toy_bundle, replace(BASE, phases=PHASES), run_dir=tmp_path)
    # 14 steps: encoder 0-2, decoder 3-4, encoder 5-7, decoder 8-9, encoder 10-12, decoder 13
    assert m.snapshot.calls == ["encoder", "decoder", "encoder", "decoder", "encoder"]
    assert modes == [True] * 3 + [False] * 2 + [True] * 3 + [False] * 2 + [True] * 3 + [False]
    recs = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    # eval_after: validation when a decoder block ends, and at the last step
    assert [r["step"] for r in recs if r["split"] == "val"] == [5, 10, 14]
    assert [r["phase"] for r in recs if r["split"] == "train"][:6] == ["encoder"] * 3 + ["decoder"] * 2 + ["encoder"]
    lrs = {r["phase"]: r["lr"] for r in recs if r["split"] == "train"}
    assert lrs == {"encoder": 2e-3, "decoder": BASE.lr}


def test_without_phases_the_trainer_takes_the_same_steps_as_one_phase_over_everything(toy_bundle, tiny_model_cfg,
                                                                                      make_model):
    m1 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m1, ELBO(), toy_bundle, BASE)
    m2 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m2, ELBO(), toy_bundle, replace(BASE, phases=(PhaseConfig("all", ("encoder", "head", "decoder"), steps=4),)))
    a, b = _state(m1), _state(m2)
    assert all(torch.equal(a[k], b[k]) for k in a)


class _Interrupting(torch.utils.data.Dataset):
    def __init__(self, base, after):
        self.base, self.after, self.calls = base, after, 0

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        self.calls += 1
        if self.calls == self.after:
            raise KeyboardInterrupt
        return self.base[i]


def test_an_interrupted_phased_run_resumed_equals_the_uninterrupted_run_bitwise(tmp_path, toy_bundle, dropout_cfg,
                                                                               make_model):
    cfg = replace(BASE, phases=PHASES, eval_every=4)
    m1 = _model(make_model, dropout_cfg, toy_bundle.info)
    fit(m1, ELBO(), toy_bundle, cfg, run_dir=tmp_path / "a")

    # interrupt inside step 7 (third step of the second encoder block, mid-phase, no eval boundary)
    broken = replace(toy_bundle, train=_Interrupting(toy_bundle.train, after=7 * 32 + 5))
    m2 = _model(make_model, dropout_cfg, toy_bundle.info)
    with pytest.raises(KeyboardInterrupt):
        fit(m2, ELBO(), broken, cfg, run_dir=tmp_path / "b")
    ck = load_checkpoint(tmp_path / "b" / "checkpoints" / "last.pt")
    assert ck["train_state"]["step"] == 7 and sorted(ck["optimizers"]) == ["decoder", "encoder"]
    assert "optimizer" not in ck
    m3 = _model(make_model, dropout_cfg, toy_bundle.info, seed=99)  # a fresh process: other init
    fit(m3, ELBO(), toy_bundle, cfg, run_dir=tmp_path / "b")
    a, c = _state(m1), _state(m3)
    for k in a:
        assert torch.equal(a[k], c[k]), f"{k} differs"
    recs_a = (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()
    recs_b = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in recs_a] == [json.loads(r)["step"] for r in recs_b]


def test_a_checkpoint_of_the_other_optimizer_layout_fails_with_one_line(tmp_path, toy_bundle, tiny_model_cfg,
                                                                        make_model):
    fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, replace(BASE, max_steps=2), run_dir=tmp_path)
    assert "optimizer" in load_checkpoint(tmp_path / "checkpoints" / "last.pt")  # the format before phases
    with pytest.raises(CheckpointError, match="without train.phases.*encoder, decoder.*new run directory"):
        fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, replace(BASE, phases=PHASES),
            run_dir=tmp_path)
    other = tmp_path / "phased"
    fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, replace(BASE, max_steps=2, phases=PHASES),
        run_dir=other)
    with pytest.raises(CheckpointError, match="with train.phases .*this config has none"):
        fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, BASE, run_dir=other)
    renamed = (replace(PHASES[0], name="enc"), PHASES[1])
    with pytest.raises(CheckpointError, match="written with phases encoder, decoder"):
        fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, replace(BASE, phases=renamed),
            run_dir=other)


def test_phases_parse_from_a_config_and_bad_plans_name_the_key(toy_bundle, tiny_model_cfg, make_model):
    cfg = from_dict(TrainConfig, {"phases": [{"name": "enc", "params": ["encoder", "head"], "epochs": 3},
                                             {"name": "dec", "params": ["decoder"], "steps": 1,
                                              "eval_modules": ["encoder"]}]}, "train")
    assert cfg.phases[0] == PhaseConfig("enc", ("encoder", "head"), epochs=3)
    with pytest.raises(ConfigError, match=r"train.phases\[0\]: give exactly one of steps or epochs"):
        from_dict(TrainConfig, {"phases": [{"name": "a", "params": ["encoder"], "steps": 2, "epochs": 1}]}, "train")
    with pytest.raises(ConfigError, match=r"train.phases\[1\].name: .*unique"):
        from_dict(TrainConfig, {"phases": [{"name": "a", "params": ["encoder"], "steps": 1}] * 2}, "train")
    m = make_model(tiny_model_cfg, toy_bundle.info)
    bad = replace(BASE, phases=(PhaseConfig("a", ("encodr",), steps=1),))
    with pytest.raises(ConfigError, match=r"train.phases\[0\].params: 'encodr' names no trainable.*encoder"):
        fit(m, ELBO(), toy_bundle, bad)
    bad = replace(BASE, phases=(PhaseConfig("a", ("encoder",), steps=1, eval_modules=("decodr",)),))
    with pytest.raises(ConfigError, match=r"train.phases\[0\].eval_modules: .*no submodule 'decodr'"):
        fit(m, ELBO(), toy_bundle, bad)
