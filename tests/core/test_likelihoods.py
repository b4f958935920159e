"""Decoder likelihoods: -log p(x|z) summed over data dims, in nats, against hand-computed values."""
import math

import pytest
import torch
from torch.distributions import Multinomial

from vaekit.core import Batch, ComponentConfig, DataInfo, ModelConfig, build_vae
from vaekit.core.errors import ConfigError, DataValidationError
from vaekit.core.likelihoods import (BernoulliLikelihood, CategoricalLikelihood, GaussianLikelihood,
                                     LaplaceLikelihood, MultinomialLikelihood)

LOG2PI = math.log(2 * math.pi)


def test_bernoulli_nll_hand_values():
    lik = BernoulliLikelihood()
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]])  # p = 0.5, 0.75
    x = torch.tensor([[1.0, 0.0], [0.25, 1.0]])
    nll = lik.nll(lik.distribution(logits), x)
    assert nll.shape == (2,)
    # row 0: -log 0.5 - log 0.25 = log 8; row 1: grey level 0.25 at p=0.5 costs log 2, plus log 2.
    assert nll.tolist() == pytest.approx([math.log(8.0), 2 * math.log(2.0)], abs=1e-6)


def test_bernoulli_nll_sums_over_image_dims():
    lik = BernoulliLikelihood()
    nll = lik.nll(lik.distribution(torch.zeros(3, 1, 2, 2)), torch.ones(3, 1, 2, 2))
    assert nll.shape == (3,)
    assert torch.allclose(nll, torch.full((3,), 4 * math.log(2.0)), atol=1e-6)


def test_gaussian_fixed_unit_scale_nll_hand_value():
    lik = GaussianLikelihood(scale=1.0)
    mu = torch.tensor([[0.0, 1.0, -1.0], [0.5, 0.5, 0.5]])
    x = torch.tensor([[1.0, 1.0, 1.0], [0.5, 0.5, 0.5]])
    nll = lik.nll(lik.distribution(mu), x)
    d = 3
    expected = 0.5 * ((x - mu) ** 2).sum(1) + 0.5 * d * LOG2PI
    assert nll.shape == (2,)
    assert torch.allclose(nll, expected, atol=1e-5)
    assert nll[0].item() == pytest.approx(0.5 * 5 + 1.5 * LOG2PI, abs=1e-5)


def test_gaussian_fixed_scale_two_nll_hand_value():
    lik = GaussianLikelihood(scale=2.0)
    nll = lik.nll(lik.distribution(torch.zeros(1, 2)), torch.tensor([[2.0, 0.0]]))
    # sum_d 0.5*(x/2)^2 + log 2 + 0.5 log 2 pi
    assert nll.item() == pytest.approx(0.5 * 1.0 + 2 * math.log(2.0) + LOG2PI, abs=1e-5)


def test_gaussian_output_scale_reads_second_half_of_params():
    lik = GaussianLikelihood(learn_scale="output", min_scale=1e-3)
    assert lik.params_per_dim == 2
    raw_for_scale_2 = math.log(math.expm1(2.0 - 1e-3))  # softplus(raw) + min_scale = 2
    params = torch.tensor([[1.0, 0.0, raw_for_scale_2, raw_for_scale_2]])
    px = lik.distribution(params)
    assert torch.allclose(px.loc, torch.tensor([[1.0, 0.0]]))
    assert torch.allclose(px.scale, torch.full((1, 2), 2.0), atol=1e-5)
    nll = lik.nll(px, torch.tensor([[1.0, 2.0]]))
    assert nll.item() == pytest.approx(0.5 * 1.0 + 2 * math.log(2.0) + LOG2PI, abs=1e-4)


def test_gaussian_min_scale_bounds_predicted_scale():
    lik = GaussianLikelihood(learn_scale="output", min_scale=0.1)
    px = lik.distribution(torch.tensor([[0.0, -1e4]]))
    assert px.scale.item() == pytest.approx(0.1, abs=1e-6)


