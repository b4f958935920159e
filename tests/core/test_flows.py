"""Normalizing flows, flow posteriors and the autoregressive-flow prior (DESIGN.md section 9:
flow log-det == autograd Jacobian)."""
import math

import pytest
import torch
from torch.autograd.functional import jacobian
from torch.distributions import TransformedDistribution

from vaekit.core.distributions import rsample, rsample_and_log_prob
from vaekit.core.errors import ConfigError
from vaekit.core.flows import MADE, AutoregressiveAffine, PlanarFlow, RadialFlow, apply_flows, build_flows
from vaekit.core.heads import FlowHead
from vaekit.core.priors import AutoregressivePrior, StandardNormal

D, CTX = 4, 3


def _randomise(module, std=0.5):
    # Flows start at the identity (zero output weights); random weights exercise the maths.
    torch.manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, std)
    return module


FLOWS = {
    "iaf_gated_ctx": lambda: AutoregressiveAffine(D, (16, 16), CTX, gated=True),
    "maf_reverse": lambda: AutoregressiveAffine(D, (16,), 0, reverse=True, gated=False),
    "planar": lambda: PlanarFlow(D),
    "planar_amortised": lambda: PlanarFlow(D, CTX),
    "radial": lambda: RadialFlow(D),
    "radial_amortised": lambda: RadialFlow(D, CTX),
}


def _uses_context(f):
    return getattr(f, "params", None) is not None or getattr(getattr(f, "made", None), "context", None) is not None


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_log_det_equals_autograd_jacobian(name):
    f = _randomise(FLOWS[name]())
    torch.manual_seed(0)
    z, c = torch.randn(6, D), torch.randn(6, CTX)
    ctx = c if _uses_context(f) else None
    y, log_det = f(z, ctx)
    assert y.shape == z.shape and log_det.shape == (6,)
    for b in range(6):
        cb = None if ctx is None else ctx[b:b + 1]
        jac = jacobian(lambda v: f(v[None], cb)[0][0], z[b])
        assert torch.linalg.slogdet(jac)[1].item() == pytest.approx(log_det[b].item(), abs=1e-4)


@pytest.mark.parametrize("gated,reverse", [(True, False), (False, True)])
def test_autoregressive_step_is_triangular_and_invertible(gated, reverse):
    f = _randomise(AutoregressiveAffine(D, (16, 16), CTX, reverse=reverse, gated=gated))
    torch.manual_seed(0)
    z, c = torch.randn(5, D), torch.randn(5, CTX)
    y, _ = f(z, c)
    assert torch.allclose(f.inverse(y, c), z, atol=1e-5)
    jac = jacobian(lambda v: f(v[None], c[:1])[0][0], z[0]).abs() > 1e-9
    tri = torch.tril(torch.ones(D, D, dtype=torch.bool))
    expected = tri.flip(0).flip(1) if reverse else tri  # output i depends on inputs up to i (in order)
    assert torch.equal(jac, expected)


def test_made_masks_follow_the_order():
    torch.manual_seed(0)
    order = torch.tensor([2, 0, 3, 1])
    made = _randomise(MADE(D, (32,), n_params=1, order=order))
    z = torch.randn(D, requires_grad=True)
    for i in range(D):
        g, = torch.autograd.grad(made(z[None])[0, 0, i], z)
        seen = {j for j in range(D) if g[j].abs() > 0}
        assert seen == {j for j in range(D) if order[j] < order[i]}
    with pytest.raises(ConfigError, match="permutation"):
        MADE(D, (8,), order=torch.tensor([0, 0, 1, 2]))


def test_stacked_iaf_alternates_order_and_sums_log_dets():
    flows = _randomise(build_flows("iaf", D, 3, (16,), CTX))
    assert [bool(f.made.order[0] == D - 1) for f in flows] == [False, True, False]
    z, c = torch.randn(4, D), torch.randn(4, CTX)
    y, total = apply_flows(flows, z, c)
    jac = jacobian(lambda v: apply_flows(flows, v[None], c[:1])[0][0], z[0])
    assert torch.linalg.slogdet(jac)[1].item() == pytest.approx(total[0].item(), abs=1e-4)
    with pytest.raises(ConfigError, match="Did you mean 'iaf'"):
        build_flows("iafs", D, 2, (16,), 0)


