"""Config values are range-checked when the config is loaded (issue 19 item 16): one-line
ConfigErrors naming the key, the rule, the value and the fix, instead of tracebacks deep in
torch or silently accepted nonsense; duplicate YAML keys are refused."""
from __future__ import annotations

import math

import pytest
import torch

from vaekit.core.config import from_dict, load_yaml, parse_override
from vaekit.core.distributed import init_distributed, resolve_device
from vaekit.core.errors import ConfigError
from vaekit.core.objectives import ObjectiveConfig
from vaekit.core.trainer import TrainConfig
from vaekit.core.vae import ModelConfig
from vaekit.core.yamlio import load_yaml as read_yaml


def _err(cls, data, path):
    with pytest.raises(ConfigError) as exc:
        from_dict(cls, data, path)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize("key, value", [
    ("lr", math.nan), ("lr", math.inf), ("lr", "nan"), ("weight_decay", -1.0), ("grad_clip", -1.0),
    ("min_delta", -0.5), ("divergence_factor", -3.0), ("warmup_steps", -1),
])
def test_train_values_out_of_range_name_key_value_and_fix(key, value):
    msg = _err(TrainConfig, {key: value}, "train")
    assert msg.startswith(f"train.{key}: must be "), msg
    assert "got " in msg and f"--set train.{key}=" in msg


@pytest.mark.parametrize("data, key", [
    ({"beta": -1}, "objective.beta"),
    ({"beta": {"kind": "linear", "steps": 100, "start": 0.0, "end": -2.0}}, "objective.beta.end"),
    ({"beta": math.nan}, "objective.beta"),
    ({"temperature": 0.0}, "objective.temperature"),
    ({"capacity": {"target": 5.0, "gamma": -1.0}}, "objective.capacity.gamma"),
])
def test_objective_values_out_of_range_are_refused(data, key):
    msg = _err(ObjectiveConfig, data, "objective")
    assert msg.startswith(f"{key}: must be "), msg
    assert f"--set {key}=" in msg


@pytest.mark.parametrize("role, params, key", [
    ("encoder", {"hidden_dims": [-5]}, "hidden_dims"),
    ("decoder", {"hidden_dims": [64, 0]}, "hidden_dims"),
    ("encoder", {"hidden_dims": 64}, "hidden_dims"),
    ("encoder", {"dropout": 1.5}, "dropout"),
])
def test_component_params_of_the_shared_vocabulary_are_range_checked(role, params, key):
    msg = _err(ModelConfig, {role: {"kind": "mlp", "params": params}}, "model")
    where = f"model.{role}.params.{key}"
    assert msg.startswith(f"{where}: must be "), msg
    assert f"--set {where}=" in msg


def test_valid_values_still_load():
    assert from_dict(TrainConfig, {"lr": "1e-3", "grad_clip": 1.0, "weight_decay": 0.01}, "train").lr == 1e-3
    assert from_dict(ObjectiveConfig, {"beta": {"kind": "linear", "steps": 10}}, "objective").kind == "elbo"
    assert from_dict(ModelConfig, {"encoder": {"kind": "mlp", "params": {"hidden_dims": [8, 4]}}}, "model")


def test_unavailable_cuda_names_train_device_and_the_fix(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError) as exc:
        init_distributed("cuda")
    msg = str(exc.value)
    assert msg.startswith("train.device: CUDA is not available") and "got 'cuda'" in msg
    assert "--set train.device=cpu" in msg and "auto" in msg
    with pytest.raises(ConfigError, match=r"^--device: CUDA is not available.*--device cpu"):
        resolve_device("cuda:1", where="--device")
    assert resolve_device("auto") == torch.device("cpu")
    # A config written for a GPU still loads (its run can be evaluated on a CPU machine).
    assert from_dict(TrainConfig, {"device": "cuda"}, "train").device == "cuda"


def test_malformed_device_name_is_refused_at_load_time():
    msg = _err(TrainConfig, {"device": "gpu"}, "train")
    assert msg.startswith("train.device: must be auto, cpu, cuda or cuda:N; got 'gpu'.")


# ----------------------------------------------------------------------------- duplicate YAML keys
def test_duplicate_yaml_key_names_file_key_and_lines(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("train:\n  lr: 0.1\n  max_steps: 5\n  lr: 0.2\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml(f)
    msg = str(exc.value)
    assert msg.startswith(f"{f}, line 4: a key may appear only once"), msg
    assert "got 'lr'" in msg and "line 2" in msg and "\n" not in msg


def test_duplicate_top_level_section_is_refused(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("train: {lr: 0.1}\nmodel: {latent_dim: 4}\ntrain: {lr: 0.5}\n")
    with pytest.raises(ConfigError, match=r"line 3: .*got 'train'.*first is at line 1"):
        load_yaml(f)


def test_merge_keys_may_be_overridden_and_overrides_refuse_duplicates():
    assert read_yaml("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n")["d"] == {"x": 3, "y": 2}
    with pytest.raises(ConfigError, match=r"--set .*got 'a'"):
        parse_override("model.encoder.params={a: 1, a: 2}")


def test_invalid_yaml_is_one_line_with_the_position(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml(f)
    assert "\n" not in str(exc.value) and "line 2, column 1" in str(exc.value)


def test_cli_gives_one_line_and_exit_2(tmp_path, capsys):
    from vaekit.pipelines.cli import main

    rc = main(["train", "toy:default", "--no-progress", "--run-dir", str(tmp_path / "r"), "--set", "train.lr=.nan"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.count("\n") == 0
    assert err.startswith("vaekit: error: train.lr: must be a finite number; got nan.")


def test_a_cuda_index_beyond_the_visible_devices_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ConfigError, match=r"^train\.device: this machine has 1 CUDA device\(s\), cuda:0\.\.cuda:0; "
                                          r"got 'cuda:3'"):
        resolve_device("cuda:3", where="train.device")


@pytest.mark.parametrize("data, key", [
    ({"latent_dim": 0}, "model.latent_dim"),
    ({"condition": {"embed_dim": -1}}, "model.condition.embed_dim"),
])
def test_model_sizes_are_range_checked(data, key):
    msg = _err(ModelConfig, data, "model")
    assert msg.startswith(f"{key}: must be >= 1 (an integer)"), msg
    assert f"--set {key}=" in msg


def test_fit_epochs_name_the_key_and_null():
    from vaekit.core.estimator import FitConfig

    msg = _err(FitConfig, {"epochs": 0}, "fit")
    assert msg.startswith("fit.epochs: must be >= 1 (an integer); got 0.") and "null" in msg
