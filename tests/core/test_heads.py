"""Latent heads: posterior, samples and KL per latent unit (DESIGN.md sections 3 and 4)."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

import vaekit.core as core
from vaekit.core.errors import ConfigError
from vaekit.core.heads import GaussianHead, GumbelSoftmaxHead
from vaekit.core.priors import StandardNormal, UniformCategorical


# ----------------------------------------------------------------------------- Gaussian
def _hand_set_gaussian_head():
    """in_dim=2, latent_dim=2; mu = (h0, -h1), logvar = (log 0.25, h0)."""
    head = GaussianHead(in_dim=2, latent_dim=2)
    with torch.no_grad():
        head.proj.weight.copy_(torch.tensor([[1.0, 0.0],    # mu_0 = h0
                                             [0.0, -1.0],   # mu_1 = -h1
                                             [0.0, 0.0],    # logvar_0 = bias
                                             [1.0, 0.0]]))  # logvar_1 = h0
        head.proj.bias.copy_(torch.tensor([0.0, 0.0, math.log(0.25), 0.0]))
    return head


H = torch.tensor([[0.5, 1.0], [-1.0, 2.0], [0.0, 0.0]])


def test_gaussian_head_posterior_uses_hand_set_weights():
    head = _hand_set_gaussian_head()
    q = head.posterior(H)
    assert torch.allclose(q.loc, torch.tensor([[0.5, -1.0], [-1.0, -2.0], [0.0, 0.0]]))
    expected_var = torch.tensor([[0.25, math.exp(0.5)], [0.25, math.exp(-1.0)], [0.25, 1.0]])
    assert torch.allclose(q.scale ** 2, expected_var, atol=1e-6)


def test_gaussian_head_kl_per_unit_matches_torch_and_closed_form():
    head = _hand_set_gaussian_head()
    prior = StandardNormal(2)(3)
    ls = head(H, prior)
    assert ls.kl.shape == (3, 2)
    assert ls.kl_is_analytic is True
    mu = torch.tensor([[0.5, -1.0], [-1.0, -2.0], [0.0, 0.0]])
    var = torch.tensor([[0.25, math.exp(0.5)], [0.25, math.exp(-1.0)], [0.25, 1.0]])
    closed = 0.5 * (mu ** 2 + var - 1.0 - torch.log(var))
    torch_kl = kl_divergence(Normal(mu, var.sqrt()), Normal(torch.zeros(3, 2), torch.ones(3, 2)))
    assert torch.allclose(ls.kl, closed, atol=1e-6)
    assert torch.allclose(ls.kl, torch_kl, atol=1e-6)
    # Row 2, unit 1 is exactly the prior: zero KL. Unit 0 hand value: 0.5*(0.25 - 1 - log 0.25).
    assert ls.kl[2, 1].item() == pytest.approx(0.0, abs=1e-7)
    assert ls.kl[2, 0].item() == pytest.approx(0.5 * (0.25 - 1 - math.log(0.25)), abs=1e-6)


def test_gaussian_head_z_shape_single_and_multi_sample():
    torch.manual_seed(0)
    head = GaussianHead(in_dim=4, latent_dim=3)
    h = torch.randn(5, 4)
    prior = StandardNormal(3)(5)
    assert head(h, prior).z.shape == (5, 3)
    ls = head(h, prior, n_samples=7)
    assert ls.z.shape == (7, 5, 3)
    assert ls.kl.shape == (5, 3)  # KL does not get the sample axis


def test_gaussian_head_stable_contract_from_package_root():
    torch.manual_seed(0)
    head = core.GaussianHead(in_dim=4, latent_dim=3)
    out = head(torch.randn(2, 4), StandardNormal(3)(2))
    assert out.z.shape == (2, 3)
    assert isinstance(out.posterior, Normal)
    assert out.posterior.batch_shape == (2, 3)
    assert out.kl.shape == (2, 3)


def test_heads_accept_an_unconditional_prior_module_as_prior():
    h = torch.randn(2, 4)
    torch.manual_seed(0)
    via_module = core.GaussianHead(in_dim=4, latent_dim=3)(h, StandardNormal(3))
    torch.manual_seed(0)
    via_dist = core.GaussianHead(in_dim=4, latent_dim=3)(h, StandardNormal(3)(2))
    assert torch.equal(via_module.kl, via_dist.kl) and via_module.kl_is_analytic
    g = GumbelSoftmaxHead(in_dim=4, n_groups=2, n_categories=5)
    out = g(h, UniformCategorical(2, 5))
    assert out.kl.shape == (2, 2) and out.kl_is_analytic


def test_gaussian_head_samples_are_reparameterised():
    torch.manual_seed(0)
    head = GaussianHead(in_dim=4, latent_dim=3)
    ls = head(torch.randn(6, 4), StandardNormal(3)(6))
    ls.z.pow(2).sum().backward()
    assert head.proj.weight.grad is not None
    assert head.proj.weight.grad.abs().sum() > 0


def test_gaussian_head_mode_is_posterior_mean():
    head = _hand_set_gaussian_head()
    assert torch.equal(head.mode(H), head.posterior(H).loc)


def test_gaussian_head_rejects_non_positive_latent_dim():
    with pytest.raises(ConfigError, match="latent_dim"):
        GaussianHead(in_dim=4, latent_dim=0)


# ----------------------------------------------------------------------------- Gumbel-softmax
G, C = 3, 4


def _gumbel(hard=False, temperature=1.0, seed=0):
    torch.manual_seed(seed)
    return GumbelSoftmaxHead(in_dim=5, n_groups=G, n_categories=C, temperature=temperature, hard=hard)


def test_gumbel_relaxed_samples_lie_on_simplex_per_group():
    head = _gumbel()
    h = torch.randn(64, 5)
    ls = head(h, UniformCategorical(G, C)(64))
    assert ls.z.shape == (64, G * C)
    y = ls.z.reshape(64, G, C)
    assert (y >= 0).all()
    assert torch.allclose(y.sum(-1), torch.ones(64, G), atol=1e-5)
    # Relaxed, not one-hot: some entry is strictly inside (0, 1).
    assert ((y > 1e-3) & (y < 1 - 1e-3)).any()


def test_gumbel_multi_sample_shape():
    head = _gumbel()
    ls = head(torch.randn(4, 5), UniformCategorical(G, C)(4), n_samples=6)
    assert ls.z.shape == (6, 4, G * C)
    assert ls.kl.shape == (4, G)


def test_gumbel_hard_samples_are_one_hot_with_straight_through_gradients():
    head = _gumbel(hard=True)
    h = torch.randn(32, 5)
    ls = head(h, UniformCategorical(G, C)(32))
    y = ls.z.reshape(32, G, C)
    one_hot = F.one_hot(y.argmax(-1), C).to(y.dtype)
    assert torch.allclose(y, one_hot, atol=1e-6, rtol=0)
    assert set(torch.unique(y.detach().round()).tolist()) <= {0.0, 1.0}
    # A non-constant function of the one-hots still sends a gradient to the logits.
    w = torch.randn(G * C, generator=torch.Generator().manual_seed(1))
    (ls.z * w).sum().backward()
    assert head.proj.weight.grad is not None
    assert head.proj.weight.grad.abs().sum() > 0


def test_gumbel_kl_is_categorical_kl_to_uniform_by_hand():
    head = _gumbel()
    h = torch.randn(6, 5)
    ls = head(h, UniformCategorical(G, C)(6))
    assert ls.kl.shape == (6, G)
    assert ls.kl_is_analytic is True
    p = F.softmax(head.proj(h).reshape(6, G, C), -1)
    by_hand = (p * torch.log(p * C)).sum(-1)
    assert torch.allclose(ls.kl, by_hand, atol=1e-5)
    assert (ls.kl >= -1e-6).all()


def test_gumbel_kl_zero_for_uniform_posterior_and_log_c_for_one_hot():
    head = _gumbel()
    with torch.no_grad():
        head.proj.weight.zero_()
        head.proj.bias.zero_()
    ls = head(torch.randn(2, 5), UniformCategorical(G, C)(2))
    assert torch.allclose(ls.kl, torch.zeros(2, G), atol=1e-6)
    with torch.no_grad():
        head.proj.bias.copy_(torch.tensor([100.0, 0, 0, 0] * G))
    ls = head(torch.randn(2, 5), UniformCategorical(G, C)(2))
    assert torch.allclose(ls.kl, torch.full((2, G), math.log(C)), atol=1e-4)


def _mean_max_prob(temperature):
    head = _gumbel(temperature=1.0)
    h = torch.randn(512, 5, generator=torch.Generator().manual_seed(3))
    torch.manual_seed(4)
    ls = head(h, UniformCategorical(G, C)(512), temperature=temperature)
    return ls.z.reshape(512, G, C).max(-1).values.mean().item()


def test_gumbel_lower_temperature_gives_samples_closer_to_one_hot():
    hot, warm, cold = _mean_max_prob(5.0), _mean_max_prob(1.0), _mean_max_prob(0.1)
    assert hot < warm < cold
    assert cold > 0.9


def test_gumbel_constructor_temperature_is_used_without_override():
    h = torch.randn(512, 5, generator=torch.Generator().manual_seed(3))
    maxes = []
    for tau in (5.0, 0.1):
        head = _gumbel(temperature=tau)
        torch.manual_seed(4)
        z = head(h, UniformCategorical(G, C)(512)).z
        maxes.append(z.reshape(512, G, C).max(-1).values.mean().item())
    assert maxes[0] < maxes[1]


def test_gumbel_mode_is_one_hot_of_argmax():
    head = _gumbel()
    h = torch.randn(7, 5)
    m = head.mode(h)
    assert m.shape == (7, G * C)
    logits = head.proj(h).reshape(7, G, C)
    expected = F.one_hot(logits.argmax(-1), C).float().reshape(7, G * C)
    assert torch.equal(m, expected)
    # mode is deterministic
    assert torch.equal(head.mode(h), m)


@pytest.mark.parametrize("kwargs", [dict(n_groups=0, n_categories=3), dict(n_groups=2, n_categories=1),
                                    dict(n_groups=2, n_categories=3, temperature=0.0)])
def test_gumbel_rejects_bad_params(kwargs):
    with pytest.raises(ConfigError):
        GumbelSoftmaxHead(in_dim=4, **kwargs)