def test_autoregressive_prior_is_a_normalised_density_and_samples_invert():
    prior = _randomise(AutoregressivePrior(2, n_flows=2, hidden_dims=(16,)), std=0.3)
    g = torch.linspace(-12, 12, 481)
    grid = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        mass = float(prior.density(grid).exp().sum() * (g[1] - g[0]) ** 2)
    assert mass == pytest.approx(1.0, abs=2e-3)
    dist = prior(3)
    gen = torch.Generator().manual_seed(0)
    s = rsample(dist, (5,), generator=gen)
    assert s.shape == (5, 3, 2) and dist.log_prob(s).shape == (5, 3)
    assert torch.equal(s, rsample(prior(3), (5,), generator=torch.Generator().manual_seed(0)))
    # from_noise inverts the density's map z -> eps
    eps = torch.randn(7, 2)
    z = prior.from_noise(eps)
    back = z
    for step in prior.steps:
        back, _ = step(back)
    assert torch.allclose(back, eps, atol=1e-5)


def test_flow_head_log_q_matches_inversion_and_mc_kl():
    torch.manual_seed(0)
    head = _randomise(FlowHead(in_dim=5, latent_dim=D, flow="iaf", n_flows=2, hidden_dims=(16,), context_dim=CTX),
                      std=0.3)
    h = torch.randn(6, 5)
    q = head.posterior(h)
    assert isinstance(q, TransformedDistribution) and q.batch_shape == (6,) and q.event_shape == (D,)
    z, log_q = rsample_and_log_prob(q, (3,))
    assert z.shape == (3, 6, D) and log_q.shape == (3, 6)
    assert torch.allclose(q.log_prob(z), log_q, atol=1e-4)  # density by inverting the flows
    prior = StandardNormal(D)
    ls = head(h, prior(6), n_samples=1, prior_module=prior)
    assert ls.kl.shape == (6, 1) and ls.kl_is_analytic is False
    assert torch.allclose(ls.kl[:, 0], ls.log_q - ls.log_p)
    m, v = head.unit_moments(q)
    assert m.shape == (6, D, 1) and v.shape == (6, D, 1) and bool((v > 0).all())


def test_flow_head_planar_has_no_inverse_and_rejects_bad_params():
    head = FlowHead(in_dim=5, latent_dim=D, flow="planar", n_flows=3, context_dim=0)
    q = head.posterior(torch.randn(2, 5))
    with pytest.raises(NotImplementedError):
        q.log_prob(torch.randn(2, D))
    with pytest.raises(ConfigError, match="n_flows"):
        FlowHead(in_dim=5, latent_dim=D, n_flows=0)


def test_flow_posterior_kl_estimate_is_unbiased_for_identity_flows():
    # Zero-initialised IAF steps with gate bias g scale z by sigmoid(g) per step: q stays a
    # Gaussian, so the Monte-Carlo KL must average to the closed form of the scaled Gaussian.
    torch.manual_seed(0)
    head = FlowHead(in_dim=3, latent_dim=2, flow="iaf", n_flows=1, hidden_dims=(8,), context_dim=0)
    h = torch.randn(1, 3)
    prior = StandardNormal(2)
    ls = head(h, prior(1), n_samples=20000, prior_module=prior)
    base = head.posterior(h).base_dist.base_dist  # the Gaussian under the flow
    s = torch.sigmoid(torch.tensor(1.0))
    mu, sd = base.loc * s, base.scale * s
    closed = (0.5 * (mu ** 2 + sd ** 2 - 1 - torch.log(sd ** 2))).sum()
    assert ls.kl.item() == pytest.approx(closed.item(), abs=0.05)
    assert math.isfinite(ls.kl.item())
