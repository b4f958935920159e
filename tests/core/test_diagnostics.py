"""Diagnostics on hand-built models whose posterior we control exactly."""
import math
import warnings

import pytest
import torch

from vaekit.core import Batch, ComponentConfig, DataInfo, ModelConfig, build_vae
from vaekit.core.decoders import MLPDecoder
from vaekit.core.diagnostics import PosteriorCollapseWarning, diagnose, mutual_information, summary_line
from vaekit.core.encoders import Encoder
from vaekit.core.errors import DataValidationError
from vaekit.core.heads import GaussianHead
from vaekit.core.likelihoods import GaussianLikelihood
from vaekit.core.priors import StandardNormal
from vaekit.core.vae import VAE

N, F, D = 40, 2, 2
X0 = torch.linspace(-1.0, 1.0, N)
X = torch.stack([X0, torch.randn(N, generator=torch.Generator().manual_seed(0))], dim=1)
BATCHES = [Batch(x=X[i:i + 10]) for i in range(0, N, 10)]


class IdentityEncoder(Encoder):
    """h = x, so the head's linear layer alone sets the posterior."""

    def __init__(self, dim):
        super().__init__()
        self.out_dim = dim

    def forward(self, x, cond=None, mask=None):
        return x.float()


def _model(weight, bias):
    torch.manual_seed(0)
    head = GaussianHead(in_dim=F, latent_dim=D)
    with torch.no_grad():
        head.proj.weight.copy_(torch.tensor(weight, dtype=torch.float32))
        head.proj.bias.copy_(torch.tensor(bias, dtype=torch.float32))
    decoder = MLPDecoder(latent_dim=D, out_shape=(F,), likelihood=GaussianLikelihood(x_dim=F), hidden_dims=[8])
    return VAE(IdentityEncoder(F), head, decoder, StandardNormal(D))


# rows: mu_0, mu_1, logvar_0, logvar_1
def _partial_model():
    """Unit 0: mean = x0, variance 0.25. Unit 1: mean 0.5 for every x, variance 1."""
    return _model([[1, 0], [0, 0], [0, 0], [0, 0]], [0.0, 0.5, math.log(0.25), 0.0])


def _collapsed_model():
    """q(z|x) = N(0, I) = p(z) for every x."""
    return _model([[0, 0]] * 4, [0.0] * 4)


def _sharp_model():
    """Both units copy the inputs (scaled up) with tiny variance: nearly deterministic codes."""
    return _model([[10, 0], [0, 10], [0, 0], [0, 0]], [0.0, 0.0, -10.0, -10.0])


def _population_var(t):
    return float(((t - t.mean()) ** 2).mean())


def test_partial_collapse_active_units_and_per_unit_kl():
    res = diagnose(_partial_model(), BATCHES, seed=0)
    assert res["n_examples"] == N
    assert res["n_units"] == D
    assert res["active_units"] == 1
    assert res["collapse"] == "partial"
    assert res["active_unit_variance"][0] == pytest.approx(_population_var(X0), rel=1e-5)
    assert res["active_unit_variance"][1] == pytest.approx(0.0, abs=1e-9)
    kl0 = float((0.5 * (X0 ** 2 + 0.25 - 1.0 - math.log(0.25))).mean())
    kl1 = 0.5 * 0.5 ** 2  # 0.5 * mu^2 with unit variance
    assert res["kl_per_dim"] == pytest.approx([kl0, kl1], rel=1e-5)
    assert res["rate"] == pytest.approx(kl0 + kl1, rel=1e-5)
    assert res["kl"] == res["rate"]
    assert res["elbo"] == pytest.approx(-(res["rate"] + res["distortion"]))
    assert res["kl_is_analytic"] is True


def test_posterior_variance_matches_exp_logvar():
    res = diagnose(_partial_model(), BATCHES, seed=0)
    assert res["posterior_variance"] == pytest.approx([0.25, 1.0], rel=1e-5)


def test_aggregate_posterior_spectrum_participation_ratio_and_isotropy():
    res = diagnose(_partial_model(), BATCHES, seed=0)
    a = _population_var(X0) + 0.25  # Var_x(mean) + E_x(var) for unit 0
    b = 0.0 + 1.0
    pr = (a + b) ** 2 / (a ** 2 + b ** 2)
    assert sorted(res["spectrum"], reverse=True) == pytest.approx(sorted([a, b], reverse=True), rel=1e-5)
    assert res["participation_ratio"] == pytest.approx(pr, rel=1e-5)
    assert res["participation_ratio"] >= 1.0 and res["participation_ratio"] <= D
    assert res["isotropy"] == pytest.approx(res["participation_ratio"] / D)
    assert res["condition_number"] == pytest.approx(max(a, b) / min(a, b), rel=1e-5)


def test_full_collapse_is_reported_and_warned():
    with pytest.warns(PosteriorCollapseWarning, match="posterior collapse"):
        res = diagnose(_collapsed_model(), BATCHES, seed=0)
    assert res["collapse"] == "full"
    assert res["active_units"] == 0
    assert res["rate"] == pytest.approx(0.0, abs=1e-6)
    assert res["kl_per_dim"] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert res["posterior_variance"] == pytest.approx([1.0, 1.0])
    assert res["mutual_info"] == pytest.approx(0.0, abs=1e-5)
    assert res["participation_ratio"] == pytest.approx(2.0)  # the aggregate posterior is N(0, I)
    assert "free_bits" in res["warnings"][0]  # the advice names what to try


