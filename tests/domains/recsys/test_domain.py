"""The recommendation domain end to end: the packaged default through train -> evaluate ->
generate (from user histories), the scikit-learn-style VAE recommenders and the
validation-metric model selection (RecVAE's pieces: test_recvae.py)."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
sp = pytest.importorskip("scipy.sparse")

from vaekit.core.errors import ConfigError, NotFittedError  # noqa: E402
from vaekit.domains.recsys import (EASERecommender, MultDAERecommender, MultVAERecommender,  # noqa: E402
                                   RecVAERecommender, RecsysDataConfig, load_recsys, ndcg_at_k,
                                   strong_generalization_split, synthetic_interactions)
from vaekit.pipelines import evaluate_run, generate_run  # noqa: E402

TINY = ["data.synthetic_users=400", "data.synthetic_items=120", "data.n_heldout_users=40", "train.max_steps=40",
        "train.batch_size=100", "train.eval_every=10", "train.progress=false", "eval.mi_examples=60"]


@pytest.fixture(scope="module")
def split():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = synthetic_interactions(n_users=600, n_items=150, seed=3)
        return strong_generalization_split(df, 60)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory, train_packaged):
    run_dir = tmp_path_factory.mktemp("recsys") / "run"
    return run_dir, train_packaged("recsys:default", TINY, run_dir)


def test_default_run_selects_the_epoch_by_validation_ndcg_and_logs_it(default_run):
    run_dir, summary = default_run
    vals = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    vals = [r for r in vals if r["split"] == "val"]
    assert len(vals) == 4 and all("ndcg@100" in r and "recall@20" in r for r in vals)
    best = max(vals, key=lambda r: r["ndcg@100"])
    assert summary["best_step"] == best["step"]


def test_evaluate_reports_the_model_beside_ease_and_popularity(default_run):
    run_dir, _ = default_run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate_run(run_dir)
    for key in ("rank/recall@20", "rank/recall@50", "rank/ndcg@100", "baseline/ease_ndcg@100",
                "baseline/popularity_recall@20", "rank/coverage@20"):
        assert 0.0 <= res[key] <= 1.0, key
    # The generated data has taste structure: personalised models beat popularity.
    assert res["rank/ndcg@100"] > res["baseline/popularity_ndcg@100"]
    assert res["baseline/ease_ndcg@100"] > res["baseline/popularity_ndcg@100"]


def test_generate_from_user_histories_writes_topk_unseen_known_items(default_run, tmp_path):
    run_dir, _ = default_run
    info = json.loads((run_dir / "data_info.json").read_text())
    items = info["extra"]["item_ids"]
    hist = pd.DataFrame({"user": ["ann", "ann", "ann", "bob", "bob"],
                         "item": [items[0], items[1], items[2], items[5], "never-seen-item"]})
    src = tmp_path / "histories.csv"
    hist.to_csv(src, index=False)
    with pytest.warns(UserWarning, match="1"):  # the unknown item is skipped with a count
        out = generate_run(run_dir, 7, tmp_path / "recs.csv", input_path=src)
    recs = pd.read_csv(out)
    assert list(recs.columns) == ["user", "rank", "item", "score"]
    assert recs.groupby("user").size().to_dict() == {"ann": 7, "bob": 7}
    ann = recs[recs.user == "ann"]
    assert not set(ann["item"]) & {items[0], items[1], items[2]}  # seen items excluded
    assert ann["score"].is_monotonic_decreasing and set(recs["item"]) <= set(items)
    with pytest.raises(ConfigError, match="--input"):
        generate_run(run_dir, 5, tmp_path / "x.csv", input_path=tmp_path / "missing.csv")


def test_generate_from_the_prior_lists_item_ids(default_run, tmp_path):
    run_dir, _ = default_run
    recs = pd.read_csv(generate_run(run_dir, 3, tmp_path / "gen.csv"))
    assert len(recs) == 3 * 20 and set(recs["user"]) == {0, 1, 2}


def test_data_config_rejects_inconsistent_splits():
    with pytest.raises(ConfigError, match="split"):
        RecsysDataConfig(format="diffrec", split="strong").validate()
    with pytest.raises(ConfigError, match="given"):
        RecsysDataConfig(split="given").validate()
    with pytest.raises(ConfigError, match="n_heldout_users"):
        RecsysDataConfig(n_heldout_users=0).validate()


def test_temporal_split_bundle_excludes_training_items_and_targets_the_last_interaction():
    df = synthetic_interactions(n_users=200, n_items=80, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_recsys(RecsysDataConfig(split="temporal", synthetic_users=200, synthetic_items=80), seed=1)
    assert len(data.train) == len(data.val) == len(data.test)
    y = data.test.y
    assert (np.diff(y.indptr) <= 1).all() and y.nnz > 0  # one target (the last interaction) per user
    assert (data.test.exclude.multiply(y)).nnz == 0  # targets are never excluded
    assert df["time"].notna().all()


def test_mult_vae_recommender_api_selection_and_new_users(split):
    X, ids = split.train.matrix, split.item_ids
    rec = MultVAERecommender(epochs=30, batch_size=100, total_anneal_steps=2000, random_state=0)
    with pytest.raises(NotFittedError):
        rec.predict_scores(split.test_foldin.matrix)
    assert rec.fit(X, item_ids=ids, X_val=split.val_foldin.matrix, X_val_target=split.val_target.matrix) is rec
    new = split.test_foldin.matrix
    s1, s2 = rec.predict_scores(new), rec.predict_scores(new)
    assert s1.shape == new.shape and np.array_equal(s1, s2)  # deterministic
    top = rec.recommend(new, 10)
    assert top.shape == (new.shape[0], 10) and set(top.ravel()) <= set(ids)
    col = {v: j for j, v in enumerate(ids)}
    for r in range(new.shape[0]):
        seen = set(new.indices[new.indptr[r]:new.indptr[r + 1]])
        assert not seen & {col[v] for v in top[r]}
    ndcg = ndcg_at_k(s1, split.test_target.matrix, 100, exclude=new)
    pop = np.asarray(X.sum(0)).ravel()[None, :].repeat(new.shape[0], 0)
    assert ndcg > ndcg_at_k(pop, split.test_target.matrix, 100, exclude=new)
    from sklearn.base import clone

    c = clone(rec)
    assert c.get_params()["epochs"] == 30 and not hasattr(c, "model_")
    with pytest.raises(ConfigError, match="X_val_target"):
        MultVAERecommender(epochs=1).fit(X, X_val=split.val_foldin.matrix)


def test_published_defaults():
    v, d, r = MultVAERecommender(), MultDAERecommender(), RecVAERecommender()
    # the defaults live in the packaged configs (recsys:multvae, recsys:multdae, recsys:recvae)
    assert tuple(v.param(k) for k in ("latent_dim", "dropout", "beta_cap", "batch_size", "lr", "epochs")) == \
        (200, 0.5, 0.2, 500, 1e-3, 200) and tuple(v.param("hidden_dims")) == (600,)
    assert v.param("total_anneal_steps") == 200_000 and v.param("random_state") == 98765
    assert d.param("beta_cap") == 0.0 and d.param("weight_decay") == pytest.approx(2 * 0.01 / 500)
    assert tuple(r.param(k) for k in ("hidden_dim", "latent_dim", "gamma", "lr", "n_enc_epochs", "n_dec_epochs",
                                      "epochs")) == (600, 200, 0.005, 5e-4, 3, 1, 50)  # recsys:recvae
    assert EASERecommender().l2 == 500.0
