"""Mult-VAE / Mult-DAE facades over recsys:multvae / recsys:multdae: the arguments map onto the
packaged configs, and `vaekit train` of the facade's run config trains the very model the
facade fits on the same users (tensor-equal weights)."""
from __future__ import annotations

import json
import warnings

import pytest

pytest.importorskip("scipy.sparse")
torch = pytest.importorskip("torch")

from vaekit.core.errors import ConfigError  # noqa: E402
from vaekit.domains.recsys import MultDAERecommender, MultVAERecommender  # noqa: E402
from vaekit.domains.recsys.models import liang_beta  # noqa: E402
from vaekit.pipelines import load_config, load_run, train_run  # noqa: E402
from vaekit.pipelines.config import config_from_dict  # noqa: E402


def test_run_config_is_the_packaged_one_with_the_arguments_applied():
    assert config_from_dict(MultVAERecommender().run_config()) == load_config("recsys:multvae")
    assert config_from_dict(MultDAERecommender().run_config()) == load_config("recsys:multdae")
    cfg = MultVAERecommender(hidden_dims=(64, 32), latent_dim=8, dropout=0.2, epochs=3, verbose=1).run_config()
    assert cfg["model"]["encoder"]["params"]["hidden_dims"] == [64, 32]
    assert cfg["model"]["decoder"]["params"]["hidden_dims"] == [32, 64]  # mirrored
    assert (cfg["model"]["latent_dim"], cfg["model"]["encoder"]["params"]["input_dropout"]) == (8, 0.2)
    assert cfg["fit"]["epochs"] == 3 and cfg["train"]["progress"] is True
    assert cfg["objective"] == MultVAERecommender().packaged_config()["objective"]  # beta untouched


def test_kl_schedule_arguments():
    assert MultVAERecommender(total_anneal_steps=5600).run_config()["objective"]["beta"] == liang_beta(0.2, 5600)
    assert MultVAERecommender(beta_cap=1.0).run_config()["objective"]["beta"] == liang_beta(1.0, 200_000)
    assert MultDAERecommender().run_config()["objective"]["beta"] == 0.0
    assert MultDAERecommender(total_anneal_steps=10).run_config()["objective"]["beta"] == 0.0
    assert MultDAERecommender(beta_cap=0.2, total_anneal_steps=100).param("total_anneal_steps") == 100
    with pytest.raises(ConfigError, match=r"MultDAERecommender\(total_anneal_steps=...\).*constant KL weight"):
        MultDAERecommender(beta_cap=0.2).run_config()


def test_vaekit_train_of_the_facades_config_trains_the_facades_model(tmp_path):
    rec = MultVAERecommender(hidden_dims=(32,), latent_dim=8, epochs=4, batch_size=100, random_state=3)
    overrides = ["data.synthetic_users=400", "data.synthetic_items=120", "data.n_heldout_users=40",
                 "eval.mi_examples=60"]
    # the facade's arguments as `vaekit train recsys:multvae --set KEY=VALUE ...` would give them
    sets = [f"{k}={json.dumps(v)}" for k, v in rec.config_overrides().items()]
    cfg = load_config("recsys:multvae", overrides + sets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train_run(cfg, tmp_path / "run", resume="never", log=lambda m: None)
        _, domain, model, _, _ = load_run(tmp_path / "run", device="cpu")
        data = domain.load_data(cfg.data_config, cfg.train.seed)
        rec.fit(data.train.x, X_val=data.val.x, X_val_target=data.val.y)
    for (k, a), b in zip(rec.model_.state_dict().items(), model.state_dict().values()):
        assert torch.equal(a, b), k


def test_documented_defaults_are_the_packaged_ones():
    from vaekit.core.estimator import documented_defaults

    assert documented_defaults(MultVAERecommender()) == {}


def test_a_config_written_before_the_fit_section_trains_its_max_steps():
    """Run dirs saved before `fit` existed have no such key: it defaults to epochs=null, and
    the train section is used exactly as written."""
    import yaml

    from vaekit.core.estimator import FitConfig, resolve_train
    from vaekit.pipelines.config import dump_config

    saved = yaml.safe_load(dump_config(load_config("recsys:default")))
    del saved["fit"]  # as a config.yaml written before this section existed
    cfg = config_from_dict(saved)
    assert cfg.fit == FitConfig() and resolve_train(cfg.train, cfg.fit, 2400) is cfg.train
    assert cfg.train.max_steps == 400


def test_recvae_is_a_facade_over_recsys_recvae():
    from vaekit.core.estimator import documented_defaults
    from vaekit.domains.recsys import RecVAERecommender

    assert config_from_dict(RecVAERecommender().run_config()) == load_config("recsys:recvae")
    assert documented_defaults(RecVAERecommender()) == {}
    cfg = RecVAERecommender(epochs=4, n_enc_epochs=2, gamma=0.01, hidden_dim=64).run_config()
    assert cfg["fit"]["epochs"] == 12 and [p["epochs"] for p in cfg["train"]["phases"]] == [2, 1]  # 4 x (2 + 1)
    assert cfg["objective"]["beta"] == 0.01 and cfg["model"]["encoder"]["params"]["hidden_dim"] == 64
    assert RecVAERecommender(n_dec_epochs=3).run_config()["fit"]["epochs"] == 50 * (3 + 3)  # rounds kept


def test_recvae_fits_in_a_fresh_interpreter():
    """The facade registers the component kinds its config names (no other import needed)."""
    import subprocess
    import sys

    code = ("import warnings; warnings.simplefilter('ignore')\n"
            "from vaekit.domains.recsys import synthetic_interactions, strong_generalization_split\n"
            "from vaekit.domains.recsys.recommenders import RecVAERecommender\n"
            "sp = strong_generalization_split(synthetic_interactions(n_users=200, n_items=40, seed=0), 20)\n"
            "rec = RecVAERecommender(hidden_dim=8, latent_dim=2, epochs=1, batch_size=50).fit(sp.train.matrix)\n"
            "print(rec.predict_scores(sp.test_foldin.matrix).shape)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().startswith("(20, ")


def test_a_step_count_on_the_command_line_wins_over_the_configs_epochs():
    cfg = load_config("recsys:multvae", ["train.max_steps=4"])
    assert cfg.fit.epochs is None and cfg.train.max_steps == 4  # trains 4 steps, not 200 epochs
    assert load_config("recsys:multvae", ["train.max_steps=4", "fit.epochs=2"]).fit.epochs == 2
    assert load_config("recsys:multvae", ["train.lr=0.01"]).fit.epochs == 200


def test_a_run_trained_by_epochs_resumes_for_more_epochs(tmp_path):
    small = ["data.synthetic_users=400", "data.synthetic_items=120", "data.n_heldout_users=40", "eval.mi_examples=60",
             "model.latent_dim=8", "model.encoder.params.hidden_dims=[32]", "model.decoder.params.hidden_dims=[32]",
             "train.batch_size=100"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = train_run(load_config("recsys:multvae", small + ["fit.epochs=2"]), tmp_path / "r", log=lambda m: None)
        more = train_run(load_config("recsys:multvae", small + ["fit.epochs=3"]), tmp_path / "r", log=lambda m: None)
    per_epoch = first["step"] // 2  # full batches of 100 training users
    assert per_epoch >= 1 and (first["step"], more["step"]) == (2 * per_epoch, 3 * per_epoch)
