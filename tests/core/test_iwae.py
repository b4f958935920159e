"""The IWAE training objective (Burda et al. 2016), and flow heads / AF priors inside the VAE."""
import math

import pytest
import torch

from vaekit.core import Batch, ComponentConfig, DataInfo, ModelConfig, build_vae
from vaekit.core.diagnostics import diagnose
from vaekit.core.errors import ConfigError
from vaekit.core.objectives import ELBO, ObjectiveConfig, build_objective, iwae_nll

BIN = DataInfo(kind="vector", shape=(10,), likelihood="bernoulli")


def _model(head=None, prior=None, seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(latent_dim=3, encoder=ComponentConfig("mlp", {"hidden_dims": [16]}),
                      decoder=ComponentConfig("mlp", {"hidden_dims": [16]}), head=head or ComponentConfig("gaussian"),
                      prior=prior)
    return build_vae(cfg, BIN)


def _batch(n=8, seed=1):
    g = torch.Generator().manual_seed(seed)
    return Batch(x=(torch.rand(n, 10, generator=g) < 0.4).float())


def test_iwae_at_k1_equals_the_single_sample_elbo_with_mc_kl():
    model, batch = _model(), _batch()
    torch.manual_seed(3)
    out = model(batch, n_samples=1)
    lo = ELBO(kind="iwae", n_samples=1)(out, 0)
    mc_elbo = out.recon_nll + (out.log_q - out.log_p)
    assert lo.loss.item() == pytest.approx(mc_elbo.mean().item(), rel=1e-6)
    assert lo.terms["iwae_bound"] == pytest.approx(-mc_elbo.mean().item(), rel=1e-6)


def test_iwae_bound_is_tighter_than_the_elbo_and_grows_with_k():
    model, batch = _model(), _batch(n=64)
    elbo = -ELBO()(model(batch), 0).terms["loss"]  # analytic-KL ELBO, one sample
    bounds = []
    for k in (1, 10, 100):
        torch.manual_seed(0)
        vals = [-ELBO(kind="iwae", n_samples=k)(model(batch, n_samples=k), 0).loss.item() for _ in range(5)]
        bounds.append(sum(vals) / len(vals))
    assert bounds[0] == pytest.approx(elbo, abs=0.5)  # same expectation, MC noise
    assert bounds[0] < bounds[1] < bounds[2]
    # and the bound agrees with the evaluation estimator iwae_nll at the same k
    torch.manual_seed(0)
    assert -iwae_nll(model, batch, k=100).mean().item() == pytest.approx(bounds[2], abs=0.3)


def test_iwae_gradients_reach_encoder_and_decoder():
    model, batch = _model(), _batch()
    lo = ELBO(kind="iwae", n_samples=5)(model(batch, n_samples=5), 0)
    lo.loss.backward()
    for name in ("encoder", "head", "decoder"):
        grads = [p.grad for p in getattr(model, name).parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)


def test_iwae_beta_warmup_weighs_the_prior_ratio():
    model, batch = _model(), _batch()
    torch.manual_seed(0)
    out = model(batch, n_samples=4)
    lw = -out.recon_nll + 0.5 * (out.log_p - out.log_q)
    expected = -(torch.logsumexp(lw, 0) - math.log(4)).mean()
    assert ELBO(kind="iwae", beta=0.5, n_samples=4)(out, 0).loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_iwae_config_errors():
    with pytest.raises(ConfigError, match="Did you mean 'iwae'"):
        build_objective(ObjectiveConfig(kind="iwea"))
    with pytest.raises(ConfigError, match="free_bits"):
        build_objective(ObjectiveConfig(kind="iwae", free_bits=0.5))
    model = build_vae(ModelConfig(latent_dim=2, head=ComponentConfig("gumbel_softmax", {"n_groups": 2,
                                                                                         "n_categories": 3})), BIN)
    with pytest.raises(ConfigError, match="sample densities"):
        ELBO(kind="iwae", n_samples=2)(model(_batch(), n_samples=2), 0)


@pytest.mark.parametrize("head,prior", [
    (ComponentConfig("flow", {"flow": "iaf", "n_flows": 2, "hidden_dims": [16], "context_dim": 8}), None),
    (ComponentConfig("flow", {"flow": "planar", "n_flows": 3, "context_dim": 8}), None),
    (None, ComponentConfig("autoregressive_flow", {"n_flows": 2, "hidden_dims": [16]})),
])
def test_flow_models_train_evaluate_and_sample(head, prior):
    model, batch = _model(head, prior), _batch(n=32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        lo = ELBO()(model(batch), 0)
        assert lo.terms["kl"] == lo.terms["kl"]  # finite (not NaN)
        opt.zero_grad()
        lo.loss.backward()
        opt.step()
        losses.append(lo.loss.item())
    assert sum(losses[-5:]) < sum(losses[:5])
    out = model(batch)
    assert out.kl.shape == (32, 1) and out.kl_is_analytic is False
    # IWAE >= ELBO on average (DESIGN.md section 9), also with flows
    torch.manual_seed(0)
    nll = iwae_nll(model, batch, k=50).mean().item()
    torch.manual_seed(0)
    neg_elbo = sum(ELBO()(model(batch), 0).terms["loss"] for _ in range(20)) / 20
    assert nll <= neg_elbo + 0.05
    d = diagnose(model, [batch], iw_samples=5, mi_examples=32, warn=False)
    assert d["kl_is_analytic"] is False and d["n_units"] == 3 and math.isfinite(d["isotropy"])
    flow_kind = (head.params.get("flow") if head is not None else None)
    assert math.isnan(d["mutual_info"]) == (flow_kind == "planar")  # planar has no inverse
    x = model.sample(4, generator=torch.Generator().manual_seed(0))
    assert x.shape == (4, 10)
    with pytest.raises(ConfigError, match="free bits"):
        ELBO(free_bits=0.1)(out, 0)
