"""Strict dataclass <-> dict config: unknown keys, types, 'None', Literals, overrides, round trips."""
import pytest
import yaml

from vaekit.core.config import apply_overrides, from_dict, load_yaml, parse_override, to_dict
from vaekit.core.errors import ConfigError
from vaekit.core.objectives import CapacityConfig, ObjectiveConfig
from vaekit.core.trainer import TrainConfig
from vaekit.core.vae import ComponentConfig, ConditionConfig, ModelConfig


def _err(cls, data, path=""):
    with pytest.raises(ConfigError) as exc:
        from_dict(cls, data, path)
    return str(exc.value)


# ----------------------------------------------------------------------------- unknown keys
def test_unknown_key_names_path_suggestion_and_valid_keys():
    msg = _err(TrainConfig, {"max_step": 10}, "train")
    assert msg.startswith("train.max_step: unknown key.")
    assert "Did you mean 'max_steps'?" in msg
    assert "Valid keys here:" in msg
    assert "batch_size" in msg and "lr" in msg


def test_unknown_nested_key_names_full_dotted_path():
    msg = _err(ModelConfig, {"encoder": {"kind": "mlp", "parms": {}}}, "model")
    assert "model.encoder.parms: unknown key." in msg
    assert "Did you mean 'params'?" in msg
    assert "kind, params" in msg


def test_unknown_key_without_close_match_lists_valid_keys_only():
    msg = _err(ObjectiveConfig, {"zzz": 1}, "objective")
    assert "objective.zzz" in msg
    assert "Did you mean" not in msg
    assert "beta" in msg and "free_bits" in msg


# ----------------------------------------------------------------------------- types
@pytest.mark.parametrize("cls,data,path,expected,got", [
    (TrainConfig, {"max_steps": "ten"}, "train.max_steps", "int", "'ten'"),
    (TrainConfig, {"max_steps": 2.5}, "train.max_steps", "int", "2.5"),
    (TrainConfig, {"max_steps": True}, "train.max_steps", "int", "True"),
    (TrainConfig, {"lr": [0.1]}, "train.lr", "float", "[0.1]"),
    (TrainConfig, {"lr": "fast"}, "train.lr", "float", "'fast'"),
    (TrainConfig, {"compile": "yes"}, "train.compile", "bool", "'yes'"),
    (TrainConfig, {"device": 0}, "train.device", "str", "0"),
    (ModelConfig, {"latent_dim": "16x"}, "model.latent_dim", "int", "'16x'"),
])
def test_wrong_type_names_path_expected_type_and_value(cls, data, path, expected, got):
    root = path.split(".")[0]
    msg = _err(cls, data, root)
    assert path in msg
    assert f"expected {expected}" in msg
    assert got in msg


def test_wrong_type_nested_in_component_config():
    msg = _err(ModelConfig, {"encoder": "mlp"}, "model")
    assert "model.encoder" in msg and "ComponentConfig" in msg and "'mlp'" in msg
    msg = _err(ModelConfig, {"condition": {"embed_dim": "big"}}, "model")
    assert "model.condition.embed_dim: expected int" in msg


def test_union_schedule_field_rejects_non_number_non_mapping():
    msg = _err(ObjectiveConfig, {"beta": "high"}, "objective")
    assert "objective.beta" in msg
    assert "float" in msg and "mapping" in msg and "'high'" in msg


@pytest.mark.parametrize("cls,data,path", [
    (TrainConfig, {"device": "None"}, "train.device"),
    (ModelConfig, {"prior": "None"}, "model.prior"),
    (ModelConfig, {"encoder": {"kind": "mlp", "params": {"dropout": "None"}}}, "model.encoder.params.dropout"),
    (ObjectiveConfig, {"temperature": "None"}, "objective.temperature"),
])
def test_string_none_is_rejected_with_null_hint(cls, data, path):
    msg = _err(cls, data, path.split(".")[0])
    assert path in msg
    assert "'None'" in msg
    assert "null" in msg


def test_null_is_accepted_for_optional_and_rejected_for_required_values():
    cfg = from_dict(ModelConfig, {"prior": None, "likelihood": None})
    assert cfg.prior is None and cfg.likelihood is None
    msg = _err(ObjectiveConfig, {"beta": None}, "objective")
    assert "objective.beta" in msg and "null" in msg


@pytest.mark.parametrize("field,bad,suggest", [("optimizer", "sgd", None), ("precision", "fp61", "fp16"),
                                               ("monitor_mode", "maxx", "max")])
