"""Objectives (ELBO with beta / free bits / capacity), schedules and the IWAE NLL."""
import math

import pytest
import torch
from torch.distributions import Normal

from vaekit.core import Batch, ComponentConfig, DataInfo, ModelConfig, VAEOutput, build_vae
from vaekit.core.errors import ConfigError
from vaekit.core.objectives import ELBO, CapacityConfig, ObjectiveConfig, build_objective, iwae_nll
from vaekit.core.schedules import Constant, Cyclical, Exponential, Linear, Schedule, build_schedule


# ----------------------------------------------------------------------------- schedules
@pytest.mark.parametrize("step,expected", [(0, 0.0), (5, 0.0), (6, 0.1), (10, 0.5), (15, 1.0), (1000, 1.0)])
def test_linear_schedule_hand_values_with_delay(step, expected):
    s = Linear(steps=10, start=0.0, end=1.0, delay=5)
    assert s(step) == pytest.approx(expected)


def test_linear_schedule_can_decrease():
    s = Linear(steps=4, start=2.0, end=0.0)
    assert [s(t) for t in (0, 1, 2, 4, 9)] == pytest.approx([2.0, 1.5, 1.0, 0.0, 0.0])


@pytest.mark.parametrize("step,expected", [
    (0, 0.0), (2, 0.4), (5, 1.0), (9, 1.0),      # first cycle: ramp over ratio*period = 5 steps, then hold
    (10, 0.0), (12, 0.4), (14, 0.8), (17, 1.0),  # second cycle restarts at start
])
def test_cyclical_schedule_fu_et_al_hand_values(step, expected):
    s = Cyclical(period=10, start=0.0, end=1.0, ratio=0.5)
    assert s(step) == pytest.approx(expected)


def test_cyclical_schedule_holds_end_after_n_cycles():
    s = Cyclical(period=10, ratio=0.5, n_cycles=2)
    assert s(12) == pytest.approx(0.4)
    assert s(20) == 1.0
    assert s(22) == 1.0
    assert s(1000) == 1.0


def test_exponential_schedule_hand_values():
    s = Exponential(rate=0.1, start=1.0, end=0.5)
    assert s(0) == pytest.approx(1.0)
    assert s(1) == pytest.approx(math.exp(-0.1))
    assert s(5) == pytest.approx(math.exp(-0.5))
    assert s(10) == 0.5  # exp(-1) = 0.37 < end
    assert s(10 ** 6) == 0.5


def test_constant_schedule():
    assert Constant(0.25)(0) == 0.25
    assert Constant(0.25)(10 ** 9) == 0.25


def test_build_schedule_from_numbers_mappings_and_instances():
    assert build_schedule(None, "w") is None
    s = build_schedule(2, "w")
    assert isinstance(s, Constant) and s(7) == 2.0
    assert build_schedule(0.5, "w")(3) == 0.5
    lin = build_schedule({"kind": "linear", "start": 0, "end": 1, "steps": 4}, "w")
    assert isinstance(lin, Linear) and lin(2) == pytest.approx(0.5)
    cyc = build_schedule({"kind": "cyclical", "period": 10, "ratio": 0.5}, "w")
    assert isinstance(cyc, Cyclical) and cyc(12) == pytest.approx(0.4)
    exp = build_schedule({"kind": "exponential", "rate": 0.1}, "w")
    assert isinstance(exp, Exponential) and exp(1) == pytest.approx(math.exp(-0.1))
    assert build_schedule({"kind": "constant", "value": 3}, "w")(0) == 3.0
    inst = Linear(steps=3)
    assert build_schedule(inst, "w") is inst


@pytest.mark.parametrize("spec,match", [
    ({"start": 0, "steps": 5}, r"objective\.beta: a schedule mapping needs 'kind'"),
    ({"kind": "linaer", "steps": 5}, r"objective\.beta\.kind: unknown schedule 'linaer'\. Did you mean 'linear'"),
    ({"kind": "linear", "stpes": 5}, r"objective\.beta\.stpes: unknown argument.*Did you mean 'steps'"),
    ({"kind": "linear"}, r"objective\.beta: schedule 'linear' needs steps"),
    ({"kind": "linear", "steps": 0}, r"objective\.beta\.steps: must be a positive"),
    ({"kind": "cyclical", "period": 10, "ratio": 0.0}, r"objective\.beta\.ratio: must be in \(0, 1\]"),
    ({"kind": "cyclical", "period": -1}, "period"),
    (True, "expected a number or a schedule mapping"),
    ("0.5", "expected a number or a schedule mapping"),
    ([0, 1], "expected a number or a schedule mapping"),
])
def test_build_schedule_rejects_bad_specs(spec, match):
    with pytest.raises(ConfigError, match=match):
        build_schedule(spec, "objective.beta")