def test_multinomial_nll_hand_value():
    lik = MultinomialLikelihood()
    px = lik.distribution(torch.zeros(1, 3))
    # x = (2, 1, 0), N = 3: log(3!/(2! 1! 0!)) + 3 log(1/3) = log 3 - 3 log 3
    nll = lik.nll(px, torch.tensor([[2.0, 1.0, 0.0]]))
    assert nll.item() == pytest.approx(2 * math.log(3.0), abs=1e-5)


def test_multinomial_log_prob_matches_torch_for_fixed_total_count():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 6, generator=g)
    counts = torch.multinomial(torch.softmax(logits, -1), 7, replacement=True, generator=g)
    x = torch.zeros(4, 6).scatter_add_(1, counts, torch.ones(4, 7))
    lik = MultinomialLikelihood()
    ours = -lik.nll(lik.distribution(logits), x)
    ref = Multinomial(total_count=7, logits=logits).log_prob(x)
    assert torch.allclose(ours, ref, atol=1e-5)


def test_multinomial_log_prob_with_per_row_total_count():
    logits = torch.tensor([[0.3, -0.2, 1.0], [0.0, 0.5, -1.0]])
    x = torch.tensor([[1.0, 0.0, 2.0], [4.0, 1.0, 0.0]])
    lik = MultinomialLikelihood()
    ours = -lik.nll(lik.distribution(logits), x)
    for i, n in enumerate((3, 5)):
        ref = Multinomial(total_count=n, logits=logits[i]).log_prob(x[i])
        assert ours[i].item() == pytest.approx(ref.item(), abs=1e-5)


def test_categorical_nll_hand_value_with_mask():
    lik = CategoricalLikelihood()
    px = lik.distribution(torch.zeros(2, 3, 4))  # uniform over 4 tokens
    x = torch.tensor([[1, 2, 0], [3, 0, 0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    nll = lik.nll(px, x, mask)
    assert nll.tolist() == pytest.approx([2 * math.log(4.0), math.log(4.0)], abs=1e-6)
    assert lik.nll(px, x).tolist() == pytest.approx([3 * math.log(4.0)] * 2, abs=1e-6)


def test_categorical_nll_non_uniform_hand_value():
    lik = CategoricalLikelihood()
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]]))
    nll = lik.nll(lik.distribution(logits), torch.tensor([[0, 2]]), torch.tensor([[True, True]]))
    assert nll.item() == pytest.approx(-math.log(0.5) - math.log(0.8), abs=1e-6)


def test_categorical_mean_is_argmax():
    lik = CategoricalLikelihood()
    logits = torch.tensor([[[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]]])
    assert lik.mean(lik.distribution(logits)).tolist() == [[1, 0]]


@pytest.mark.parametrize("learn_scale", ["none", "shared", "per_dim", "output", "analytic"])
def test_gaussian_learn_scale_variants_build_and_give_finite_nll(learn_scale):
    info = DataInfo(kind="vector", shape=(5,), likelihood="gaussian")
    cfg = ModelConfig(latent_dim=2, encoder=ComponentConfig("mlp", {"hidden_dims": [8]}),
                      decoder=ComponentConfig("mlp", {"hidden_dims": [8]}),
                      likelihood=ComponentConfig("gaussian", {"learn_scale": learn_scale, "scale": 0.5}))
    torch.manual_seed(0)
    model = build_vae(cfg, info)
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(1))
    out = model(Batch(x=x))
    assert out.recon_nll.shape == (4,)
    assert torch.isfinite(out.recon_nll).all()
    assert out.px.batch_shape == (4, 5)
    lik = model.decoder.likelihood
    if learn_scale in ("shared", "per_dim"):
        names = {n for n, _ in model.named_parameters()}
        assert "decoder.likelihood.raw_scale" in names
        assert lik.raw_scale.shape == ((5,) if learn_scale == "per_dim" else ())
        out.recon_nll.mean().backward()
        assert lik.raw_scale.grad is not None and lik.raw_scale.grad.abs().sum() > 0
    if learn_scale == "none":
        assert torch.allclose(out.px.scale, torch.full((4, 5), 0.5), atol=1e-6)
        assert "decoder.likelihood.raw_scale" not in dict(model.named_parameters())
    if learn_scale == "output":
        assert model.decoder.net[-1].out_features == 10  # loc and scale per dim