def test_literal_fields_reject_bad_values(field, bad, suggest):
    msg = _err(TrainConfig, {field: bad}, "train")
    assert f"train.{field}: must be one of" in msg
    assert repr(bad) in msg
    if suggest:
        assert f"Did you mean {suggest!r}?" in msg


def test_literal_fields_accept_allowed_values():
    cfg = from_dict(TrainConfig, {"optimizer": "adamw", "precision": "bf16", "lr_schedule": "cosine"})
    assert (cfg.optimizer, cfg.precision, cfg.lr_schedule) == ("adamw", "bf16", "cosine")


def test_numeric_strings_are_accepted_for_floats():
    cfg = from_dict(TrainConfig, {"lr": "1e-3", "weight_decay": "0.5"})
    assert cfg.lr == pytest.approx(1e-3) and isinstance(cfg.lr, float)
    assert cfg.weight_decay == 0.5
    # An int is accepted for a float and converted.
    assert from_dict(TrainConfig, {"lr": 1}).lr == 1.0 and isinstance(from_dict(TrainConfig, {"lr": 1}).lr, float)
    # YAML reads 1e-3 as a string; the whole path through yaml works.
    assert from_dict(TrainConfig, yaml.safe_load("lr: 1e-3")).lr == pytest.approx(1e-3)


def test_integral_float_is_accepted_for_int():
    cfg = from_dict(TrainConfig, {"max_steps": 500.0})
    assert cfg.max_steps == 500 and isinstance(cfg.max_steps, int)


def test_nested_dataclasses_are_built():
    cfg = from_dict(ModelConfig, {"latent_dim": 8, "encoder": {"kind": "gru", "params": {"hidden_dim": 32}},
                                  "prior": {"kind": "conditional_gaussian"},
                                  "condition": {"embed_dim": 4}})
    assert cfg.encoder == ComponentConfig("gru", {"hidden_dim": 32})
    assert cfg.prior == ComponentConfig("conditional_gaussian")
    assert cfg.condition == ConditionConfig(embed_dim=4)
    obj = from_dict(ObjectiveConfig, {"beta": {"kind": "linear", "steps": 10}, "capacity": {"target": 5}})
    assert obj.beta == {"kind": "linear", "steps": 10}
    assert obj.capacity == CapacityConfig(target=5)


def test_missing_required_nested_key_is_reported():
    msg = _err(ObjectiveConfig, {"capacity": {"gamma": 5.0}}, "objective")
    assert "objective.capacity" in msg and "missing required key(s) target" in msg


def test_validate_hooks_run_with_the_path():
    assert "train.lr: must be > 0" in _err(TrainConfig, {"lr": 0.0}, "train")
    assert "train.batch_size: must be >= 1" in _err(TrainConfig, {"batch_size": 0}, "train")
    assert "model.latent_dim" in _err(ModelConfig, {"latent_dim": 0}, "model")
    msg = _err(ObjectiveConfig, {"free_bits": 0.5, "capacity": {"target": 5}}, "objective")
    assert "free_bits and capacity" in msg
    msg = _err(ObjectiveConfig, {"beta": {"kind": "linaer", "steps": 5}}, "objective")
    assert "objective.beta.kind" in msg and "Did you mean 'linear'" in msg


def test_non_mapping_root_is_rejected():
    assert "expected a mapping" in _err(TrainConfig, [1, 2])


# ----------------------------------------------------------------------------- overrides
def test_apply_overrides_with_dotted_keys_and_yaml_values():
    base = {"train": {"max_steps": 10, "lr": 0.1}, "model": {"prior": {"kind": "standard_normal"}}}
    out = apply_overrides(base, ["train.max_steps=500", "model.encoder.params.hidden_dims=[64, 32]",
                                 "model.encoder.kind=mlp", "model.prior=null", "train.compile=true",
                                 "train.device=cpu", "train.lr=1e-3"])
    assert out["train"]["max_steps"] == 500
    assert out["model"]["encoder"]["params"]["hidden_dims"] == [64, 32]
    assert out["model"]["prior"] is None
    assert out["train"]["compile"] is True
    assert out["train"]["device"] == "cpu"
    assert base["train"]["max_steps"] == 10  # input not mutated
    assert "encoder" not in base["model"]
    cfg = from_dict(TrainConfig, out["train"], "train")
    assert cfg.max_steps == 500 and cfg.lr == pytest.approx(1e-3)
    model = from_dict(ModelConfig, out["model"], "model")
    assert model.prior is None and model.encoder.params == {"hidden_dims": [64, 32]}