@pytest.mark.parametrize("spec", [{"kind": "linear", "steps": 0}, {"kind": "cyclical", "period": 10, "ratio": 2.0}])
def test_schedule_value_errors_name_the_config_path(spec):
    with pytest.raises(ConfigError) as exc:
        build_schedule(spec, "objective.beta")
    assert "objective.beta" in str(exc.value)


def test_schedule_is_pure_function_of_step():
    s = Cyclical(period=7, ratio=0.3)
    forward = [s(t) for t in range(30)]
    backward = [s(t) for t in reversed(range(30))][::-1]
    assert forward == backward
    assert isinstance(s, Schedule)


# ----------------------------------------------------------------------------- ELBO
def _out(recon, kl, analytic=True, extra=None):
    recon = torch.as_tensor(recon, dtype=torch.float32)
    kl = torch.as_tensor(kl, dtype=torch.float32)
    b = kl.shape[0]
    q = Normal(torch.zeros(b, max(kl.shape[1], 1)), torch.ones(b, max(kl.shape[1], 1)))
    return VAEOutput(recon_nll=recon, kl=kl, kl_is_analytic=analytic, z=torch.zeros(b, 1), posterior=q,
                     px=q, extra=extra or {})


RECON = [1.0, 3.0]
KL = [[0.5, 0.1], [0.3, 0.1]]  # per-unit batch means (0.4, 0.1), total 0.5 per example


@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_elbo_loss_is_mean_recon_plus_beta_kl(beta):
    res = ELBO(beta=beta)(_out(RECON, KL), step=0)
    assert res.loss.item() == pytest.approx(2.0 + beta * 0.5)
    assert res.terms["recon"] == pytest.approx(2.0)
    assert res.terms["kl"] == pytest.approx(0.5)  # raw KL, whatever beta is
    assert res.terms["elbo"] == pytest.approx(-2.5)
    assert res.terms["beta"] == beta
    assert res.terms["loss"] == pytest.approx(2.0 + beta * 0.5)
    assert "active_units" in res.terms


def test_elbo_beta_schedule_uses_step():
    obj = ELBO(beta={"kind": "linear", "start": 0.0, "end": 1.0, "steps": 10})
    assert obj(_out(RECON, KL), step=0).loss.item() == pytest.approx(2.0)
    assert obj(_out(RECON, KL), step=5).loss.item() == pytest.approx(2.0 + 0.5 * 0.5)
    assert obj(_out(RECON, KL), step=50).terms["beta"] == 1.0


def test_elbo_averages_multi_sample_recon_over_samples_and_batch():
    recon = [[1.0, 3.0], [3.0, 5.0]]  # (S=2, B=2)
    res = ELBO(beta=1.0)(_out(recon, KL), step=0)
    assert res.loss.item() == pytest.approx(3.0 + 0.5)


def test_elbo_adds_extra_terms():
    res = ELBO(beta=1.0)(_out(RECON, KL, extra={"prop": torch.tensor([1.0, 2.0])}), step=0)
    assert res.loss.item() == pytest.approx(2.5 + 1.5)
    assert res.terms["prop"] == pytest.approx(1.5)


def test_free_bits_floor_value_and_zero_gradient_below_lambda():
    kl = torch.tensor([[0.02, 1.5], [0.08, 0.5]], requires_grad=True)  # unit means 0.05 and 1.0
    out = VAEOutput(recon_nll=torch.tensor(RECON), kl=kl, kl_is_analytic=True, z=torch.zeros(2, 2),
                    posterior=Normal(torch.zeros(2, 2), torch.ones(2, 2)), px=None)
    res = ELBO(beta=2.0, free_bits=0.2)(out, step=0)
    # KL term = max(0.2, 0.05) + max(0.2, 1.0) = 1.2
    assert res.terms["kl_term"] == pytest.approx(1.2)
    assert res.loss.item() == pytest.approx(2.0 + 2.0 * 1.2)
    assert res.terms["kl"] == pytest.approx(1.05)  # logs keep the raw KL
    res.loss.backward()
    assert torch.equal(kl.grad[:, 0], torch.zeros(2))
    assert torch.allclose(kl.grad[:, 1], torch.full((2,), 2.0 / 2))  # beta / B


