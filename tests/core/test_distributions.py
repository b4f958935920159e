"""Per-family distribution operations: seeded draws equal the explicit formulas vaekit has always
used (so seeded results do not move), flows as Transforms, and no class branches in callers."""
import pytest
import torch
from torch.distributions import Beta, Categorical, Normal, TransformedDistribution

from vaekit.core.distributions import (concat, location, log_prob_per_example, needs_inversion, rsample,
                                       rsample_and_log_prob)
from vaekit.core.flows import FlowTransform, apply_flows, build_flows
from vaekit.core.heads import flow_posterior


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_seeded_normal_and_categorical_draws_are_the_explicit_formulas():
    q = Normal(torch.randn(3, 2), torch.rand(3, 2) + 0.1)
    want = q.loc + q.scale * torch.randn(q.loc.shape, generator=_gen())
    assert torch.equal(rsample(q, generator=_gen()), want)
    c = Categorical(logits=torch.randn(3, 2, 4))
    want = torch.multinomial(c.probs.reshape(-1, 4), 1, generator=_gen()).reshape(3, 2)
    assert torch.equal(rsample(c, generator=_gen()), want)
    many = rsample(c, (500,), generator=_gen())
    assert many.shape == (500, 3, 2)
    freq = torch.nn.functional.one_hot(many, 4).float().mean(0)
    assert torch.allclose(freq, c.probs, atol=0.08)  # draws follow each row's own probabilities


def test_seeded_sampling_of_an_unregistered_family_says_how_to_register():
    with pytest.raises(NotImplementedError, match="Beta.*rsample.register"):
        rsample(Beta(torch.ones(2), torch.ones(2)), generator=_gen())
    assert rsample(Beta(torch.ones(2), torch.ones(2))).shape == (2,)  # unseeded: torch's own sampler


def test_flow_posterior_is_a_transformed_distribution_with_sample_densities_without_inversion():
    torch.manual_seed(0)
    flows = build_flows("iaf", 3, 2, (8,), 4)
    for p in flows.parameters():
        torch.nn.init.normal_(p, std=0.3)
    base = Normal(torch.randn(5, 3), torch.rand(5, 3) + 0.5)
    ctx = torch.randn(5, 4)
    q = flow_posterior(base, flows, ctx)
    assert isinstance(q, TransformedDistribution) and q.batch_shape == (5,) and q.event_shape == (3,)
    z, log_q = rsample_and_log_prob(q, (2,), generator=_gen())
    z0 = base.loc + base.scale * torch.randn((2, 5, 3), generator=_gen())
    zt, log_det = apply_flows(flows, z0, ctx)
    assert torch.equal(z, zt) and torch.equal(log_q, base.log_prob(z0).sum(-1) - log_det)
    assert torch.allclose(q.log_prob(z), log_q, atol=1e-4) and needs_inversion(q)  # by inverting
    assert torch.equal(location(q), apply_flows(flows, base.loc, ctx)[0])
    assert not needs_inversion(base)


def test_concat_joins_batches_per_family_including_flow_contexts():
    a, b = Normal(torch.zeros(2, 3), torch.ones(2, 3)), Normal(torch.ones(4, 3), torch.ones(4, 3))
    ab = concat([a, b], 5)
    assert ab.batch_shape == (5, 3) and torch.equal(ab.loc[2:], torch.ones(3, 3))
    c = concat([Categorical(logits=torch.zeros(2, 2, 3)), Categorical(logits=torch.ones(1, 2, 3))], 10)
    assert c.batch_shape == (3, 2)
    flows = build_flows("planar", 3, 1, (), 2)
    qa = flow_posterior(a, flows, torch.zeros(2, 2))
    qb = flow_posterior(b, flows, torch.ones(4, 2))
    qab = concat([qa, qb], 5)
    assert qab.batch_shape == (5,) and torch.equal(qab.transforms[0].context[2:], torch.ones(3, 2))
    assert isinstance(qab.transforms[0], FlowTransform)


def test_log_prob_per_example_sums_factorised_units_only():
    q = Normal(torch.zeros(4, 3), torch.ones(4, 3))
    z = torch.randn(2, 4, 3)
    assert torch.equal(log_prob_per_example(q, z), q.log_prob(z).sum(-1))
    f = flow_posterior(q, build_flows("iaf", 3, 1, (8,), 0), None)
    zf = rsample(f, (2,))
    assert log_prob_per_example(f, zf).shape == (2, 4)
    assert torch.equal(log_prob_per_example(f, zf), f.log_prob(zf))  # already per example