@pytest.mark.parametrize("learn_scale", ["per_dim", "output", "analytic"])
def test_gaussian_learn_scale_on_images(learn_scale):
    info = DataInfo(kind="image", shape=(1, 8, 8), likelihood="gaussian")
    cfg = ModelConfig(latent_dim=2, encoder=ComponentConfig("conv", {"channels": [2], "hidden_dim": 8}),
                      decoder=ComponentConfig("conv", {"channels": [2]}),
                      likelihood=ComponentConfig("gaussian", {"learn_scale": learn_scale}))
    torch.manual_seed(0)
    model = build_vae(cfg, info)
    out = model(Batch(x=torch.rand(3, 1, 8, 8)))
    assert out.px.batch_shape == (3, 1, 8, 8)
    assert out.recon_nll.shape == (3,)
    assert torch.isfinite(out.recon_nll).all()


def test_gaussian_rejects_bad_params():
    with pytest.raises(ConfigError, match="scale"):
        GaussianLikelihood(scale=0.0)
    with pytest.raises(ConfigError, match="learn_scale"):
        GaussianLikelihood(learn_scale="perdim")
    with pytest.raises(ConfigError, match="momentum"):
        GaussianLikelihood(learn_scale="analytic", momentum=0.0)
    with pytest.raises(ConfigError, match="scale_trim"):
        GaussianLikelihood(learn_scale="analytic", scale_trim=0.5)


def _gauss_nll(x, loc, scale):
    return (0.5 * LOG2PI + torch.log(scale) + 0.5 * ((x - loc) / scale) ** 2).sum(1)


def test_analytic_scale_is_the_batch_rms_residual_in_training_and_the_running_one_in_eval():
    lik = GaussianLikelihood(learn_scale="analytic", scale=2.0, min_scale=0.1, x_dim=2, momentum=0.25)
    assert torch.allclose(lik.running_sq_residual, torch.tensor([4.0, 4.0]))
    x = torch.tensor([[1.0, 0.0], [3.0, 0.0], [2.0, 0.02]])
    loc = torch.tensor([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0]])
    lik.train()
    nll = lik.nll(lik.distribution(loc), x)
    rms = torch.tensor([math.sqrt(2 / 3), 0.1])  # dim 2: sqrt(0.0004 / 3) < min_scale
    assert torch.allclose(nll, _gauss_nll(x, loc, rms.expand(3, 2)), atol=1e-5)
    batch_sq = torch.tensor([2 / 3, 0.0004 / 3])
    assert torch.allclose(lik.running_sq_residual, 0.75 * 4.0 + 0.25 * batch_sq)
    lik.eval()
    px = lik.distribution(loc)
    assert torch.allclose(px.scale[0], lik.running_sq_residual.sqrt())
    assert torch.allclose(lik.nll(px, x), _gauss_nll(x, loc, px.scale), atol=1e-5)
    assert "running_sq_residual" in lik.state_dict()


def test_analytic_scale_gradient_equals_the_undetached_optimum():
    # At sigma* the batch NLL is stationary in sigma, so detaching sigma* leaves the gradient
    # reaching the decoder mean unchanged (Rybkin et al. 2021).
    g = torch.Generator().manual_seed(0)
    x, loc0 = torch.randn(16, 3, generator=g), torch.randn(16, 3, generator=g)
    lik = GaussianLikelihood(learn_scale="analytic", min_scale=1e-6, x_dim=3).train()
    loc = loc0.clone().requires_grad_(True)
    lik.nll(lik.distribution(loc), x).sum().backward()
    loc_ref = loc0.clone().requires_grad_(True)
    sigma = ((x - loc_ref) ** 2).mean(0).sqrt()
    _gauss_nll(x, loc_ref, sigma.expand_as(x)).sum().backward()
    assert torch.allclose(loc.grad, loc_ref.grad, atol=1e-5)