def test_free_bits_inactive_when_all_units_above_lambda():
    res_fb = ELBO(beta=1.0, free_bits=0.05)(_out(RECON, KL), step=0)
    res = ELBO(beta=1.0)(_out(RECON, KL), step=0)
    assert res_fb.loss.item() == pytest.approx(res.loss.item())


def test_capacity_loss_value_and_gradient_sign_flips_around_c():
    cap = CapacityConfig(target=1.0, gamma=10.0)
    obj = ELBO(beta=123.0, capacity=cap)  # beta is not used with a capacity
    for kl_vals, expected_dev, sign in (([[0.2, 0.3], [0.2, 0.3]], 0.5, -1.0),
                                        ([[1.0, 1.0], [1.0, 1.0]], 1.0, 1.0)):
        kl = torch.tensor(kl_vals, requires_grad=True)
        out = VAEOutput(recon_nll=torch.tensor(RECON), kl=kl, kl_is_analytic=True, z=torch.zeros(2, 2),
                        posterior=Normal(torch.zeros(2, 2), torch.ones(2, 2)), px=None)
        res = obj(out, step=0)
        assert res.loss.item() == pytest.approx(2.0 + 10.0 * expected_dev)
        assert res.terms["capacity"] == 1.0
        res.loss.backward()
        assert torch.allclose(kl.grad, torch.full((2, 2), sign * 10.0 / 2))


def test_capacity_target_schedule_follows_step():
    obj = ELBO(capacity=CapacityConfig(target={"kind": "linear", "start": 0.0, "end": 4.0, "steps": 4}, gamma=2.0))
    out = _out(RECON, KL)  # KL = 0.5 per example
    assert obj(out, step=0).loss.item() == pytest.approx(2.0 + 2.0 * 0.5)
    assert obj(out, step=2).loss.item() == pytest.approx(2.0 + 2.0 * 1.5)
    assert obj(out, step=2).terms["capacity"] == pytest.approx(2.0)


def test_free_bits_with_capacity_is_config_error():
    with pytest.raises(ConfigError, match="free_bits and capacity"):
        ELBO(free_bits=0.1, capacity=CapacityConfig(target=1.0))
    with pytest.raises(ConfigError, match="free_bits and capacity"):
        build_objective(ObjectiveConfig(free_bits=0.1, capacity=CapacityConfig(target=1.0)))


def test_free_bits_with_monte_carlo_kl_is_config_error():
    out = _out(RECON, [[0.3], [0.7]], analytic=False)
    with pytest.raises(ConfigError, match="free_bits"):
        ELBO(free_bits=0.1)(out, step=0)
    # Without free bits a Monte-Carlo KL is fine.
    assert ELBO()(out, step=0).loss.item() == pytest.approx(2.5)


def test_trimmed_elbo_leaves_out_the_worst_explained_examples():
    # Four examples with negative ELBOs 1.5, 3.5, 100.5, 2.5; trim 0.25 drops one: the 100.5.
    recon = torch.tensor([1.0, 3.0, 100.0, 2.0], requires_grad=True)
    kl = torch.full((4, 1), 0.5, requires_grad=True)
    res = ELBO(beta=1.0, trim=0.25)(_out(recon, kl), step=0)
    assert res.loss.item() == pytest.approx((1.0 + 3.0 + 2.0) / 3 + 0.5)
    res.loss.backward()
    assert recon.grad.tolist() == pytest.approx([1 / 3, 1 / 3, 0.0, 1 / 3])  # no gradient from the outlier
    assert kl.grad[2].item() == 0.0
    # Logged terms stay the whole batch's ELBO, so validation is not flattered by trimming.
    assert res.terms["recon"] == pytest.approx(26.5)
    assert res.terms["elbo"] == pytest.approx(-27.0)
    assert res.terms["trimmed"] == 1.0