def test_full_collapse_warning_can_be_silenced():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = diagnose(_collapsed_model(), BATCHES, seed=0, warn=False)
    assert res["collapse"] == "full"


def test_no_collapse_when_every_unit_is_active():
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCollapseWarning)
        res = diagnose(_sharp_model(), BATCHES, seed=0)
    assert res["active_units"] == D
    assert res["collapse"] == "none"
    assert res["warnings"] == []


def test_mutual_information_is_bounded_by_log_n_and_grows_with_information():
    mi_collapsed = diagnose(_collapsed_model(), BATCHES, seed=0, warn=False)["mutual_info"]
    mi_partial = diagnose(_partial_model(), BATCHES, seed=0)["mutual_info"]
    mi_sharp = diagnose(_sharp_model(), BATCHES, seed=0)["mutual_info"]
    for mi in (mi_collapsed, mi_partial, mi_sharp):
        assert mi <= math.log(N) + 1e-6
    assert mi_collapsed < mi_partial < mi_sharp
    assert mi_partial > 0.1
    assert mi_sharp == pytest.approx(math.log(N), abs=0.05)  # distinct, nearly deterministic codes


def test_mutual_information_respects_max_examples():
    mi = mutual_information(_sharp_model(), BATCHES, max_examples=20,
                            generator=torch.Generator().manual_seed(0))
    assert mi <= math.log(20) + 1e-6
    assert mi == pytest.approx(math.log(20), abs=0.05)


def test_diagnose_is_reproducible_with_seed_and_leaves_global_rng_alone():
    model = _partial_model()
    a = diagnose(model, BATCHES, seed=3)
    b = diagnose(model, BATCHES, seed=3)
    c = diagnose(model, BATCHES, seed=4)
    assert a == b
    assert a["distortion"] != c["distortion"]  # the Monte-Carlo terms depend on the seed
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    diagnose(model, BATCHES, seed=3)
    assert torch.equal(torch.rand(3), expected)


def test_diagnose_restores_training_mode():
    model = _partial_model().train()
    diagnose(model, BATCHES)
    assert model.training
    model.eval()
    diagnose(model, BATCHES)
    assert not model.training


def test_empty_batch_list_is_data_error():
    with pytest.raises(DataValidationError, match="empty"):
        diagnose(_partial_model(), [])


def test_importance_weighted_nll_is_reported():
    res = diagnose(_partial_model(), BATCHES, seed=0, iw_samples=20)
    assert res["iw_samples"] == 20
    assert math.isfinite(res["nll_iw"])
    assert res["nll_iw"] < -res["elbo"] + 0.5  # IWAE tightens the bound (up to Monte-Carlo noise)
    assert "NLL(IW k=20)" in summary_line(res)
    assert "active units 1/2" in summary_line(res)


@pytest.mark.parametrize("rows_per_pass, expected", [(None, 200), (40, 40), (7, 10)])
def test_iw_nll_passes_respect_the_decoders_rows_per_pass(rows_per_pass, expected):
    # 10 examples a batch x 20 samples: the default bound (1,024 rows) takes all 20 samples in
    # one pass of 200 rows; a decoder's smaller bound splits them (never below one sample).
    model = _partial_model()
    model.decoder.iw_rows_per_pass = rows_per_pass
    seen = []
    model.decoder.register_forward_hook(lambda mod, args, out: seen.append(args[0].reshape(-1, D).shape[0]))
    res = diagnose(model, BATCHES, seed=0, iw_samples=20)
    elbo_passes = [10] * len(BATCHES)  # one plain forward pass per batch
    assert sorted(seen) == sorted(elbo_passes + [expected] * (len(BATCHES) * 200 // expected))
    assert math.isfinite(res["nll_iw"])


def test_diagnose_gumbel_and_sequence_models():
    info = DataInfo(kind="vector", shape=(F,), likelihood="gaussian")
    cfg = ModelConfig(encoder=ComponentConfig("mlp", {"hidden_dims": [8]}),
                      head=ComponentConfig("gumbel_softmax", {"n_groups": 3, "n_categories": 4}),
                      decoder=ComponentConfig("mlp", {"hidden_dims": [8]}))
    torch.manual_seed(0)
    res = diagnose(build_vae(cfg, info), BATCHES, seed=0, warn=False)
    assert res["n_units"] == 3 and len(res["kl_per_dim"]) == 3
    assert len(res["spectrum"]) == 12
    assert 0.0 <= res["mutual_info"] <= math.log(N) + 1e-6

    seq = DataInfo(kind="sequence", shape=(5,), vocab_size=6, pad_id=0, bos_id=1, eos_id=2, likelihood="categorical")
    cfg = ModelConfig(latent_dim=2, encoder=ComponentConfig("gru", {"embed_dim": 4, "hidden_dim": 4}),
                      decoder=ComponentConfig("gru", {"embed_dim": 4, "hidden_dim": 4}))
    torch.manual_seed(0)
    x = torch.tensor([[3, 4, 2, 0, 0], [5, 2, 0, 0, 0], [3, 3, 3, 4, 2]])
    res = diagnose(build_vae(cfg, seq), [Batch(x=x, mask=x != 0)], seed=0, warn=False)
    assert res["n_tokens"] == 3 + 2 + 5
    assert res["distortion_per_token"] == pytest.approx(res["distortion"] * 3 / 10)
