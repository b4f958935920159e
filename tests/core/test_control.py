"""Attribute control (Hu et al. 2017): relaxed decoding, soft-token encoders, term isolation."""
from types import SimpleNamespace

import pytest
import torch

from vaekit.core import Batch, ConfigError, DataInfo, ELBO, ModelConfig, build_vae
from vaekit.core.config import from_dict
from vaekit.core.encoders import GRUEncoder, LSTMEncoder, TextCNNEncoder
from vaekit.core.nn import embed_tokens

V = 30
INFO = DataInfo(kind="sequence", shape=(12,), vocab_size=V, pad_id=0, bos_id=1, eos_id=2, unk_id=3,
                n_cond_classes=2, likelihood="categorical")


def _model(cell="gru", **control):
    control = {"discriminator": {"kind": "cnn", "params": {"n_filters": 8, "embed_dim": 16}}, **control}
    cfg = from_dict(ModelConfig, {
        "latent_dim": 8, "encoder": {"kind": cell, "params": {"hidden_dim": 32, "embed_dim": 16}},
        "decoder": {"kind": cell, "params": {"hidden_dim": 32, "embed_dim": 16}},
        "condition": {"into_encoder": False}, "terms": [{"kind": "control", "params": control}]}, "model")
    torch.manual_seed(0)
    return build_vae(cfg, INFO)


def _batch():
    g = torch.Generator().manual_seed(1)
    x = torch.randint(4, V, (6, 7), generator=g)
    x[0, 4:] = 0
    x[1, 5:] = 0
    return Batch(x=x, mask=x != 0, cond=torch.tensor([0, 1, 0, 1, 1, 0]))


def _grad_norm(module):
    return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)


def test_soft_one_hot_embeds_like_ids():
    emb = torch.nn.Embedding(V, 5)
    ids = torch.randint(0, V, (3, 4))
    onehot = torch.nn.functional.one_hot(ids, V).float()
    assert torch.allclose(embed_tokens(emb, onehot), emb(ids), atol=1e-6)


@pytest.mark.parametrize("enc", [GRUEncoder(V, embed_dim=8, hidden_dim=8), LSTMEncoder(V, embed_dim=8, hidden_dim=8),
                                 TextCNNEncoder(V, embed_dim=8, n_filters=4)])
def test_encoders_read_soft_tokens_as_ids(enc):
    enc.eval()
    x = torch.randint(4, V, (3, 6))
    mask = torch.ones_like(x, dtype=torch.bool)
    mask[0, 3:] = False
    x = x.masked_fill(~mask, 0)
    soft = torch.nn.functional.one_hot(x, V).float()
    assert torch.allclose(enc(x, None, mask), enc(soft, None, mask), atol=1e-5)


