"""The auxiliary-term registry: generic build / forward / prepare, and pre-registry configs and
checkpoints (``model.control``, ``model.recon_losses``, ``model.property_head``) still load."""
from dataclasses import dataclass

import pytest
import torch

from vaekit.core import Batch, ComponentConfig, DataBundle, DataInfo, ModelConfig, build_vae
from vaekit.core.config import from_dict, to_dict
from vaekit.core.errors import ConfigError
from vaekit.core.terms import TERMS, Term

VEC = DataInfo(kind="vector", shape=(6,), y_dim=2, likelihood="gaussian")
IMG = DataInfo(kind="image", shape=(1, 8, 8), y_dim=2, likelihood="bernoulli")
MLP = {"kind": "mlp", "params": {"hidden_dims": [16]}}


@dataclass(frozen=True)
class _ScaleConfig:
    scale: float = 1.0

    def validate(self, path):
        if self.scale <= 0:
            raise ConfigError(f"{path}.scale: must be > 0; got {self.scale}.")


@TERMS.register("_test_norm")
class _NormTerm(Term):
    """``z_norm = scale * |z|^2``; refuses data without targets (to test ``check``)."""

    Config = _ScaleConfig
    prepared = None

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    @classmethod
    def check(cls, cfg, info, model_cfg, where):
        if info.y_dim == 0:
            raise ConfigError(f"{where}: needs targets; got y_dim=0.")

    @classmethod
    def build(cls, cfg, parts, where):
        return cls(cfg.scale)

    def terms(self, vae, batch, out):
        return {"z_norm": self.scale * out.z.pow(2).sum(-1)}

    def prepare(self, data, resources, *, resumed, device="cpu", seed=0, log=None):
        type(self).prepared = (resources, resumed, seed)


def _cfg(terms, **kw):
    return from_dict(ModelConfig, {"latent_dim": 3, "encoder": MLP, "decoder": MLP, "terms": terms, **kw}, "model")


def test_a_registered_term_is_checked_built_and_evaluated_generically():
    torch.manual_seed(0)
    m = build_vae(_cfg([{"kind": "_test_norm", "params": {"scale": 2.0}}]), VEC)
    out = m(Batch(x=torch.randn(4, 6)))
    assert torch.allclose(out.extra["z_norm"], 2.0 * out.z.pow(2).sum(-1))
    assert m.term("_test_norm") is m.terms["_test_norm"] and m.term("property") is None
    with pytest.raises(ConfigError, match=r"model.terms\[0\]: needs targets"):
        build_vae(_cfg([{"kind": "_test_norm"}]), DataInfo(kind="vector", shape=(6,), likelihood="gaussian"))
    with pytest.raises(ConfigError, match=r"model.terms\[0\].params.scale: must be > 0"):
        _cfg([{"kind": "_test_norm", "params": {"scale": -1.0}}])
    with pytest.raises(ConfigError, match=r"model.terms\[0\].params.scael: unknown key.*'scale'"):
        _cfg([{"kind": "_test_norm", "params": {"scael": 1.0}}])


def test_pipeline_prepares_every_term_with_the_domains_resources(tmp_path):
    from vaekit.pipelines.runs import _prepare_terms

    torch.manual_seed(0)
    model = build_vae(_cfg([{"kind": "_test_norm"}]), VEC)

    class Domain:
        def term_resources(self, kind, info):
            return {"asked": kind}

    cfg = type("Cfg", (), {"train": type("T", (), {"seed": 7})()})()
    env = type("Env", (), {"device": "cpu", "is_main": True})()
    _prepare_terms(model, Domain(), DataBundle(None, None, None, VEC, None), cfg, tmp_path, env, print)
    assert _NormTerm.prepared == ({"asked": "_test_norm"}, False, 7)


# ----------------------------------------------------------------------------- legacy configs
LEGACY = {"latent_dim": 3, "encoder": MLP, "decoder": MLP,
          "recon_losses": {"adversarial": {"loss": "non_saturating"}, "perceptual": {"steps": 5}},
          "property_head": {"hidden_dims": [4]}}


