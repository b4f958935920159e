"""ELBO beta_scale: RecVAE's per-user KL weight ``beta * |x_u|`` (Shenbin et al. 2020, 3.4)."""
from __future__ import annotations

import pytest
import torch
from torch.distributions import Normal

from vaekit.core.errors import ConfigError
from vaekit.core.objectives import ELBO, CapacityConfig, ObjectiveConfig, build_objective
from vaekit.core.types import Batch, VAEOutput


def _out(recon, kl):
    kl = torch.tensor(kl, requires_grad=True)
    return VAEOutput(recon_nll=torch.tensor(recon), kl=kl, kl_is_analytic=False, z=torch.zeros(2, 2),
                     posterior=Normal(torch.zeros(2, 2), torch.ones(2, 2)), px=None), kl


def test_input_sum_weighs_each_examples_kl_by_its_click_count():
    out, kl = _out([1.0, 3.0], [[2.0], [0.5]])
    batch = Batch(x=torch.tensor([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0]]))  # 3 and 1 clicks
    res = ELBO(beta=0.1, beta_scale="input_sum")(out, step=0, batch=batch)
    # mean(recon) + mean_u(0.1 * |x_u| * kl_u) = 2 + (0.1 * 3 * 2 + 0.1 * 1 * 0.5) / 2
    assert res.loss.item() == pytest.approx(2.0 + (0.6 + 0.05) / 2)
    assert res.terms["kl"] == pytest.approx(1.25)  # the logged KL stays the raw one
    res.loss.backward()
    assert torch.allclose(kl.grad[:, 0], torch.tensor([0.3, 0.1]) / 2)
    plain = ELBO(beta=0.1)(_out([1.0, 3.0], [[2.0], [0.5]])[0], step=0, batch=batch)
    assert plain.loss.item() == pytest.approx(2.0 + 0.1 * 1.25)


def test_input_sum_is_built_from_the_config_and_needs_the_batch():
    obj = build_objective(ObjectiveConfig(beta=0.005, beta_scale="input_sum"))
    with pytest.raises(ConfigError, match="objective.beta_scale: input_sum .*needs the batch"):
        obj(_out([1.0, 3.0], [[2.0], [0.5]])[0], step=0)
    with pytest.raises(ConfigError, match="objective.beta_scale: unknown scale 'input_sums'.*input_sum"):
        ObjectiveConfig(beta_scale="input_sums").validate()
    with pytest.raises(ConfigError, match="beta_scale: a per-example KL weight .*capacity"):
        ELBO(beta_scale="input_sum", capacity=CapacityConfig(target=1.0))
