"""RecVAE as a configuration of the core VAE: its encoder and composite prior kinds, the
packaged recsys:recvae config through train -> evaluate, and the facade's training."""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

pytest.importorskip("pandas")
pytest.importorskip("scipy.sparse")

import torch  # noqa: E402

from vaekit.core.errors import ConfigError  # noqa: E402
from vaekit.core.heads import GaussianHead  # noqa: E402
from vaekit.core.types import Batch  # noqa: E402
from vaekit.core.vae import build_vae  # noqa: E402
from vaekit.domains.recsys import (RecVAERecommender, ndcg_at_k, strong_generalization_split,  # noqa: E402
                                   synthetic_interactions)
from vaekit.domains.recsys.models import click_info  # noqa: E402
from vaekit.domains.recsys.recvae import CompositePrior, RecVAEEncoder  # noqa: E402
from vaekit.pipelines import evaluate_run, load_config, train_run  # noqa: E402

TINY = ["data.path=null", "data.synthetic_users=400", "data.synthetic_items=120", "data.n_heldout_users=40",
        "model.latent_dim=16", "model.encoder.params.hidden_dim=64", "train.batch_size=80", "fit.epochs=40",
        "train.lr=0.005", "train.progress=false", "eval.mi_examples=40"]


def _prior(n_items=5, hidden=8, latent=1):
    enc = RecVAEEncoder(n_items, hidden_dim=hidden)
    return CompositePrior(latent, enc, GaussianHead(hidden, latent)), enc


def test_the_composite_prior_is_a_normalised_mixture():
    torch.manual_seed(0)
    prior, _ = _prior()
    x = torch.tensor([[1.0, 0, 1, 0, 0]])
    z = torch.linspace(-1200, 1200, 2_400_001)[:, None]  # the wide component has std e^5 = 148
    dens = prior(len(z), x=x.expand(len(z), 5)).log_prob(z).exp().squeeze(1)
    assert torch.trapezoid(dens, z.squeeze(1)).item() == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ConfigError, match="mixture_weights: needs 3 positive weights"):
        CompositePrior(1, *_prior()[0].old.children(), mixture_weights=(0.5, 0.5, 0.5))


def test_the_kl_is_log_q_minus_the_composite_log_prior_as_in_the_reference_code():
    torch.manual_seed(0)
    cfg = load_config("recsys:recvae", ["model.latent_dim=4", "model.encoder.params.hidden_dim=16"])
    model = build_vae(cfg.model, click_info(30)).eval()
    x = (torch.rand(6, 30) < 0.3).float()
    out = model(Batch(x=x))
    mu, sd = out.posterior.loc, out.posterior.scale
    with torch.no_grad():
        q_old = model.prior.old.head.posterior(model.prior.old.encoder(x))

    def log_normal(z, m, logvar):  # recvae.py before the redesign, verbatim
        return -0.5 * (logvar + math.log(2 * math.pi) + (z - m).pow(2) / logvar.exp())

    z = out.z
    zero = torch.zeros_like(z)
    comps = torch.stack([log_normal(z, zero, zero), log_normal(z, q_old.loc, 2 * q_old.scale.log()),
                         log_normal(z, zero, zero + 10.0)], dim=-1)
    log_p = torch.logsumexp(comps + torch.log(torch.tensor([3 / 20, 3 / 4, 1 / 10])), dim=-1)
    ref = (log_normal(z, mu, 2 * sd.log()) - log_p).sum(-1)
    assert not out.kl_is_analytic and out.kl.shape == (6, 1)
    assert torch.allclose(out.kl[:, 0], ref, atol=1e-4)
    with pytest.raises(ConfigError, match="depends on the input"):
        model.sample(2)


def test_q_old_is_frozen_in_eval_mode_and_refreshed_only_after_the_encoder_phase():
    torch.manual_seed(0)
    cfg = load_config("recsys:recvae", ["model.latent_dim=4", "model.encoder.params.hidden_dim=16"])
    model = build_vae(cfg.model, click_info(30)).train()
    old = model.prior.old
    assert not old.training and not any(p.requires_grad for p in old.parameters())
    assert isinstance(model.encoder, RecVAEEncoder) and model.prior.needs_input
    assert [type(m).__name__ for m in model.decoder.net.modules() if len(list(m.children())) == 0] == ["Linear"]
    with torch.no_grad():
        model.encoder.fcs[0].weight.add_(1.0)
    model.prior.on_phase_end("decoder")
    assert not torch.equal(old.encoder.fcs[0].weight, model.encoder.fcs[0].weight)
    model.prior.on_phase_end("encoder")
    assert torch.equal(old.encoder.fcs[0].weight, model.encoder.fcs[0].weight)
    assert torch.equal(old.head.proj.weight, model.head.proj.weight)
    # the copy is state, so checkpoints carry it (exact resume)
    assert any(k.startswith("prior.old.encoder.") for k in model.state_dict())
    assert not any(k.startswith("prior._live") for k in model.state_dict())


def test_recsys_recvae_trains_with_its_phase_plan_and_evaluates(tmp_path):
    run_dir = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = train_run(load_config("recsys:recvae", TINY), run_dir, resume="never", log=lambda m: None)
        res = evaluate_run(run_dir)
    recs = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    # fit.epochs 40 = 10 rounds of 3 encoder + 1 decoder passes; validation after each round
    vals = [r["step"] for r in recs if r["split"] == "val"]
    per_pass = vals[0] // 4
    assert vals[0] % 4 == 0 and vals == [4 * per_pass * (i + 1) for i in range(10)]
    assert summary["best_step"] in vals
    assert {r["phase"] for r in recs if r["split"] == "train"} == {"encoder", "decoder"}
    assert res["rank/ndcg@100"] > res["baseline/popularity_ndcg@100"]


def test_the_facade_trains_ranks_better_than_popularity():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = strong_generalization_split(synthetic_interactions(n_users=600, n_items=150, seed=3), 60)
    rec = RecVAERecommender(hidden_dim=64, latent_dim=16, epochs=10, lr=5e-3, batch_size=100, random_state=0).fit(
        split.train.matrix, X_val=split.val_foldin.matrix, X_val_target=split.val_target.matrix)
    new, target = split.test_foldin.matrix, split.test_target.matrix
    s = rec.predict_scores(new)
    pop = np.asarray(split.train.matrix.sum(0)).ravel()[None, :].repeat(new.shape[0], 0)
    assert ndcg_at_k(s, target, 50, exclude=new) > ndcg_at_k(pop, target, 50, exclude=new)