def test_an_old_format_model_section_migrates_to_terms_in_the_old_build_order():
    cfg = from_dict(ModelConfig, LEGACY, "model")
    # property, control, perceptual, adversarial: the order the old VAE built and evaluated them
    # in, so the same seed initialises and samples them as before.
    assert [t.kind for t in cfg.terms] == ["property", "perceptual", "adversarial"]
    assert cfg.terms[0].params == {"hidden_dims": [4]} and cfg.terms[1].params == {"steps": 5}
    assert "recon_losses" not in to_dict(cfg) and to_dict(cfg)["terms"][2]["params"] == {"loss": "non_saturating"}
    # As a run directory saved it (every field written, absent sections as null):
    saved = {**LEGACY, "recon_losses": {"perceptual": None, "adversarial": {"discriminator": None, "loss": "hinge"}},
             "control": None, "property_head": None}
    assert [t.kind for t in from_dict(ModelConfig, saved, "model").terms] == ["adversarial"]


def test_old_style_overrides_merge_into_or_remove_a_term():
    base = {"latent_dim": 3, "terms": [{"kind": "control", "params": {"temperature": 0.5, "latent_adversary": [8]}}]}
    merged = from_dict(ModelConfig, {**base, "control": {"temperature": 1.0}}, "model")
    assert merged.terms == (ComponentConfig("control", {"temperature": 1.0, "latent_adversary": [8]}),)
    assert from_dict(ModelConfig, {**base, "control": None}, "model").terms == ()
    with pytest.raises(ConfigError, match=r"model.recon_losses.perceptul: unknown key"):
        from_dict(ModelConfig, {"recon_losses": {"perceptul": {}}}, "model")


# Module prefixes of a checkpoint saved before the registry (vaekit c2beaed), e.g.
# ``recon_losses.critic.weight``, and where those modules live now.
OLD_PREFIXES = {"property_head.": "terms.property.",
                "recon_losses.features_trained": "terms.perceptual.features_trained",
                "recon_losses.features.": "terms.perceptual.features.",
                "recon_losses.discriminator.": "terms.adversarial.discriminator.",
                "recon_losses.critic.": "terms.adversarial.critic."}


def _as_old_checkpoint(state):
    out = {}
    for k, v in state.items():
        old = next((o + k[len(n):] for o, n in OLD_PREFIXES.items() if k.startswith(n)), k)
        out[old] = v
    return out


def test_an_old_checkpoint_loads_strictly_into_the_migrated_model():
    cfg = from_dict(ModelConfig, LEGACY, "model")
    torch.manual_seed(0)
    trained = build_vae(cfg, IMG)
    trained.terms["perceptual"].features_trained.fill_(True)
    old = _as_old_checkpoint(trained.state_dict())
    assert "recon_losses.critic.weight" in old and "property_head.net.0.weight" in old
    torch.manual_seed(1)
    fresh = build_vae(cfg, IMG)
    fresh.load_state_dict(old)  # strict
    for k, v in trained.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k
    assert not fresh.terms["perceptual"].needs_fitting


def test_an_old_checkpoint_without_perceptual_term_drops_its_unused_flag():
    legacy = {**LEGACY, "recon_losses": {"adversarial": {}}}
    cfg = from_dict(ModelConfig, legacy, "model")
    torch.manual_seed(0)
    trained = build_vae(cfg, IMG)
    old = _as_old_checkpoint(trained.state_dict())
    old["recon_losses.features_trained"] = torch.tensor(False)  # the old module always saved it
    fresh = build_vae(cfg, IMG)
    fresh.load_state_dict(old)
    assert torch.equal(fresh.terms["adversarial"].critic.weight, trained.terms["adversarial"].critic.weight)
    # A checkpoint with a term the model lacks still fails by name.
    old["control.classify.weight"] = torch.zeros(2, 2)
    with pytest.raises(RuntimeError, match="terms.control.classify.weight"):
        build_vae(cfg, IMG).load_state_dict(old)
