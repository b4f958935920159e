"""The gated PixelCNN decoder: causal (no pixel sees itself or later pixels), no blind spot,
the receptive field it claims, and a VLAE (AF prior + local PixelCNN) as a config."""
import pytest
import torch

from vaekit.core import Batch, ComponentConfig, DataInfo, ModelConfig, build_vae
from vaekit.core.errors import ConfigError, DataValidationError
from vaekit.core.likelihoods import BernoulliLikelihood, GaussianLikelihood
from vaekit.core.objectives import ELBO
from vaekit.core.pixelcnn import PixelCNNDecoder

H = W = 9


def _dependencies(dec, i, j):
    torch.manual_seed(0)
    x = torch.rand(1, 1, H, W, requires_grad=True)
    logits = dec._logits(x, dec._cond_map(torch.randn(1, 4), None))
    g, = torch.autograd.grad(logits[0, 0, i, j], x)
    return g[0, 0].abs() > 0


@pytest.mark.parametrize("n_layers,k", [(1, 3), (3, 3), (2, 5)])
def test_causal_without_blind_spot_and_with_the_stated_receptive_field(n_layers, k):
    torch.manual_seed(0)
    dec = PixelCNNDecoder(4, (1, H, W), BernoulliLikelihood(), channels=8, n_layers=n_layers, kernel_size=k,
                          cond_channels=4)
    i, j = 6, 5
    dep = _dependencies(dec, i, j)
    # causal: nothing at or after (i, j) in raster order
    assert not any(dep[a, b] for a in range(H) for b in range(W) if a * W + b >= i * W + j)
    rf = dec.receptive_field
    assert rf == n_layers * (k // 2) + 1
    # no blind spot: every pixel of the window above and to the left is seen
    for a in range(max(0, i - rf), i):
        for b in range(max(0, j - rf + 1), min(W, j + rf)):
            if abs(b - j) <= (i - a - 1) * (k // 2) + k // 2:
                assert dep[a, b], (a, b)
    assert all(dep[i, b] for b in range(max(0, j - rf), j))
    # and nothing beyond the receptive field
    assert not dep[: max(0, i - rf)].any()
    assert not dep[i, : max(0, j - rf)].any()


def test_generate_is_deterministic_greedy_or_seeded_sampling():
    torch.manual_seed(0)
    dec = PixelCNNDecoder(4, (1, 6, 6), BernoulliLikelihood(), channels=8, n_layers=2)
    z = torch.randn(3, 4)
    a, b = dec.generate(z), dec.generate(z)
    assert a.shape == (3, 1, 6, 6) and torch.equal(a, b) and set(a.unique().tolist()) <= {0.0, 1.0}
    s1 = dec.generate(z, generator=torch.Generator().manual_seed(1), sample=True)
    s2 = dec.generate(z, generator=torch.Generator().manual_seed(1), sample=True)
    assert torch.equal(s1, s2)
    # greedy decoding is the argmax of each conditional given the pixels decoded before it
    p = torch.sigmoid(dec._logits(a, dec._cond_map(z, None)))
    assert torch.equal((p > 0.5).float(), a)


def test_bad_configurations():
    with pytest.raises(ConfigError, match="bernoulli"):
        PixelCNNDecoder(4, (1, 6, 6), GaussianLikelihood())
    with pytest.raises(ConfigError, match="odd"):
        PixelCNNDecoder(4, (1, 6, 6), BernoulliLikelihood(), kernel_size=4)
    with pytest.raises(ConfigError, match=r"\(C, H, W\)"):
        PixelCNNDecoder(4, (36,), BernoulliLikelihood())
    info = DataInfo(kind="vector", shape=(36,), likelihood="bernoulli")
    with pytest.raises(ConfigError, match="models image data.*Use one of"):
        build_vae(ModelConfig(latent_dim=2, decoder=ComponentConfig("pixelcnn")), info)
    dec = PixelCNNDecoder(4, (1, 6, 6), BernoulliLikelihood())
    with pytest.raises(DataValidationError, match="teacher forcing"):
        dec(torch.randn(2, 4))


def test_vlae_is_a_config_and_trains():
    info = DataInfo(kind="image", shape=(1, 8, 8), likelihood="bernoulli")
    cfg = ModelConfig(latent_dim=4, encoder=ComponentConfig("mlp", {"hidden_dims": [32]}),
                      decoder=ComponentConfig("pixelcnn", {"channels": 8, "n_layers": 2, "cond_channels": 4}),
                      prior=ComponentConfig("autoregressive_flow", {"n_flows": 1, "hidden_dims": [16]}))
    torch.manual_seed(0)
    model = build_vae(cfg, info)
    x = (torch.rand(16, 1, 8, 8) < 0.3).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(25):
        lo = ELBO()(model(Batch(x=x)), 0)
        first = first if first is not None else lo.loss.item()
        opt.zero_grad()
        lo.loss.backward()
        opt.step()
    assert lo.loss.item() < first
    assert model.sample(2, generator=torch.Generator().manual_seed(0)).shape == (2, 1, 8, 8)