def test_trimmed_elbo_ranks_multi_sample_examples_by_their_mean_and_floors_the_count():
    recon = torch.tensor([[1.0, 9.0, 2.0], [1.0, 9.0, 2.0]])  # (S=2, B=3): example 1 is the worst
    kl = torch.zeros(3, 2)
    res = ELBO(trim=0.4)(_out(recon, kl), step=0)  # floor(0.4 * 3) = 1 left out
    assert res.loss.item() == pytest.approx(1.5)
    assert ELBO(trim=0.2)(_out(recon, kl), step=0).loss.item() == pytest.approx(4.0)  # floor(0.6) = 0


@pytest.mark.parametrize("kwargs,match", [(dict(free_bits=-0.1), "free_bits"), (dict(n_samples=0), "n_samples"),
                                          (dict(beta="high"), "beta"), (dict(trim=0.5), "trim"),
                                          (dict(trim=-0.1), "trim")])
def test_elbo_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ELBO(**kwargs)


def test_objective_model_kwargs_carry_samples_and_temperature_schedule():
    obj = build_objective(ObjectiveConfig(n_samples=3, temperature={"kind": "exponential", "rate": 0.1}))
    assert obj.model_kwargs(0) == {"n_samples": 3, "temperature": pytest.approx(1.0)}
    assert obj.model_kwargs(1)["temperature"] == pytest.approx(math.exp(-0.1))
    assert obj.model_kwargs(100)["temperature"] == 0.5
    assert "temperature" not in build_objective(ObjectiveConfig()).model_kwargs(0)


# ----------------------------------------------------------------------------- IWAE
def _vector_vae(seed=0):
    info = DataInfo(kind="vector", shape=(4,), likelihood="gaussian")
    cfg = ModelConfig(latent_dim=2, encoder=ComponentConfig("mlp", {"hidden_dims": [8]}),
                      decoder=ComponentConfig("mlp", {"hidden_dims": [8]}),
                      likelihood=ComponentConfig("gaussian", {"scale": 0.5}))
    torch.manual_seed(seed)
    return build_vae(cfg, info).eval()


X = torch.randn(16, 4, generator=torch.Generator().manual_seed(123))


def _avg_iwae(model, batch, k, n_seeds, chunk=0, offset=0):
    vals = []
    for s in range(n_seeds):
        torch.manual_seed(offset + s)
        vals.append(iwae_nll(model, batch, k=k, chunk=chunk))
    return torch.stack(vals).mean().item()


def _avg_neg_elbo(model, batch, n_seeds, offset=10_000):
    vals = []
    with torch.no_grad():
        for s in range(n_seeds):
            torch.manual_seed(offset + s)
            out = model(batch)
            vals.append(out.recon_nll + out.kl.sum(1))
    return torch.stack(vals).mean().item()


def _exact_posterior_vae():
    """q(z|x) = p(z) = N(0, I) and a decoder that ignores z: p(z|x) = q(z|x), so every importance
    weight equals p(x) = N(x; b, I) and the IWAE estimate is exact for every k."""
    model = _vector_vae()
    with torch.no_grad():
        model.head.proj.weight.zero_()
        model.head.proj.bias.zero_()
        model.decoder.net[-1].weight.zero_()
        model.decoder.net[-1].bias.copy_(torch.tensor([0.5, -0.5, 1.0, 0.0]))
    return model


def test_iwae_is_exact_when_posterior_is_exact():
    model = _exact_posterior_vae()
    b = torch.tensor([0.5, -0.5, 1.0, 0.0])
    scale = 0.5  # the likelihood scale of _vector_vae
    exact = (0.5 * ((X - b) / scale) ** 2).sum(1) + 4 * (math.log(scale) + 0.5 * math.log(2 * math.pi))
    for k, chunk in ((1, 0), (10, 0), (100, 0), (100, 30)):
        torch.manual_seed(k)
        assert torch.allclose(iwae_nll(model, Batch(x=X), k=k, chunk=chunk), exact, atol=1e-4)
    torch.manual_seed(0)
    out = model(Batch(x=X))
    assert torch.allclose(out.kl, torch.zeros(16, 2), atol=1e-6)
    assert torch.allclose(out.recon_nll, exact, atol=1e-4)


