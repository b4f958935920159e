"""build_vae wiring, the shape convention, conditions, sampling and config errors of the one VAE."""
import pytest
import torch
from torch.distributions import Normal

from vaekit.core import Batch, ComponentConfig, ConditionConfig, DataInfo, ModelConfig, build_vae
from vaekit.core.errors import ConfigError, DataValidationError

B, F, D = 5, 4, 3


def _seed_build(cfg, info, seed=0):
    torch.manual_seed(seed)
    return build_vae(cfg, info)


# ----------------------------------------------------------------------------- builders
VEC = DataInfo(kind="vector", shape=(F,), likelihood="gaussian")
IMG = DataInfo(kind="image", shape=(1, 28, 28), likelihood="bernoulli")
SEQ = DataInfo(kind="sequence", shape=(6,), vocab_size=7, pad_id=0, bos_id=1, eos_id=2, unk_id=3,
               likelihood="categorical")
FLOAT_COND = DataInfo(kind="vector", shape=(F,), cond_dim=3, likelihood="gaussian")
CLASS_COND = DataInfo(kind="vector", shape=(F,), n_cond_classes=4, likelihood="gaussian")


def _mlp_cfg(**kw):
    base = dict(latent_dim=D, encoder=ComponentConfig("mlp", {"hidden_dims": [8]}),
                decoder=ComponentConfig("mlp", {"hidden_dims": [8]}))
    base.update(kw)
    return ModelConfig(**base)


def _vec_model(**kw):
    return _seed_build(_mlp_cfg(**kw), VEC)


def _img_model():
    cfg = ModelConfig(latent_dim=D, encoder=ComponentConfig("conv", {"channels": [2, 4], "hidden_dim": 8}),
                      decoder=ComponentConfig("conv", {"channels": [4, 2]}))
    return _seed_build(cfg, IMG)


def _seq_model(**dec_params):
    cfg = ModelConfig(latent_dim=D, encoder=ComponentConfig("gru", {"embed_dim": 4, "hidden_dim": 6}),
                      decoder=ComponentConfig("gru", {"embed_dim": 4, "hidden_dim": 6, **dec_params}))
    return _seed_build(cfg, SEQ)


SEQ_X = torch.tensor([[4, 5, 6, 2, 0, 0],
                      [5, 2, 0, 0, 0, 0],
                      [4, 4, 4, 4, 5, 2]])
SEQ_MASK = SEQ_X != 0


