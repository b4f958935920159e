"""Property head: a regression head on z trained with the VAE (Gomez-Bombarelli et al. 2018)."""
import math

import pytest
import torch

from vaekit.core import (Batch, ComponentConfig, ConfigError, DataInfo, DataValidationError, ModelConfig,
                         PropertyHead, PropertyHeadConfig, build_objective, build_vae)
from vaekit.core.config import from_dict
from vaekit.core.objectives import ObjectiveConfig
from vaekit.core.terms import term_config


def test_loss_is_weighted_squared_error_and_ignores_unknown_targets():
    head = PropertyHead(latent_dim=2, n_targets=2, hidden_dims=(), weight=0.5)
    with torch.no_grad():
        head.net[0].weight.copy_(torch.eye(2))
        head.net[0].bias.zero_()
    z = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    y = torch.tensor([[0.0, 2.0], [float("nan"), 3.0]])
    assert torch.allclose(head.loss(z, y), torch.tensor([0.5 * 1.0, 0.5 * 9.0]))
    zs = torch.stack([z, z + 1])  # (S=2, B, D): mean over samples
    # row 0: (1 + 0) then (4 + 1); row 1: 9 then (1 - 3)^2 = 4 (the NaN target is skipped)
    want = 0.5 * torch.tensor([(1.0 + 0.0 + 4.0 + 1.0) / 2, (9.0 + 4.0) / 2])
    assert torch.allclose(head.loss(zs, y), want)


def test_rejects_missing_or_wrong_targets():
    with pytest.raises(ConfigError, match="y_dim = 0"):
        PropertyHead(latent_dim=2, n_targets=0)
    head = PropertyHead(latent_dim=2, n_targets=2)
    with pytest.raises(DataValidationError, match=r"float targets \(B, 2\)"):
        head.loss(torch.zeros(3, 2), torch.zeros(3, dtype=torch.long))


def test_config_section_is_strict_and_validated():
    cfg = from_dict(ModelConfig, {"terms": [{"kind": "property", "params": {"hidden_dims": [8], "weight": 2.0}}]})
    assert term_config(cfg.terms[0], "model.terms[0]") == PropertyHeadConfig(hidden_dims=(8,), weight=2.0)
    with pytest.raises(ConfigError, match="weight"):
        from_dict(ModelConfig, {"terms": [{"kind": "property", "params": {"weight": -1.0}}]})
    with pytest.raises(ConfigError, match=r"terms\[0\].params.widht"):
        from_dict(ModelConfig, {"terms": [{"kind": "property", "params": {"widht": 3}}]})


def test_trained_jointly_its_loss_enters_the_objective_and_decreases():
    torch.manual_seed(0)
    n = 256
    x = torch.randn(n, 6)
    y = (x[:, :2].sum(1, keepdim=True))  # a property the latent can carry
    info = DataInfo(kind="vector", shape=(6,), y_dim=1, likelihood="gaussian")
    cfg = ModelConfig(latent_dim=4, encoder=ComponentConfig("mlp", {"hidden_dims": [32]}),
                      decoder=ComponentConfig("mlp", {"hidden_dims": [32]}),
                      terms=(ComponentConfig("property", {"hidden_dims": [16]}),))
    model = build_vae(cfg, info)
    obj = build_objective(ObjectiveConfig())
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = Batch(x=x, y=y)
    first = None
    for step in range(150):
        out = model(batch)
        lo = obj(out, step)
        first = first if first is not None else lo.terms["property_loss"]
        opt.zero_grad()
        lo.loss.backward()
        opt.step()
    assert "property_loss" in lo.terms and math.isfinite(lo.terms["loss"])
    assert lo.terms["property_loss"] < 0.3 * first
    # Without targets in the batch the head is simply not trained on it.
    assert "property_loss" not in model(Batch(x=x)).extra
