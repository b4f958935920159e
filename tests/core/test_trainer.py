"""Trainer: exact resume, interruption, early stopping, non-finite losses, precision, logs, and
phase plans (per-phase optimizers, eval-mode modules, on_phase_end, exact resume of a phased run)."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from torch import nn

from vaekit.core.checkpoint import load_checkpoint
from vaekit.core.data import ArrayDataset, collate_arrays
from vaekit.core.config import from_dict
from vaekit.core.errors import CheckpointError, ConfigError, TrainingError
from vaekit.core.objectives import ELBO
from vaekit.core.phases import PhaseConfig, PhasePlan
from vaekit.core.trainer import TrainConfig, fit
from vaekit.core.types import DataBundle
from vaekit.core.vae import ComponentConfig, ModelConfig

BASE = TrainConfig(max_steps=30, batch_size=32, eval_every=10, log_every=5, progress=False, device="cpu",
                   restore_best=False)


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_bitwise_equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"parameter {k} differs"


def test_resume_after_stop_equals_uninterrupted_bitwise(tmp_path, toy_bundle, tiny_model_cfg, make_model):
    m1 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m1, ELBO(beta={"kind": "linear", "steps": 20}), toy_bundle, BASE, run_dir=tmp_path / "a")

    m2 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m2, ELBO(beta={"kind": "linear", "steps": 20}), toy_bundle, replace(BASE, max_steps=20), run_dir=tmp_path / "b")
    m3 = make_model(tiny_model_cfg, toy_bundle.info, seed=123)  # a fresh process: different init, no RNG state
    st = fit(m3, ELBO(beta={"kind": "linear", "steps": 20}), toy_bundle, BASE, run_dir=tmp_path / "b")
    assert st.step == 30
    _assert_bitwise_equal(_params(m1), _params(m3))


class _InterruptingDataset(torch.utils.data.Dataset):
    """Raises KeyboardInterrupt (as Ctrl-C would) on its n-th item access."""

    def __init__(self, base, after):
        self.base, self.after, self.calls = base, after, 0

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        self.calls += 1
        if self.calls == self.after:
            raise KeyboardInterrupt
        return self.base[i]


def test_ctrl_c_saves_and_resume_matches_uninterrupted(tmp_path, toy_bundle, tiny_model_cfg, make_model):
    m1 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m1, ELBO(), toy_bundle, BASE, run_dir=tmp_path / "a")

    # 32 items per step: interrupt inside step 17 (not on an evaluation boundary).
    broken = replace(toy_bundle, train=_InterruptingDataset(toy_bundle.train, after=17 * 32 + 5))
    m2 = make_model(tiny_model_cfg, toy_bundle.info)
    with pytest.raises(KeyboardInterrupt):
        fit(m2, ELBO(), broken, BASE, run_dir=tmp_path / "b")
    ck = load_checkpoint(tmp_path / "b" / "checkpoints" / "last.pt")
    assert ck["train_state"]["step"] == 17
    m3 = make_model(tiny_model_cfg, toy_bundle.info, seed=7)
    fit(m3, ELBO(), toy_bundle, BASE, run_dir=tmp_path / "b")
    _assert_bitwise_equal(_params(m1), _params(m3))
    # the metrics log has each record once, as the uninterrupted run's
    recs_a = [json.loads(l) for l in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    recs_b = [json.loads(l) for l in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["split"]) for r in recs_a] == [(r["step"], r["split"]) for r in recs_b]
    assert recs_a[-1]["neg_elbo"] == recs_b[-1]["neg_elbo"]


def test_checkpoints_load_weights_only_and_best_is_restored(tmp_path, toy_bundle, tiny_model_cfg, make_model):
    m = make_model(tiny_model_cfg, toy_bundle.info)
    st = fit(m, ELBO(), toy_bundle, replace(BASE, restore_best=True), run_dir=tmp_path)
    for name in ("last.pt", "best.pt"):
        state = torch.load(tmp_path / "checkpoints" / name, weights_only=True)
        assert "model" in state and "optimizer" in state
    best = torch.load(tmp_path / "checkpoints" / "best.pt", weights_only=True)
    assert best["train_state"]["step"] == st.best_step
    _assert_bitwise_equal(_params(m), best["model"])
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))


def test_early_stopping_stops_when_val_stalls(tmp_path, toy_bundle, tiny_model_cfg, make_model):
    m = make_model(tiny_model_cfg, toy_bundle.info)
    cfg = replace(BASE, max_steps=200, eval_every=5, early_stopping_patience=2, min_delta=1e9)
    st = fit(m, ELBO(), toy_bundle, cfg, run_dir=tmp_path)
    # the first evaluation sets the best; two more without a 1e9 improvement stop the run
    assert st.stopped_early and st.step == 15 and st.best_step == 5


def test_extra_val_metrics_are_logged_and_select_the_best_step_in_max_mode(tmp_path, toy_bundle, tiny_model_cfg,
                                                                           make_model):
    m = make_model(tiny_model_cfg, toy_bundle.info)
    calls = []

    def score(model):  # peaks at the second evaluation (step 10), whatever the loss does
        assert not model.training and not torch.is_grad_enabled()
        calls.append(1)
        return {"score@5": [0.1, 0.9, 0.5, 0.3][len(calls) - 1]}

    cfg = replace(BASE, max_steps=20, eval_every=5, monitor="score@5", monitor_mode="max", restore_best=True)
    st = fit(m, ELBO(), toy_bundle, cfg, run_dir=tmp_path, val_metrics=score)
    assert st.best_step == 10 and len(calls) == 4 and m.training
    vals = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["score@5"] for r in vals if r["split"] == "val"] == [0.1, 0.9, 0.5, 0.3]
    best = torch.load(tmp_path / "checkpoints" / "best.pt", weights_only=True)
    _assert_bitwise_equal(_params(m), best["model"])
    with pytest.raises(ConfigError, match="train.monitor.*score@5"):
        fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, replace(cfg, monitor="score@50"),
            run_dir=tmp_path / "other", val_metrics=lambda model: {"score@5": 0.0})


def test_restore_best_without_a_run_dir_keeps_the_best_weights_in_memory(toy_bundle, tiny_model_cfg, make_model):
    scores = iter([0.1, 0.9, 0.5, 0.3])  # the best evaluation is the second (step 10)
    cfg = replace(BASE, max_steps=20, eval_every=5, monitor="s", monitor_mode="max", restore_best=True)
    m = make_model(tiny_model_cfg, toy_bundle.info)
    st = fit(m, ELBO(), toy_bundle, cfg, val_metrics=lambda model: {"s": next(scores)})
    assert st.best_step == 10 and st.step == 20
    ref = make_model(tiny_model_cfg, toy_bundle.info)
    fit(ref, ELBO(), toy_bundle, replace(cfg, max_steps=10, restore_best=False), val_metrics=lambda model: {"s": 0.0})
    _assert_bitwise_equal(_params(m), _params(ref))


def test_nonfinite_loss_raises_with_step_terms_and_advice(toy_bundle, tiny_model_cfg, make_model):
    bad = ArrayDataset(torch.full((64, 8), 1e30))
    data = DataBundle(bad, None, None, toy_bundle.info, collate_arrays)
    m = make_model(tiny_model_cfg, toy_bundle.info)
    with pytest.raises(TrainingError) as exc:
        fit(m, ELBO(), data, replace(BASE, max_steps=3))
    msg = str(exc.value)
    assert "step 0" in msg and "recon=" in msg and "lr=" in msg and "grad_clip" in msg


def test_bf16_autocast_trains_on_cpu(toy_bundle, tiny_model_cfg, make_model):
    m = make_model(tiny_model_cfg, toy_bundle.info)
    st = fit(m, ELBO(), toy_bundle, replace(BASE, max_steps=20, precision="bf16", grad_clip=1.0))
    assert st.step == 20 and torch.isfinite(torch.tensor(st.last_val["neg_elbo"]))
    assert all(p.dtype == torch.float32 for p in m.parameters())  # weights stay fp32


def test_training_reduces_the_validation_loss(toy_bundle, tiny_model_cfg, make_model):
    m = make_model(tiny_model_cfg, toy_bundle.info)
    st0 = fit(m, ELBO(), toy_bundle, replace(BASE, max_steps=1, eval_every=1))
    first = st0.last_val["neg_elbo"]
    m = make_model(tiny_model_cfg, toy_bundle.info)
    st = fit(m, ELBO(), toy_bundle, replace(BASE, max_steps=150, eval_every=150, lr=3e-3))
    assert st.last_val["neg_elbo"] < first - 1.0  # measured: 12.19 -> 10.37 nats


def test_batch_larger_than_data_is_clamped_with_a_message(toy_bundle, tiny_model_cfg, make_model):
    small = replace(toy_bundle, train=ArrayDataset(toy_bundle.train.x[:10]))
    msgs = []
    m = make_model(tiny_model_cfg, toy_bundle.info)
    st = fit(m, ELBO(), small, replace(BASE, max_steps=3, batch_size=64), log=msgs.append)
    assert st.step == 3 and any("exceeds the 10 training examples" in s for s in msgs)


def test_batch_not_divisible_by_slots_is_a_config_error(toy_bundle, tiny_model_cfg, make_model):
    m = make_model(tiny_model_cfg, toy_bundle.info)
    with pytest.raises(ConfigError, match="divisible by world_size x grad_accum"):
        fit(m, ELBO(), toy_bundle, replace(BASE, batch_size=33, grad_accum=2))


def test_grad_accumulation_equals_large_batch_slots(toy_bundle, tiny_model_cfg, tmp_path, make_model):
    """Accumulating 2 micro-batches is the 2-slot computation (what 2 DDP ranks do)."""
    m1 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m1, ELBO(), toy_bundle, replace(BASE, max_steps=10, grad_accum=2))
    m2 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m2, ELBO(), toy_bundle, replace(BASE, max_steps=10, grad_accum=1))
    p1, p2 = _params(m1), _params(m2)
    # same global batches and step count, different noise per slot: close but not identical
    diffs = [float((p1[k] - p2[k]).abs().max()) for k in p1]
    assert max(diffs) > 0
    assert max(diffs) < 0.05


def test_fp16_uses_a_checkpointed_grad_scaler_and_resumes(tmp_path, toy_bundle, tiny_model_cfg, make_model):
    cfg = replace(BASE, max_steps=20, precision="fp16", grad_clip=1.0)
    m1 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m1, ELBO(), toy_bundle, cfg, run_dir=tmp_path / "a")
    ck = torch.load(tmp_path / "a" / "checkpoints" / "last.pt", weights_only=True)
    assert ck["scaler"] is not None and ck["scaler"]["scale"] > 0
    m2 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m2, ELBO(), toy_bundle, replace(cfg, max_steps=10), run_dir=tmp_path / "b")
    m3 = make_model(tiny_model_cfg, toy_bundle.info, seed=3)
    fit(m3, ELBO(), toy_bundle, cfg, run_dir=tmp_path / "b")
    _assert_bitwise_equal(_params(m1), _params(m3))


def test_length_buckets_keep_epochs_a_permutation_and_cut_padding():
    from vaekit.core.trainer import _StepBatches

    torch.manual_seed(0)
    n, g = 640, 32
    lengths = torch.randint(2, 80, (n,))
    plain = _StepBatches(n, g, seed=3, start=0, max_steps=40, rank=0, world=1, accum=1)
    bucketed = _StepBatches(n, g, seed=3, start=0, max_steps=40, rank=0, world=1, accum=1, lengths=lengths, buckets=5)
    for sampler in (plain, bucketed):
        for epoch in range(2):
            seen = torch.cat([sampler.global_batch(epoch * 20 + k) for k in range(20)])
            assert sorted(seen.tolist()) == list(range(n))  # every example exactly once per epoch

    def padding(sampler):
        return sum(int(lengths[b].max()) * len(b) - int(lengths[b].sum())
                   for b in (sampler.global_batch(k) for k in range(20)))

    assert padding(bucketed) < 0.3 * padding(plain)
    # Deterministic in (seed, epoch): a fresh sampler started mid-run gives the same batches.
    late = _StepBatches(n, g, seed=3, start=25, max_steps=40, rank=0, world=1, accum=1, lengths=lengths, buckets=5)
    assert torch.equal(late.global_batch(25), bucketed.global_batch(25))


def test_length_buckets_need_a_dataset_with_lengths(toy_bundle, tiny_model_cfg, make_model):
    model = make_model(tiny_model_cfg, toy_bundle.info)
    with pytest.raises(ConfigError, match="length_buckets"):
        fit(model, ELBO(), toy_bundle, TrainConfig(max_steps=2, length_buckets=4, progress=False))


def test_sigterm_saves_last_checkpoint_so_the_run_resumes(tmp_path):
    """Schedulers stop jobs with SIGTERM; the trainer must save last.pt like on Ctrl-C."""
    import signal
    import subprocess
    import sys
    import time as _time

    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "vaekit.pipelines", "train", "toy:default", "--no-progress",
                             "--run-dir", str(run), "--set", "train.max_steps=1000000", "train.eval_every=0",
                             "train.log_every=10"], stderr=subprocess.PIPE, text=True)
    deadline = _time.time() + 120
    while _time.time() < deadline:  # wait until training is under way
        if (run / "metrics.jsonl").exists() and (run / "metrics.jsonl").read_text().count("\n") >= 2:
            break
        _time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "interrupted at step" in err
    state = load_checkpoint(run / "checkpoints" / "last.pt")["train_state"]
    assert state["step"] >= 20


# ---------------------------------------------------------------------------- phase plans
PHASED = replace(BASE, max_steps=14, eval_every=0, log_every=1)
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


def test_the_phase_of_a_step_is_a_pure_function_of_the_step():
    plan = PhasePlan([PhaseConfig("a", ("x",), epochs=3), PhaseConfig("b", ("y",), steps=1)], steps_per_epoch=2)
    assert plan.lengths == [6, 1] and plan.cycle == 7
    assert [plan.index(t) for t in range(15)] == [0] * 6 + [1] + [0] * 6 + [1] + [0]
    assert [t for t in range(15) if plan.ends_block(t)] == [5, 6, 12, 13]
    implicit = PhasePlan([], steps_per_epoch=5)
    assert implicit.names == ["train"] and implicit.index(123) == 0 and not implicit.ends_block(4)


def test_each_phase_updates_only_its_parameters(toy_bundle, dropout_cfg, make_model):
    m = _model(make_model, dropout_cfg, toy_bundle.info)
    before = _params(m)
    fit(m, ELBO(), toy_bundle, replace(PHASED, max_steps=3, phases=PHASES))  # the encoder block only
    after = _params(m)
    changed = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"encoder", "head", "snapshot"}
    assert m.snapshot.calls == ["encoder"]
    assert torch.equal(m.snapshot.copy, next(m.encoder.parameters()))
    fit(m, ELBO(), toy_bundle, replace(PHASED, max_steps=2, phases=PHASES[1:]))  # a decoder block
    final = _params(m)
    changed = {k.split(".")[0] for k in after if not torch.equal(after[k], final[k])}
    assert changed == {"decoder"}


def test_on_phase_end_runs_at_every_block_end_and_eval_modules_are_in_eval_mode(toy_bundle, dropout_cfg,
                                                                                 make_model, tmp_path):
    m = _model(make_model, dropout_cfg, toy_bundle.info)
    modes = []
    m.encoder.register_forward_pre_hook(lambda mod, args: modes.append(mod.training) if torch.is_grad_enabled()
                                        else None)
    fit(m, ELBO(), toy_bundle, replace(PHASED, phases=PHASES), run_dir=tmp_path)
    # 14 steps: encoder 0-2, decoder 3-4, encoder 5-7, decoder 8-9, encoder 10-12, decoder 13
    assert m.snapshot.calls == ["encoder", "decoder", "encoder", "decoder", "encoder"]
    assert modes == [True] * 3 + [False] * 2 + [True] * 3 + [False] * 2 + [True] * 3 + [False]
    recs = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    # eval_after: validation when a decoder block ends, and at the last step
    assert [r["step"] for r in recs if r["split"] == "val"] == [5, 10, 14]
    assert [r["phase"] for r in recs if r["split"] == "train"][:6] == ["encoder"] * 3 + ["decoder"] * 2 + ["encoder"]
    lrs = {r["phase"]: r["lr"] for r in recs if r["split"] == "train"}
    assert lrs == {"encoder": 2e-3, "decoder": PHASED.lr}


def test_without_phases_the_trainer_takes_the_same_steps_as_one_phase_over_everything(toy_bundle, tiny_model_cfg,
                                                                                      make_model):
    m1 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m1, ELBO(), toy_bundle, PHASED)
    m2 = make_model(tiny_model_cfg, toy_bundle.info)
    fit(m2, ELBO(), toy_bundle, replace(PHASED, phases=(PhaseConfig("all", ("encoder", "head", "decoder"), steps=4),)))
    a, b = _params(m1), _params(m2)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_an_interrupted_phased_run_resumed_equals_the_uninterrupted_run_bitwise(tmp_path, toy_bundle, dropout_cfg,
                                                                               make_model):
    cfg = replace(PHASED, phases=PHASES, eval_every=4)
    m1 = _model(make_model, dropout_cfg, toy_bundle.info)
    fit(m1, ELBO(), toy_bundle, cfg, run_dir=tmp_path / "a")

    # interrupt inside step 7 (third step of the second encoder block, mid-phase, no eval boundary)
    broken = replace(toy_bundle, train=_InterruptingDataset(toy_bundle.train, after=7 * 32 + 5))
    m2 = _model(make_model, dropout_cfg, toy_bundle.info)
    with pytest.raises(KeyboardInterrupt):
        fit(m2, ELBO(), broken, cfg, run_dir=tmp_path / "b")
    ck = load_checkpoint(tmp_path / "b" / "checkpoints" / "last.pt")
    assert ck["train_state"]["step"] == 7 and sorted(ck["optimizers"]) == ["decoder", "encoder"]
    assert "optimizer" not in ck
    m3 = _model(make_model, dropout_cfg, toy_bundle.info, seed=99)  # a fresh process: other init
    fit(m3, ELBO(), toy_bundle, cfg, run_dir=tmp_path / "b")
    a, c = _params(m1), _params(m3)
    for k in a:
        assert torch.equal(a[k], c[k]), f"{k} differs"
    recs_a = (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()
    recs_b = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in recs_a] == [json.loads(r)["step"] for r in recs_b]


def test_a_checkpoint_of_the_other_optimizer_layout_fails_with_one_line(tmp_path, toy_bundle, tiny_model_cfg,
                                                                        make_model):
    fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, replace(PHASED, max_steps=2), run_dir=tmp_path)
    assert "optimizer" in load_checkpoint(tmp_path / "checkpoints" / "last.pt")  # the format before phases
    with pytest.raises(CheckpointError, match="without train.phases.*encoder, decoder.*new run directory"):
        fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, replace(PHASED, phases=PHASES),
            run_dir=tmp_path)
    other = tmp_path / "phased"
    fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, replace(PHASED, max_steps=2, phases=PHASES),
        run_dir=other)
    with pytest.raises(CheckpointError, match="with train.phases .*this config has none"):
        fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, PHASED, run_dir=other)
    renamed = (replace(PHASES[0], name="enc"), PHASES[1])
    with pytest.raises(CheckpointError, match="written with phases encoder, decoder"):
        fit(make_model(tiny_model_cfg, toy_bundle.info), ELBO(), toy_bundle, replace(PHASED, phases=renamed),
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
    bad = replace(PHASED, phases=(PhaseConfig("a", ("encodr",), steps=1),))
    with pytest.raises(ConfigError, match=r"train.phases\[0\].params: 'encodr' names no trainable.*encoder"):
        fit(m, ELBO(), toy_bundle, bad)
    bad = replace(PHASED, phases=(PhaseConfig("a", ("encoder",), steps=1, eval_modules=("decodr",)),))
    with pytest.raises(ConfigError, match=r"train.phases\[0\].eval_modules: .*no submodule 'decodr'"):
        fit(m, ELBO(), toy_bundle, bad)


def test_a_phased_fp16_run_shares_one_grad_scaler_across_the_phases_and_resumes(tmp_path, toy_bundle, dropout_cfg,
                                                                                make_model):
    cfg = replace(PHASED, max_steps=10, precision="fp16", grad_clip=1.0, phases=PHASES)
    m1 = _model(make_model, dropout_cfg, toy_bundle.info)
    fit(m1, ELBO(), toy_bundle, cfg, run_dir=tmp_path / "a")
    ck = load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")
    assert ck["scaler"]["scale"] > 0 and all(ck["optimizers"][n]["state"] for n in ("encoder", "decoder"))
    m2 = _model(make_model, dropout_cfg, toy_bundle.info)
    fit(m2, ELBO(), toy_bundle, replace(cfg, max_steps=4), run_dir=tmp_path / "b")  # stops inside a decoder block
    m3 = _model(make_model, dropout_cfg, toy_bundle.info, seed=5)
    fit(m3, ELBO(), toy_bundle, cfg, run_dir=tmp_path / "b")
    _assert_bitwise_equal(_params(m1), _params(m3))


def test_a_gan_discriminator_step_updates_only_the_discriminator(toy_bundle, make_model):
    cfg = ModelConfig(latent_dim=3, encoder=ComponentConfig("mlp", {"hidden_dims": [16]}),
                      decoder=ComponentConfig("mlp", {"hidden_dims": [16]}),
                      terms=(ComponentConfig("adversarial", {"loss": "hinge"}),))
    phases = (PhaseConfig("disc", ("terms.adversarial",), steps=1), PhaseConfig("gen", ("encoder", "head", "decoder"),
                                                                             steps=2))
    m = make_model(cfg, toy_bundle.info)
    before = _params(m)
    fit(m, ELBO(), toy_bundle, replace(PHASED, max_steps=1, phases=phases))
    after = _params(m)
    changed = {k.split(".")[0] + (".adversarial" if k.startswith("terms.") else "")
               for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"terms.adversarial"}
    fit(m, ELBO(), toy_bundle, replace(PHASED, max_steps=2, phases=phases[1:]))
    final = _params(m)
    changed = {k.split(".")[0] for k in after if not torch.equal(after[k], final[k])}
    assert changed == {"encoder", "head", "decoder"}