def test_iwae_nll_shape_and_k_validation():
    model = _vector_vae()
    torch.manual_seed(0)
    nll = iwae_nll(model, Batch(x=X), k=5)
    assert nll.shape == (16,)
    assert torch.isfinite(nll).all()
    with pytest.raises(ConfigError, match="k must be >= 1"):
        iwae_nll(model, Batch(x=X), k=0)


def test_iwae_k1_matches_negative_elbo_in_expectation():
    model = _vector_vae()
    batch = Batch(x=X)
    iw1 = _avg_iwae(model, batch, k=1, n_seeds=100)
    nelbo = _avg_neg_elbo(model, batch, n_seeds=100)
    # Standard error of each average is ~0.05 nats here.
    assert iw1 == pytest.approx(nelbo, abs=0.25)


def test_iwae_tightens_with_k_and_stays_below_negative_elbo():
    model = _vector_vae()
    batch = Batch(x=X)
    nelbo = _avg_neg_elbo(model, batch, n_seeds=60)
    iw1 = _avg_iwae(model, batch, k=1, n_seeds=60)
    iw10 = _avg_iwae(model, batch, k=10, n_seeds=30)
    iw100 = _avg_iwae(model, batch, k=100, n_seeds=30)
    assert iw10 < nelbo
    assert iw100 < nelbo
    assert iw1 > iw10 > iw100
    assert iw1 - iw100 > 0.5  # a clear gap for this random model


def test_iwae_chunked_agrees_with_unchunked_on_average():
    model = _vector_vae()
    batch = Batch(x=X)
    full = _avg_iwae(model, batch, k=20, n_seeds=20, chunk=0)
    chunked = _avg_iwae(model, batch, k=20, n_seeds=20, chunk=7, offset=500)
    one = _avg_iwae(model, batch, k=1, n_seeds=20, offset=900)
    assert chunked == pytest.approx(full, abs=0.1)  # seed-to-seed spread of these averages is ~0.03
    assert chunked < one - 0.5  # the chunks are combined into one k = 20 bound, not averaged


def test_iwae_is_reproducible_with_seed():
    model = _vector_vae()
    torch.manual_seed(5)
    a = iwae_nll(model, Batch(x=X), k=8, chunk=3)
    torch.manual_seed(5)
    b = iwae_nll(model, Batch(x=X), k=8, chunk=3)
    assert torch.equal(a, b)


def test_iwae_finite_for_gumbel_softmax_model():
    info = DataInfo(kind="vector", shape=(6,), likelihood="bernoulli")
    cfg = ModelConfig(encoder=ComponentConfig("mlp", {"hidden_dims": [8]}),
                      head=ComponentConfig("gumbel_softmax", {"n_groups": 2, "n_categories": 3}),
                      decoder=ComponentConfig("mlp", {"hidden_dims": [8]}))
    torch.manual_seed(0)
    model = build_vae(cfg, info).eval()
    x = (torch.rand(5, 6, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    nll = iwae_nll(model, Batch(x=x), k=10, chunk=4)
    assert nll.shape == (5,)
    assert torch.isfinite(nll).all()
    # An exact discrete model: k = 1 is an upper bound on average too.
    assert _avg_iwae(model, Batch(x=x), k=50, n_seeds=5) <= _avg_iwae(model, Batch(x=x), k=1, n_seeds=20) + 0.05


def test_iwae_finite_for_gru_sequence_model():
    info = DataInfo(kind="sequence", shape=(6,), vocab_size=7, pad_id=0, bos_id=1, eos_id=2, unk_id=3,
                    likelihood="categorical")
    cfg = ModelConfig(latent_dim=3, encoder=ComponentConfig("gru", {"embed_dim": 4, "hidden_dim": 6}),
                      decoder=ComponentConfig("gru", {"embed_dim": 4, "hidden_dim": 6}))
    torch.manual_seed(0)
    model = build_vae(cfg, info).eval()
    x = torch.tensor([[4, 5, 6, 2, 0, 0], [5, 2, 0, 0, 0, 0], [4, 4, 4, 4, 5, 2]])
    nll = iwae_nll(model, Batch(x=x, mask=x != 0), k=6, chunk=4)
    assert nll.shape == (3,)
    assert torch.isfinite(nll).all()
    assert (nll > 0).all()  # a categorical likelihood: -log p(x) > 0