def test_analytic_scale_trim_leaves_the_worst_rows_out_of_the_estimate():
    x = torch.tensor([[1.0], [-1.0], [1.0], [-1.0], [50.0]])
    loc = torch.zeros(5, 1)
    lik = GaussianLikelihood(learn_scale="analytic", x_dim=1, momentum=1.0, scale_trim=0.2).train()
    lik.nll(lik.distribution(loc), x)
    assert torch.allclose(lik.running_sq_residual, torch.tensor([1.0]))  # the 50 is left out
    untrimmed = GaussianLikelihood(learn_scale="analytic", x_dim=1, momentum=1.0).train()
    untrimmed.nll(untrimmed.distribution(loc), x)
    assert torch.allclose(untrimmed.running_sq_residual, torch.tensor([(4 + 2500) / 5]))


def test_laplace_nll_hand_values_and_its_analytic_scale_is_the_mean_absolute_residual():
    x = torch.tensor([[1.0, 0.0], [4.0, 0.0], [2.0, 0.03]])
    loc = torch.tensor([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0]])
    fixed = LaplaceLikelihood(scale=0.5, min_scale=1e-6, x_dim=2)
    b = 0.5  # -log p = |x - mu| / b + log(2 b), summed over the 2 dims
    expected = ((x - loc).abs() / b + math.log(2 * b)).sum(1)
    assert torch.allclose(fixed.nll(fixed.distribution(loc), x), expected, atol=1e-5)
    lik = LaplaceLikelihood(learn_scale="analytic", scale=2.0, min_scale=0.1, x_dim=2, momentum=0.5).train()
    assert torch.allclose(lik.running_sq_residual, torch.tensor([2.0, 2.0]))  # the scale itself (power 1)
    nll = lik.nll(lik.distribution(loc), x)
    mad = torch.tensor([1.0, 0.1])  # dim 1: (1 + 2 + 0) / 3; dim 2: 0.01 < min_scale
    assert torch.allclose(nll, ((x - loc).abs() / mad + torch.log(2 * mad)).sum(1), atol=1e-5)
    assert torch.allclose(lik.running_sq_residual, 0.5 * 2.0 + 0.5 * torch.tensor([1.0, 0.01]))
    lik.eval()
    assert torch.allclose(lik.distribution(loc).scale[0], lik.running_sq_residual.clamp_min(0.1))
    # trimmed: the worst row by |residual| / scale is left out of the estimate
    trim = LaplaceLikelihood(learn_scale="analytic", x_dim=1, momentum=1.0, scale_trim=0.2).train()
    trim.nll(trim.distribution(torch.zeros(5, 1)), torch.tensor([[1.0], [-1.0], [1.0], [-1.0], [50.0]]))
    assert torch.allclose(trim.running_sq_residual, torch.tensor([1.0]))


def test_laplace_seeded_draws_repeat_and_follow_the_distribution():
    from torch.distributions import Laplace

    from vaekit.core.distributions import rsample

    d = Laplace(torch.full((50_000,), 1.0), torch.full((50_000,), 2.0))
    a = rsample(d, (), torch.Generator().manual_seed(3))
    assert torch.equal(a, rsample(d, (), torch.Generator().manual_seed(3)))
    assert abs(float(a.median()) - 1.0) < 0.05 and abs(float((a - 1).abs().mean()) - 2.0) < 0.05


def test_check_data_rejects_values_outside_support():
    with pytest.raises(DataValidationError, match=r"\[0, 1\]"):
        BernoulliLikelihood().check_data(torch.tensor([[0.0, 1.5]]))
    BernoulliLikelihood().check_data(torch.tensor([[0.0, 0.3, 1.0]]))
    with pytest.raises(DataValidationError, match="non-negative"):
        MultinomialLikelihood().check_data(torch.tensor([[1.0, -1.0]]))