def test_cnn_ignores_padding_and_handles_short_input():
    enc = TextCNNEncoder(V, embed_dim=8, widths=(3, 5), n_filters=4).eval()
    x = torch.tensor([[5, 6, 2, 0, 0, 0, 0]])
    assert torch.allclose(enc(x), enc(x[:, :3]), atol=1e-6)  # shorter than the widest filter
    assert enc(torch.tensor([[5]])).shape == (1, 8)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_relaxed_generate_is_differentiable_and_normalised(cell):
    m = _model(cell)
    z = torch.randn(4, 8, requires_grad=True)
    c = m.cond_embedder(torch.tensor([0, 1, 0, 1]))
    soft = m.decoder.relaxed_generate(z, c, steps=5, temperature=0.5)
    assert soft.shape == (4, 5, V)
    assert torch.allclose(soft.sum(-1), torch.ones(4, 5), atol=1e-5)
    soft[..., 7].sum().backward()
    assert z.grad.abs().sum() > 0
    hard = m.decoder.relaxed_generate(z.detach(), c, steps=5, temperature=0.5, hard=True, gumbel=False)
    assert set(hard.detach().unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_control_terms_and_gradient_isolation(cell):
    m = _model(cell, latent_adversary=[16])
    out = m(_batch())
    assert set(out.extra) == {"disc_loss", "style_loss", "z_recon", "adv_loss", "adv_entropy"}
    assert all(v.shape == (6,) for v in out.extra.values())
    assert float(out.extra["adv_entropy"].detach().min()) >= -1e-6  # KL to uniform is >= 0
    # style loss: reaches the decoder (through the soft tokens), never the discriminator
    out.extra["style_loss"].mean().backward(retain_graph=True)
    assert _grad_norm(m.decoder) > 0 and _grad_norm(m.cond_embedder) > 0
    assert _grad_norm(m.terms["control"].discriminator) == 0 and _grad_norm(m.terms["control"].classify) == 0
    assert _grad_norm(m.encoder) == 0  # detach_z: generation terms do not train the encoder
    m.zero_grad()
    # discriminator loss: the discriminator only
    out.extra["disc_loss"].mean().backward(retain_graph=True)
    assert _grad_norm(m.terms["control"].discriminator) > 0
    assert _grad_norm(m.decoder) == 0 and _grad_norm(m.encoder) == 0
    m.zero_grad()
    # z reconstruction: the generator, not the (frozen) encoder that judges it (z given as a leaf)
    b = _batch()
    z = torch.randn(6, 8)
    terms = m.terms["control"].terms(m, b, SimpleNamespace(z=z))
    terms["z_recon"].mean().backward()
    assert _grad_norm(m.decoder) > 0 and _grad_norm(m.head) == 0 and _grad_norm(m.encoder) == 0
    m.zero_grad()
    # adversary: trained on detached z; the entropy term trains the encoder, not the adversary
    out.extra["adv_loss"].mean().backward(retain_graph=True)
    assert _grad_norm(m.terms["control"].adversary) > 0 and _grad_norm(m.encoder) == 0
    m.zero_grad()
    out.extra["adv_entropy"].mean().backward()
    assert _grad_norm(m.encoder) > 0 and _grad_norm(m.terms["control"].adversary) == 0


def test_detach_z_false_lets_generation_terms_reach_the_encoder():
    m = _model(detach_z=False)
    m(_batch()).extra["style_loss"].mean().backward()
    assert _grad_norm(m.encoder) > 0


def test_target_is_another_class():
    m = _model()
    c = torch.tensor([0, 1] * 50)
    assert bool((m.terms["control"].target_classes(c) != c).all())


def test_objective_weights_scale_extra_terms():
    m = _model()
    torch.manual_seed(0)
    out = m(_batch())
    base = ELBO()(out, 0)
    half = ELBO(weights={"style_loss": 0.5, "disc_loss": {"kind": "linear", "start": 0, "end": 1, "steps": 10}})(out, 5)
    diff = base.terms["loss"] - half.terms["loss"]
    expect = 0.5 * base.terms["style_loss"] + 0.5 * base.terms["disc_loss"]
    assert diff == pytest.approx(expect, rel=1e-5)
    assert half.terms["w/disc_loss"] == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="style_los.*Did you mean 'style_loss'"):
        ELBO(weights={"style_los": 1.0})(out, 0)


def test_control_needs_class_condition_and_soft_encoder():
    info = DataInfo(kind="sequence", shape=(12,), vocab_size=V, pad_id=0, bos_id=1, eos_id=2, unk_id=3,
                    likelihood="categorical")
    cfg = from_dict(ModelConfig, {"encoder": {"kind": "gru"}, "decoder": {"kind": "gru"},
                                  "terms": [{"kind": "control"}]}, "model")
    with pytest.raises(ConfigError, match=r"model.terms\[0\]: attribute control needs a class condition"):
        build_vae(cfg, info)
    with pytest.raises(ConfigError, match=r"model.terms\[0\].params.temperature"):
        from_dict(ModelConfig, {"terms": [{"kind": "control", "params": {"temperature": 0}}]}, "model").validate()
    with pytest.raises(ConfigError, match=r"model.terms\[0\].params.discriminator.params.widht"):
        from_dict(ModelConfig, {"terms": [{"kind": "control", "params": {
            "discriminator": {"kind": "cnn", "params": {"widht": 3}}}}]}, "model").validate()
    with pytest.raises(ConfigError, match=r"model.terms\[0\].params.z_recon: the encoder must read soft tokens"):
        build_vae(from_dict(ModelConfig, {"encoder": {"kind": "mlp"}, "decoder": {"kind": "gru"}, "terms": [
            {"kind": "control"}]}, "model"), INFO)
    with pytest.raises(ConfigError, match=r"model.terms\[1\].kind: the term 'control' is already"):
        from_dict(ModelConfig, {"terms": [{"kind": "control"}, {"kind": "control"}]}, "model")
    with pytest.raises(ConfigError, match=r"model.terms\[0\].kind: unknown model term 'contrl'.*'control'"):
        from_dict(ModelConfig, {"terms": [{"kind": "contrl"}]}, "model")
