"""The estimator template (core/estimator.py): epochs -> steps, constructor arguments ->
dotted config keys, FROM_CONFIG defaults read from the packaged mapping, and fit_vae training
the same model as the trainer called by hand."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

from vaekit.core.config import from_dict, set_key
from vaekit.core.data import ArrayDataset, collate_arrays
from vaekit.core.errors import ConfigError
from vaekit.core.estimator import FROM_CONFIG, ConfigEstimator, FitConfig, fit_vae, get_key, resolve_train
from vaekit.core.objectives import ELBO
from vaekit.core.trainer import TrainConfig, fit
from vaekit.core.types import DataBundle, DataInfo
from vaekit.core.vae import ModelConfig, build_vae

CFG = {
    "model": {"latent_dim": 2, "encoder": {"kind": "mlp", "params": {"hidden_dims": [8]}},
              "decoder": {"kind": "mlp", "params": {"hidden_dims": [8]}},
              "likelihood": {"kind": "gaussian", "params": {"learn_scale": "analytic"}}},
    "objective": {"beta": 1.0},
    "fit": {"epochs": 3, "epoch_steps": "rows", "min_steps": 5},
    "train": {"batch_size": 16, "lr": 0.01, "eval_every": 0, "restore_best": False, "seed": 4, "device": "cpu",
              "progress": False},
}


class Toy(ConfigEstimator):
    config_keys = {"hidden_dims": ("model.encoder.params.hidden_dims", "model.decoder.params.hidden_dims"),
                   "epochs": "fit.epochs", "lr": "train.lr", "absent": "train.nothing_here",
                   "verbose": "train.progress"}

    def __init__(self, hidden_dims=FROM_CONFIG, epochs=FROM_CONFIG, lr=FROM_CONFIG, absent=FROM_CONFIG,
                 verbose=FROM_CONFIG):
        self.hidden_dims, self.epochs, self.lr, self.absent, self.verbose = hidden_dims, epochs, lr, absent, verbose

    def packaged_config(self):
        return copy.deepcopy(CFG)


def bundle(n=50, d=4, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    info = DataInfo(kind="vector", shape=(d,), likelihood="gaussian", n_train=n)
    return DataBundle(train=ArrayDataset(x), val=None, test=None, info=info, collate=collate_arrays)


def test_epochs_resolve_to_steps_for_the_data_at_hand():
    t = TrainConfig(batch_size=16, max_steps=999)
    assert resolve_train(t, FitConfig(), 50) is t  # no fit.epochs: the train section as written
    assert resolve_train(t, FitConfig(epochs=3, epoch_steps="rows"), 50).max_steps == 10  # ceil(150 / 16)
    assert resolve_train(t, FitConfig(epochs=3, epoch_steps="rows", min_steps=20), 50).max_steps == 20
    r = resolve_train(t, FitConfig(epochs=3, eval_each_epoch=True), 50)  # 3 full batches per epoch
    assert (r.max_steps, r.eval_every, r.log_every, r.batch_size) == (9, 3, 3, 16)
    assert resolve_train(t, FitConfig(epochs=2), 10).max_steps == 2  # batch counted as min(16, 10)
    with pytest.raises(ConfigError, match="fit.epochs.*empty"):
        resolve_train(t, FitConfig(epochs=1), 0)


@pytest.mark.parametrize("section,match", [({"epochs": 0}, "fit.epochs"), ({"epoch_steps": "rowz"}, "rows"),
                                           ({"min_steps": -1}, "fit.min_steps"), ({"epoch": 3}, "epochs")])
def test_fit_section_errors_name_the_key(section, match):
    with pytest.raises(ConfigError, match=match):
        from_dict(FitConfig, section, "fit")


def test_arguments_map_onto_dotted_keys_and_defaults_come_from_the_config():
    est = Toy(hidden_dims=(5, 3), lr=0.5)
    cfg = est.run_config()
    assert cfg["model"]["encoder"]["params"]["hidden_dims"] == [5, 3]  # tuples as YAML lists, both keys
    assert cfg["model"]["decoder"]["params"]["hidden_dims"] == [5, 3]
    assert cfg["train"]["lr"] == 0.5 and cfg["fit"]["epochs"] == 3
    assert Toy(verbose=2).run_config()["train"]["progress"] is True  # a verbosity level, as a bool
    assert CFG["train"]["lr"] == 0.01  # the packaged mapping is not modified
    assert Toy().param("epochs") == 3 and est.param("lr") == 0.5 and Toy().run_config() == CFG
    with pytest.raises(ConfigError, match=r"Toy\(absent=...\).*train.nothing_here"):
        Toy().param("absent")


def test_from_config_survives_copy_pickle_and_sklearn_clone():
    assert copy.copy(FROM_CONFIG) is FROM_CONFIG and copy.deepcopy(FROM_CONFIG) is FROM_CONFIG
    assert pickle.loads(pickle.dumps(FROM_CONFIG)) is FROM_CONFIG and repr(FROM_CONFIG) == "FROM_CONFIG"


def test_dotted_keys():
    d = {"a": {"b": 1}}
    set_key(d, "a.c.d", 2)
    assert d == {"a": {"b": 1, "c": {"d": 2}}} and get_key(d, "a.c.d") == 2 and get_key(d, "a.x", "no") == "no"
    with pytest.raises(ConfigError, match="a.b is 1, not a mapping"):
        set_key(d, "a.b.c", 3)


def test_fit_vae_is_the_trainer_on_the_resolved_config_and_keeps_the_callers_rng():
    data = bundle()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    model, train = fit_vae(CFG, data)
    assert torch.equal(torch.rand(1), before)  # the caller's random stream is untouched
    assert train.max_steps == 10 and not model.training
    # by hand: the seeded build and the trainer with the resolved steps
    torch.manual_seed(4)
    ref = build_vae(from_dict(ModelConfig, CFG["model"], "model"), data.info)
    fit(ref, ELBO(beta=1.0), data, TrainConfig(**{**CFG["train"], "max_steps": 10}))
    for (k, a), b in zip(model.state_dict().items(), ref.state_dict().values()):
        assert torch.equal(a, b), k


def test_fit_vae_caps_the_batch_at_a_small_training_set():
    _, train = fit_vae(CFG, bundle(n=10))
    assert train.batch_size == 10 and train.max_steps == 5  # ceil(3 * 10 / 10) = 3 < min_steps 5


def test_fit_vae_prepares_the_auxiliary_terms_like_vaekit_train():
    # a perceptual term needs its feature network trained before the VAE (Term.prepare);
    # without it the first forward pass would refuse the untrained network
    cfg = copy.deepcopy(CFG)
    cfg["model"]["terms"] = [{"kind": "perceptual", "params": {"train": "autoencoder", "steps": 3,
                                                               "features": {"kind": "mlp", "params": {"hidden_dims": [8]}}}}]
    cfg["objective"] = {**cfg.get("objective", {}), "weights": {"perceptual": 1.0}}
    model, _ = fit_vae(cfg, bundle())
    assert bool(model.term("perceptual").features_trained)


def test_documented_defaults_are_checked_against_the_config():
    from vaekit.core.estimator import documented_defaults

    class Doc(Toy):
        """Toy.

        Parameters
        ----------
        epochs, lr : int
            Defaults ``3, 0.01``. Passes; step size.
        hidden_dims : list
            Default ``[9]``. Wrong on purpose.
        """

    assert documented_defaults(Doc()) == {"hidden_dims": ([9], [8])}
