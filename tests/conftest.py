"""Shared fixtures: small generated data and tiny models (CPU, seconds)."""
from __future__ import annotations

import pytest
import torch

from vaekit.core.vae import ComponentConfig, ModelConfig, build_vae
from vaekit.domains.toy.data import ToyDataConfig, make_toy_data


@pytest.fixture
def toy_bundle():
    return make_toy_data(ToyDataConfig(kind="mixture", n_train=256, n_val=64, n_test=64, x_dim=8))


@pytest.fixture
def tiny_model_cfg():
    return ModelConfig(latent_dim=3, encoder=ComponentConfig("mlp", {"hidden_dims": [16]}),
                       decoder=ComponentConfig("mlp", {"hidden_dims": [16]}))


def _make_model(cfg, info, seed=0):
    torch.manual_seed(seed)
    return build_vae(cfg, info)


@pytest.fixture
def make_model():
    """``make_model(model_cfg, info, seed=0)``: a seeded :func:`build_vae`."""
    return _make_model


@pytest.fixture(scope="session")
def train_packaged():
    """``train_packaged(spec, overrides, run_dir) -> summary``: train a packaged config from
    scratch with the pipeline, the data's skip-and-count warnings silenced."""
    import warnings

    from vaekit.pipelines import load_config, train_run

    def train(spec, overrides, run_dir):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return train_run(load_config(spec, overrides), run_dir, resume="never", log=lambda m: None)

    return train