def test_overrides_reach_list_entries_by_kind_or_position():
    base = {"model": {"terms": [{"kind": "control", "params": {"temperature": 0.5}}, {"kind": "property"}]}}
    out = apply_overrides(base, ["model.terms.control.params.temperature=1.0", "model.terms.1.params={weight: 2}"])
    assert out["model"]["terms"] == [{"kind": "control", "params": {"temperature": 1.0}},
                                     {"kind": "property", "params": {"weight": 2}}]
    assert base["model"]["terms"][0]["params"]["temperature"] == 0.5
    with pytest.raises(ConfigError, match=r"--set 'model.terms.contrl.params.x=1': model.terms.contrl: no list "
                                          r"entry 'contrl'; give a position 0..1 or a kind: control, property"):
        apply_overrides(base, ["model.terms.contrl.params.x=1"])


def test_override_of_unknown_key_is_caught_by_from_dict():
    out = apply_overrides({}, ["train.max_step=5"])
    assert "train.max_step" in _err(TrainConfig, out["train"], "train")


def test_parse_override_splits_key_and_reads_yaml():
    assert parse_override("a.b.c=3") == (["a", "b", "c"], 3)
    assert parse_override("a=x=y") == (["a"], "x=y")
    assert parse_override("a=") == (["a"], "")
    assert parse_override("a={k: 1}") == (["a"], {"k": 1})


@pytest.mark.parametrize("item,match", [
    ("train.max_steps", "expected KEY=VALUE"),
    ("=5", "dotted path"),
    ("train..lr=1", "dotted path"),
    ("train.=1", "dotted path"),
    ("train.lr=[1, 2", "not valid YAML"),
    ("train.max_steps.x=1", r"train\.max_steps is 10, not a mapping"),
])
def test_malformed_overrides_raise_config_error(item, match):
    with pytest.raises(ConfigError, match=match):
        apply_overrides({"train": {"max_steps": 10}}, [item])


# ----------------------------------------------------------------------------- round trips and YAML files
@pytest.mark.parametrize("cls,data", [
    (ModelConfig, {"latent_dim": 8, "encoder": {"kind": "mlp", "params": {"hidden_dims": [16, 8]}},
                   "head": {"kind": "gumbel_softmax", "params": {"n_groups": 2, "n_categories": 3}},
                   "prior": {"kind": "uniform_categorical"}, "condition": {"use": False}}),
    (ObjectiveConfig, {"beta": {"kind": "cyclical", "period": 100}, "capacity": {"target": 3.0, "gamma": 10.0},
                       "n_samples": 2}),
    (TrainConfig, {"max_steps": 7, "lr": 3e-4, "optimizer": "adamw", "precision": "bf16"}),
])
def test_to_dict_round_trips(cls, data):
    cfg = from_dict(cls, data)
    plain = to_dict(cfg)
    assert from_dict(cls, plain) == cfg
    # Plain values only: YAML can write and read it back to the same config.
    assert from_dict(cls, yaml.safe_load(yaml.safe_dump(plain))) == cfg
    for key, value in data.items():
        if not isinstance(value, dict):
            assert plain[key] == value


def test_to_dict_of_defaults_round_trips():
    for cls in (ModelConfig, ObjectiveConfig, TrainConfig):
        assert from_dict(cls, to_dict(cls())) == cls()


def test_load_yaml_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML") as exc:
        load_yaml(bad)
    assert "bad.yaml" in str(exc.value)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_yaml(lst)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_yaml(empty) == {}
    good = tmp_path / "good.yaml"
    good.write_text("train:\n  lr: 1e-3\n")
    assert from_dict(TrainConfig, load_yaml(good)["train"]).lr == pytest.approx(1e-3)


# ----------------------------------------------------------------------------- model component names
def test_model_config_checks_component_kinds_and_param_names_at_load_time():
    msg = _err(ModelConfig, {"encoder": {"kind": "mlp", "params": {"hiden_dims": [8]}}}, "model")
    assert "model.encoder.params.hiden_dims" in msg and "Did you mean 'hidden_dims'" in msg
    msg = _err(ModelConfig, {"decoder": {"kind": "mlpp"}}, "model")
    assert "model.decoder.kind" in msg and "Did you mean 'mlp'" in msg
    msg = _err(ModelConfig, {"head": {"kind": "gaussian", "params": {"latent_dim": 4}}}, "model")
    assert "model.head.params.latent_dim" in msg and "wired" in msg