def _vec_x(n=B, seed=0):
    return torch.randn(n, F, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------------- shapes
def test_vector_mlp_output_shapes():
    model = _vec_model()
    out = model(Batch(x=_vec_x()))
    assert out.recon_nll.shape == (B,)
    assert out.kl.shape == (B, D)
    assert out.z.shape == (B, D)
    assert out.posterior.batch_shape == (B, D)
    assert out.px.batch_shape == (B, F)
    assert out.kl_is_analytic is True
    assert out.n_tokens is None


def test_vector_mlp_multi_sample_shapes():
    model = _vec_model()
    out = model(Batch(x=_vec_x()), n_samples=7)
    assert out.recon_nll.shape == (7, B)
    assert out.z.shape == (7, B, D)
    assert out.kl.shape == (B, D)


def test_multi_sample_recon_rows_match_single_decodes():
    """Row s of recon_nll (S, B) is the NLL of x under z[s] (no mixing of samples and examples)."""
    model = _vec_model().eval()
    x = _vec_x()
    out = model(Batch(x=x), n_samples=3)
    for s in range(3):
        px = model.decode(out.z[s])
        expected = model.decoder.likelihood.nll(px, x)
        assert torch.allclose(out.recon_nll[s], expected, atol=1e-5)


def test_image_conv_output_shapes():
    model = _img_model()
    x = (torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    out = model(Batch(x=x))
    assert out.recon_nll.shape == (2,)
    assert out.kl.shape == (2, D)
    assert out.px.batch_shape == (2, 1, 28, 28)
    out3 = model(Batch(x=x), n_samples=3)
    assert out3.recon_nll.shape == (3, 2)
    assert torch.isfinite(out3.recon_nll).all()


def test_sequence_gru_output_shapes_and_token_counts():
    model = _seq_model()
    out = model(Batch(x=SEQ_X, mask=SEQ_MASK))
    assert out.recon_nll.shape == (3,)
    assert out.kl.shape == (3, D)
    assert out.px.batch_shape == (3, 6)
    assert out.n_tokens.tolist() == [4, 2, 6]
    out2 = model(Batch(x=SEQ_X, mask=SEQ_MASK), n_samples=2)
    assert out2.recon_nll.shape == (2, 3)


# ----------------------------------------------------------------------------- sequences and masks
def test_sequence_recon_ignores_tokens_at_masked_positions():
    model = _seq_model().eval()
    changed = SEQ_X.clone()
    changed[0, 4:] = torch.tensor([5, 6])
    changed[1, 2:] = torch.tensor([4, 5, 6, 4])
    torch.manual_seed(0)
    a = model(Batch(x=SEQ_X, mask=SEQ_MASK))
    torch.manual_seed(0)
    b = model(Batch(x=changed, mask=SEQ_MASK))
    assert torch.allclose(a.recon_nll, b.recon_nll, atol=1e-6)
    assert torch.allclose(a.kl, b.kl, atol=1e-6)  # the encoder ignores them too


def test_sequence_recon_changes_when_a_real_token_changes():
    model = _seq_model().eval()
    changed = SEQ_X.clone()
    changed[0, 1] = 6  # a real token (before <eos>)
    torch.manual_seed(0)
    a = model(Batch(x=SEQ_X, mask=SEQ_MASK))
    torch.manual_seed(0)
    b = model(Batch(x=changed, mask=SEQ_MASK))
    assert not torch.allclose(a.recon_nll[0], b.recon_nll[0])
    assert torch.allclose(a.recon_nll[1:], b.recon_nll[1:], atol=1e-6)


def test_gru_decoder_teacher_forcing_is_causal():
    """Logits at position t depend only on tokens before t (the input is shifted by <bos>)."""
    model = _seq_model().eval()
    z = torch.randn(3, D, generator=torch.Generator().manual_seed(0))
    changed = SEQ_X.clone()
    changed[:, 2] = 6
    la = model.decode(z, x=SEQ_X).logits
    lb = model.decode(z, x=changed).logits
    assert torch.allclose(la[:, :3], lb[:, :3], atol=1e-6)  # positions 0..2 see tokens 0..1 only
    assert not torch.allclose(la[:, 3:], lb[:, 3:])


def test_sequence_recon_without_mask_ignores_padding_like_the_encoder():
    model = _seq_model().eval()
    torch.manual_seed(0)
    a = model(Batch(x=SEQ_X, mask=SEQ_MASK))
    torch.manual_seed(0)
    b = model(Batch(x=SEQ_X))
    assert torch.allclose(a.recon_nll, b.recon_nll, atol=1e-6)


def test_gru_generate_pads_after_eos():
    model = _seq_model()
    for seed in range(3):
        toks = model.sample(8, generator=torch.Generator().manual_seed(seed), sample_x=True)
        assert toks.shape == (8, 6) and toks.dtype == torch.long
        for row in toks.tolist():
            if 2 in row:
                after = row[row.index(2) + 1:]
                assert all(t == 0 for t in after)


# ----------------------------------------------------------------------------- embed / sample / reconstruct
def test_embed_is_deterministic_in_eval_and_train_mode():
    model = _vec_model()
    x = _vec_x()
    model.train()
    e1, e2 = model.embed(x), model.embed(x)
    assert e1.shape == (B, D)
    assert torch.equal(e1, e2)
    model.eval()
    assert torch.equal(model.embed(x), e1)
    assert torch.equal(e1, model.encode(x).loc)


def test_embed_is_deterministic_in_train_mode_with_encoder_dropout():
    model = _vec_model(encoder=ComponentConfig("mlp", {"hidden_dims": [8], "dropout": 0.5, "input_dropout": 0.5}))
    model.train()
    x = _vec_x()
    assert torch.equal(model.embed(x), model.embed(x))


def test_embed_of_gumbel_model_is_one_hot_mode():
    cfg = _mlp_cfg(head=ComponentConfig("gumbel_softmax", {"n_groups": 2, "n_categories": 3}))
    model = _seed_build(cfg, VEC)
    e = model.embed(_vec_x())
    assert e.shape == (B, 6)
    assert torch.equal(e.reshape(B, 2, 3).sum(-1), torch.ones(B, 2))


@pytest.mark.parametrize("make,shape", [(_vec_model, (6, F)), (_img_model, (6, 1, 28, 28)),
                                        (_seq_model, (6, 6))])
def test_sample_is_reproducible_with_generator_and_differs_across_seeds(make, shape):
    model = make()
    kw = dict(sample_x=True) if make is _seq_model else {}
    torch.manual_seed(1)
    a = model.sample(6, generator=torch.Generator().manual_seed(3), **kw)
    torch.manual_seed(2)  # the global RNG does not matter
    b = model.sample(6, generator=torch.Generator().manual_seed(3), **kw)
    c = model.sample(6, generator=torch.Generator().manual_seed(4), **kw)
    assert a.shape == shape
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_sample_x_of_multinomial_model_is_reproducible_with_generator():
    info = DataInfo(kind="vector", shape=(6,), likelihood="multinomial")
    model = _seed_build(_mlp_cfg(), info)
    torch.manual_seed(0)
    a = model.sample(8, generator=torch.Generator().manual_seed(1), sample_x=True)
    torch.manual_seed(1)
    b = model.sample(8, generator=torch.Generator().manual_seed(1), sample_x=True)
    assert torch.equal(a, b)


@pytest.mark.parametrize("make", [_vec_model, _img_model])
def test_sample_x_with_generator_is_reproducible(make):
    model = make()
    torch.manual_seed(0)
    a = model.sample(4, generator=torch.Generator().manual_seed(1), sample_x=True)
    torch.manual_seed(1)
    b = model.sample(4, generator=torch.Generator().manual_seed(1), sample_x=True)
    assert torch.equal(a, b)
    assert not torch.equal(a, model.sample(4, generator=torch.Generator().manual_seed(1)))  # mean differs


def test_sample_of_gumbel_model_decodes_one_hot_prior_codes():
    cfg = _mlp_cfg(head=ComponentConfig("gumbel_softmax", {"n_groups": 2, "n_categories": 3}))
    model = _seed_build(cfg, VEC)
    z = model.sample_prior(10, generator=torch.Generator().manual_seed(0))
    assert z.shape == (10, 6)
    assert torch.equal(z.reshape(10, 2, 3).sum(-1), torch.ones(10, 2))
    assert model.sample(10, generator=torch.Generator().manual_seed(0)).shape == (10, F)


@pytest.mark.parametrize("make,x", [(_vec_model, _vec_x()),
                                    (_img_model, torch.rand(2, 1, 28, 28)),
                                    (_seq_model, SEQ_X)])
def test_reconstruct_returns_data_space_shape(make, x):
    model = make()
    kw = dict(mask=SEQ_MASK) if make is _seq_model else {}
    r = model.reconstruct(x, **kw)
    assert r.shape == x.shape
    if make is _seq_model:
        assert r.dtype == torch.long
    if make is _img_model:
        assert ((r >= 0) & (r <= 1)).all()  # Bernoulli means


# ----------------------------------------------------------------------------- conditional VAEs
def _cvae(info, prior=None, **cond):
    cfg = _mlp_cfg(prior=ComponentConfig(prior) if prior else None, condition=ConditionConfig(embed_dim=5, **cond))
    return _seed_build(cfg, info)


FCOND = torch.randn(B, 3, generator=torch.Generator().manual_seed(9))
CCOND = torch.tensor([0, 1, 2, 3, 1])


@pytest.mark.parametrize("info,cond", [(FLOAT_COND, FCOND), (CLASS_COND, CCOND)])
@pytest.mark.parametrize("prior", [None, "conditional_gaussian"])
def test_cvae_forward_shapes(info, cond, prior):
    model = _cvae(info, prior)
    assert model.conditional
    out = model(Batch(x=_vec_x(), cond=cond))
    assert out.recon_nll.shape == (B,)
    assert out.kl.shape == (B, D)
    assert out.kl_is_analytic is True
    out3 = model(Batch(x=_vec_x(), cond=cond), n_samples=3)
    assert out3.recon_nll.shape == (3, B)
    assert model.sample(B, cond=cond, generator=torch.Generator().manual_seed(0)).shape == (B, F)
    assert model.reconstruct(_vec_x(), cond=cond).shape == (B, F)


def test_cvae_condition_changes_decoder_output():
    model = _cvae(CLASS_COND).eval()
    z = torch.zeros(2, D)
    a = model.decode(z, cond=torch.tensor([0, 0])).mean
    b = model.decode(z, cond=torch.tensor([0, 1])).mean
    assert torch.equal(a[0], b[0])
    assert not torch.allclose(a[1], b[1])


def test_conditional_gaussian_prior_depends_on_condition():
    model = _cvae(CLASS_COND, "conditional_gaussian").eval()
    x = _vec_x(1).repeat(2, 1)  # the same x twice
    torch.manual_seed(0)
    out = model(Batch(x=x, cond=torch.tensor([0, 3])))
    # Same x, different c: the encoder (fed c) and the prior p(z|c) both differ, so the KL does.
    assert not torch.allclose(out.kl[0], out.kl[1])
    p0 = model.prior(1, model.cond_embedder(torch.tensor([0])))
    p3 = model.prior(1, model.cond_embedder(torch.tensor([3])))
    assert isinstance(p0, Normal) and p0.batch_shape == (1, D)
    assert not torch.allclose(p0.loc, p3.loc)


@pytest.mark.parametrize("info,needle", [(FLOAT_COND, "(n, 3)"), (CLASS_COND, "(n,)")])
@pytest.mark.parametrize("prior", [None, "conditional_gaussian"])
def test_sampling_cvae_without_cond_says_what_shape_to_pass(info, needle, prior):
    model = _cvae(info, prior)
    with pytest.raises(DataValidationError) as exc:
        model.sample(4)
    assert needle in str(exc.value)
    assert "cond" in str(exc.value)


def test_single_float_condition_is_broadcast_to_n():
    model = _cvae(FLOAT_COND)
    c = torch.tensor([0.1, -0.2, 0.3])
    a = model.sample(4, cond=c, generator=torch.Generator().manual_seed(0))
    b = model.sample(4, cond=c.expand(4, 3), generator=torch.Generator().manual_seed(0))
    assert a.shape == (4, F)
    assert torch.equal(a, b)


def test_single_float_condition_is_broadcast_when_n_equals_cond_dim():
    model = _cvae(FLOAT_COND)
    c = torch.tensor([0.1, -0.2, 0.3])
    a = model.sample(3, cond=c, generator=torch.Generator().manual_seed(0))
    b = model.sample(3, cond=c.expand(3, 3), generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b)


def test_per_example_conditions_with_cond_dim_one():
    info = DataInfo(kind="vector", shape=(F,), cond_dim=1, likelihood="gaussian")
    model = _cvae(info)
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    per_example = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    a = model.sample(5, cond=per_example, generator=g())
    b = model.sample(5, cond=per_example[:, None], generator=g())
    assert torch.equal(a, b)
    single = model.sample(5, cond=torch.tensor([2.0]), generator=g())
    assert torch.equal(single, model.sample(5, cond=torch.full((5, 1), 2.0), generator=g()))


def test_single_class_condition_is_broadcast_to_n():
    model = _cvae(CLASS_COND, "conditional_gaussian")
    a = model.sample(4, cond=torch.tensor(2), generator=torch.Generator().manual_seed(0))
    b = model.sample(4, cond=torch.full((4,), 2), generator=torch.Generator().manual_seed(0))
    assert a.shape == (4, F)
    assert torch.equal(a, b)


def test_cvae_cond_with_wrong_number_of_rows_is_data_error():
    model = _cvae(FLOAT_COND)
    with pytest.raises(DataValidationError, match="cond has 2 rows but there are 5 examples"):
        model(Batch(x=_vec_x(), cond=FCOND[:2]))


def test_cvae_cond_with_wrong_width_or_class_is_data_error():
    with pytest.raises(DataValidationError, match=r"\(B, 3\)"):
        _cvae(FLOAT_COND)(Batch(x=_vec_x(), cond=torch.randn(B, 2)))
    with pytest.raises(DataValidationError, match=r"\[0, 4\)"):
        _cvae(CLASS_COND)(Batch(x=_vec_x(), cond=torch.tensor([0, 1, 2, 3, 4])))
    with pytest.raises(DataValidationError, match="long class ids"):
        _cvae(CLASS_COND)(Batch(x=_vec_x(), cond=torch.rand(B)))


def test_scalar_cond_outside_sample_is_a_data_error():
    model = _cvae(CLASS_COND)
    with pytest.raises(DataValidationError):
        model.embed(_vec_x(), cond=torch.tensor(1))


def test_non_conditional_model_rejects_cond():
    with pytest.raises(DataValidationError, match="not conditional"):
        _vec_model()(Batch(x=_vec_x(), cond=FCOND))


def test_condition_use_false_builds_unconditional_model():
    model = _cvae(FLOAT_COND, use=False)
    assert not model.conditional
    assert model(Batch(x=_vec_x())).recon_nll.shape == (B,)


def test_condition_only_into_decoder_keeps_encoder_width():
    model = _cvae(FLOAT_COND, into_encoder=False)
    assert model.encoder.net[0].in_features == F
    assert model.decoder.net[0].in_features == D + 5
    assert model(Batch(x=_vec_x(), cond=FCOND)).recon_nll.shape == (B,)


# ----------------------------------------------------------------------------- config errors
def test_temperature_reaches_gumbel_head_through_forward():
    cfg = _mlp_cfg(head=ComponentConfig("gumbel_softmax", {"n_groups": 2, "n_categories": 3}))
    model = _seed_build(cfg, VEC)
    x = _vec_x(64)
    maxes = []
    for tau in (5.0, 0.1):
        torch.manual_seed(0)
        z = model(Batch(x=x), temperature=tau).z
        maxes.append(z.reshape(64, 2, 3).max(-1).values.mean().item())
    assert maxes[0] < maxes[1]


def test_temperature_with_gaussian_head_is_config_error():
    from vaekit.core.objectives import ELBO

    model = _vec_model()
    obj = ELBO(temperature=0.5)
    with pytest.raises(ConfigError, match="temperature"):
        model(Batch(x=_vec_x()), **obj.model_kwargs(0))


def test_gumbel_head_with_standard_normal_prior_is_config_error():
    cfg = _mlp_cfg(head=ComponentConfig("gumbel_softmax", {"n_groups": 2, "n_categories": 3}),
                   prior=ComponentConfig("standard_normal"))
    with pytest.raises(ConfigError, match=r"model\.prior: a categorical latent head needs a categorical prior"):
        build_vae(cfg, VEC)


def test_gaussian_head_with_categorical_prior_is_config_error():
    with pytest.raises(ConfigError, match=r"model\.prior"):
        build_vae(_mlp_cfg(prior=ComponentConfig("uniform_categorical")), VEC)


def test_gru_decoder_on_vector_data_is_config_error():
    with pytest.raises(ConfigError, match=r"model\.decoder\.kind: 'gru' models sequence data but the data is vector.*conv, mlp"):
        build_vae(_mlp_cfg(decoder=ComponentConfig("gru")), VEC)


def test_mlp_decoder_on_sequences_is_config_error():
    cfg = ModelConfig(latent_dim=D, encoder=ComponentConfig("gru", {"embed_dim": 4, "hidden_dim": 6}),
                      decoder=ComponentConfig("mlp", {"hidden_dims": [8]}))
    with pytest.raises(ConfigError, match=r"model\.decoder\.kind: 'mlp' models vector or image data but the data is sequence.*gru, lstm"):
        build_vae(cfg, SEQ)


def test_sequence_with_non_categorical_likelihood_is_config_error():
    cfg = ModelConfig(latent_dim=D, encoder=ComponentConfig("gru"), decoder=ComponentConfig("gru"),
                      likelihood=ComponentConfig("gaussian"))
    with pytest.raises(ConfigError, match=r"model\.likelihood\.kind"):
        build_vae(cfg, SEQ)


@pytest.mark.parametrize("section", ["encoder", "decoder"])
def test_unknown_kind_is_config_error_with_path_and_suggestion(section):
    cfg = _mlp_cfg(**{section: ComponentConfig("mlpp")})
    with pytest.raises(ConfigError) as exc:
        build_vae(cfg, VEC)
    msg = str(exc.value)
    assert f"model.{section}.kind" in msg
    assert "Did you mean 'mlp'?" in msg
    assert "Valid:" in msg


def test_unknown_head_and_prior_kinds_are_config_errors():
    with pytest.raises(ConfigError, match=r"model\.head\.kind: unknown latent head 'gausian'.*'gaussian'"):
        build_vae(_mlp_cfg(head=ComponentConfig("gausian")), VEC)
    with pytest.raises(ConfigError, match=r"model\.prior\.kind: unknown prior"):
        build_vae(_mlp_cfg(prior=ComponentConfig("normal")), VEC)
    with pytest.raises(ConfigError, match=r"model\.likelihood\.kind: unknown likelihood 'bernouli'"):
        build_vae(_mlp_cfg(likelihood=ComponentConfig("bernouli")), VEC)


def test_misspelt_param_is_config_error_with_dotted_path_and_suggestion():
    cfg = _mlp_cfg(encoder=ComponentConfig("mlp", {"hiden_dims": [8]}))
    with pytest.raises(ConfigError) as exc:
        build_vae(cfg, VEC)
    msg = str(exc.value)
    assert "model.encoder.params.hiden_dims" in msg
    assert "Did you mean 'hidden_dims'" in msg
    assert "in_dim" not in msg.split("Valid:")[1]  # wired arguments are not offered to the user


def test_user_param_that_vaekit_wires_is_config_error():
    cfg = _mlp_cfg(head=ComponentConfig("gaussian", {"latent_dim": 7}))
    with pytest.raises(ConfigError, match=r"model\.head\.params\.latent_dim: .*wired"):
        build_vae(cfg, VEC)


def test_conv_encoder_on_vector_data_is_config_error():
    with pytest.raises(ConfigError, match="needs image data"):
        build_vae(_mlp_cfg(encoder=ComponentConfig("conv")), VEC)


@pytest.mark.parametrize("cfg,path", [
    (_mlp_cfg(encoder=ComponentConfig("conv")), "model.encoder"),
    (_mlp_cfg(prior=ComponentConfig("conditional_gaussian")), "model.prior"),
    (_mlp_cfg(decoder=ComponentConfig("mlp", {"hidden_dims": [8]}),
              likelihood=ComponentConfig("gaussian", {"learn_scale": "perdim"})), "model.likelihood.params"),
])
def test_constructor_config_errors_name_the_dotted_path(cfg, path):
    with pytest.raises(ConfigError) as exc:
        build_vae(cfg, VEC)
    assert path in str(exc.value)


def test_conditional_prior_without_condition_is_config_error():
    with pytest.raises(ConfigError, match="conditional"):
        build_vae(_mlp_cfg(prior=ComponentConfig("conditional_gaussian")), VEC)


def test_model_config_rejects_non_positive_latent_dim():
    with pytest.raises(ConfigError, match=r"model\.latent_dim"):
        ModelConfig(latent_dim=0).validate()


# ----------------------------------------------------------------------------- input-dependent priors
from vaekit.core.priors import PRIORS, Prior  # noqa: E402


@PRIORS.register("_test_posterior_prior")
class _PosteriorPrior(Prior):
    """A prior that is the (detached) posterior of the live encoder and head: needs x."""

    needs_input = True

    def __init__(self, latent_dim: int, encoder, head):
        super().__init__()
        self.seen = []
        # Kept out of the module tree so the state dict has no second copy of the encoder.
        self._live = (encoder, head)

    def forward(self, batch_size, cond=None, x=None):
        self.seen.append(x)
        encoder, head = self._live
        q = head.posterior(encoder(x, None, None))
        return Normal(q.loc.detach(), q.scale.detach(), validate_args=False)


def test_input_dependent_prior_is_wired_the_live_modules_and_called_with_the_input():
    m = _vec_model(prior=ComponentConfig("_test_posterior_prior"))
    assert m.prior._live == (m.encoder, m.head)
    x = _vec_x()
    out = m(Batch(x=x))
    assert m.prior.seen[-1] is x
    # KL(q || q.detach()) is zero: the prior really is this input's posterior.
    assert torch.allclose(out.kl.sum(-1), torch.zeros(B), atol=1e-6)
    lw = m.log_importance_weights(Batch(x=x), k=3)
    assert lw.shape == (3, B) and m.prior.seen[-1] is x


def test_sampling_an_input_dependent_prior_is_a_config_error():
    m = _vec_model(prior=ComponentConfig("_test_posterior_prior"))
    with pytest.raises(ConfigError, match="depends on the input.*reconstruct"):
        m.sample(4)
    assert m.generate(torch.zeros(2, D)).shape == (2, F)


def test_user_cannot_set_the_wired_encoder_of_a_prior():
    with pytest.raises(ConfigError, match="model.prior.params.encoder: .*wired"):
        _mlp_cfg(prior=ComponentConfig("_test_posterior_prior", {"encoder": "x"})).validate()
