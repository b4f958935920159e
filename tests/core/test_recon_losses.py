"""Perceptual and adversarial reconstruction terms: gradients reach only what they should."""
from types import SimpleNamespace

import pytest
import torch

from vaekit.core import Batch, ComponentConfig, DataInfo, ModelConfig, build_vae
from vaekit.core.config import from_dict
from vaekit.core.errors import ConfigError
from vaekit.core.objectives import ELBO

IMG = DataInfo(kind="image", shape=(1, 8, 8), likelihood="bernoulli")


def _model(perceptual=True, adversarial=True, loss="hinge", info=IMG):
    torch.manual_seed(0)
    terms = ([ComponentConfig("perceptual", {"steps": 30, "batch_size": 16})] if perceptual else []) + \
        ([ComponentConfig("adversarial", {"loss": loss})] if adversarial else [])
    cfg = ModelConfig(latent_dim=3, encoder=ComponentConfig("mlp", {"hidden_dims": [32]}),
                      decoder=ComponentConfig("mlp", {"hidden_dims": [32]}), terms=tuple(terms))
    return build_vae(cfg, info)


def _data(n=64):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.zeros(n, 1, 8, 8)
    x[y == 0, :, 2:4, :] = 1  # class 0: a horizontal bar, class 1: a vertical bar
    x[y == 1, :, :, 2:4] = 1
    return x, y


def _fit(model, x, y):
    def batches():
        while True:
            for i in range(0, len(x), 16):
                yield Batch(x=x[i:i + 16], y=y[i:i + 16])
    return model.terms["perceptual"].fit_features(batches, 2, 64, seed=0)


def test_feature_network_is_trained_then_frozen_and_must_be_trained_first():
    model = _model(adversarial=False)
    x, y = _data()
    with pytest.raises(ConfigError, match="untrained"):
        model(Batch(x=x))
    res = _fit(model, x, y)
    assert res["feature_acc"] > 0.9 and not model.terms["perceptual"].needs_fitting
    assert all(not p.requires_grad for p in model.terms["perceptual"].features.parameters())
    out = model(Batch(x=x))
    assert out.extra["perceptual"].shape == (64,) and bool((out.extra["perceptual"] >= 0).all())
    # the trained flag is state: a resumed run does not retrain
    fresh = _model(adversarial=False)
    fresh.load_state_dict(model.state_dict())
    assert not fresh.terms["perceptual"].needs_fitting


def test_perceptual_term_is_zero_for_a_perfect_reconstruction():
    model = _model(adversarial=False)
    x, y = _data()
    _fit(model, x, y)
    perfect = SimpleNamespace(likelihood=SimpleNamespace(mean=lambda px: px))  # a decoder whose mean is x
    out = SimpleNamespace(px=x.clone())
    got = model.terms["perceptual"].terms(SimpleNamespace(decoder=perfect), Batch(x=x), out)["perceptual"]
    assert torch.allclose(got, torch.zeros(64), atol=1e-6)


@pytest.mark.parametrize("loss", ["hinge", "non_saturating"])
def test_adversarial_terms_train_each_side_only(loss):
    model = _model(perceptual=False, loss=loss)
    x, _ = _data()
    out = model(Batch(x=x))
    adv = model.terms["adversarial"]
    disc = list(adv.discriminator.parameters()) + list(adv.critic.parameters())
    gen = list(model.decoder.parameters())
    g_disc = torch.autograd.grad(out.extra["adv_disc"].mean(), disc + gen, allow_unused=True)
    assert all(g is not None for g in g_disc[:len(disc)])
    assert all(g is None or g.abs().sum() == 0 for g in g_disc[len(disc):])  # D learns from x_hat detached
    out = model(Batch(x=x))
    g_gen = torch.autograd.grad(out.extra["adv_gen"].mean(), disc + gen, allow_unused=True)
    assert all(g is None or g.abs().sum() == 0 for g in g_gen[:len(disc)])  # frozen D in the generator term
    assert any(g is not None and g.abs().sum() > 0 for g in g_gen[len(disc):])
    lo = ELBO(weights={"adv_gen": 0.5})(model(Batch(x=x)), 0)
    assert lo.terms["w/adv_gen"] == 0.5 and "adv_disc" in lo.terms


def test_config_errors():
    with pytest.raises(ConfigError, match=r"model.recon_losses: expected a mapping"):
        from_dict(ModelConfig, {"recon_losses": 3}, "model")
    with pytest.raises(ConfigError, match=r"model.terms\[0\].params.loss: must be one of"):
        from_dict(ModelConfig, {"terms": [{"kind": "adversarial", "params": {"loss": "wgan"}}]}, "model")
    seq = DataInfo(kind="sequence", shape=(6,), vocab_size=7, pad_id=0, bos_id=1, eos_id=2, unk_id=3,
                   likelihood="categorical")
    with pytest.raises(ConfigError, match="continuous"):
        build_vae(ModelConfig(latent_dim=2, encoder=ComponentConfig("gru"), decoder=ComponentConfig("gru"),
                              terms=(ComponentConfig("adversarial"),)), seq)
    model = _model(adversarial=False)
    with pytest.raises(ConfigError, match="autoencoder"):
        model.terms["perceptual"].fit_features(lambda: iter([]), 0, 64)
    vec = DataInfo(kind="vector", shape=(10,), likelihood="gaussian")
    m = _model(info=vec)  # vectors get an mlp feature network and discriminator by default
    assert type(m.terms["perceptual"].features).__name__ == "MLPEncoder"
    assert type(m.terms["adversarial"].discriminator).__name__ == "MLPEncoder"


def test_prepare_installs_the_domains_network_or_trains_one_on_a_fresh_run():
    from vaekit.core import DataBundle
    from vaekit.core.data import ArrayDataset, collate_arrays

    x, y = _data()
    own = _model(adversarial=False).terms["perceptual"].features
    model = _model(adversarial=False)
    term = model.terms["perceptual"]
    term.prepare(None, {"features": own}, resumed=False)
    assert term.features is own and not term.needs_fitting and not any(p.requires_grad for p in own.parameters())
    resumed = _model(adversarial=False).terms["perceptual"]
    resumed.prepare(None, {}, resumed=True)  # the checkpoint restores the trained network
    assert resumed.needs_fitting and not any(p.requires_grad for p in resumed.features.parameters())
    fresh = _model(adversarial=False).terms["perceptual"]
    data = DataBundle(ArrayDataset(x, y=y), None, None, IMG, collate_arrays)
    fresh.prepare(data, {}, resumed=False, seed=0)
    assert not fresh.needs_fitting
