"""Bad input to the recommendation domain (issue 19 items 5, 11, 12, 23): ids of
``vaekit generate --input`` matched by the training id type, fixes that name config keys
(``data.*``), the cause of an empty split and a warning for removed duplicate pairs."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("scipy.sparse")

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.core.types import DataInfo  # noqa: E402
from vaekit.domains.recsys import RecsysDataConfig, load_recsys, read_interactions  # noqa: E402
from vaekit.domains.recsys import models as recsys_models  # noqa: E402
from vaekit.domains.recsys.domain import DOMAIN  # noqa: E402
from vaekit.domains.recsys.interactions import binarize, match_ids  # noqa: E402


# ---------------------------------------------------------------- item 5: generate --input
@pytest.fixture
def fake_scores(monkeypatch):
    """Score an item by the clicks on the item before it in column order (a stand-in for a
    trained model that makes recommendations depend on the history); records the inputs."""
    seen = []

    def scores(model, X, *args, **kwargs):
        seen.append(X.copy())
        dense = X.toarray()
        return np.roll(dense, 1, axis=1) + 1e-3 * np.arange(X.shape[1])[::-1]

    monkeypatch.setattr(recsys_models, "item_scores", scores)
    return seen


def _info(item_ids):
    return DataInfo(kind="vector", shape=(len(item_ids),), likelihood="multinomial", n_train=10,
                    extra={"item_ids": list(item_ids)})


def _generate(tmp_path, item_ids, text, n=2):
    src = tmp_path / "histories.csv"
    src.write_text(text)
    out = DOMAIN.generate_from_inputs(None, _info(item_ids), src, n, tmp_path / "recs.csv")
    return pd.read_csv(out, dtype=str)


def test_generate_one_text_id_keeps_the_numeric_ids_and_warns_with_a_count(tmp_path, fake_scores):
    ids = [67, 78, 5, 59, 10, 11]
    text = "user,item\nalice,67\nalice,78\nbob,59\nbob,xyz\ncarol,10\n"
    with pytest.warns(UserWarning, match=r"skipped 1 of 5 history rows.*1 distinct.*'xyz'") as rec:
        recs = _generate(tmp_path, ids, text)
    assert not any("dropped" in str(w.message) for w in rec)  # no second, all-rows warning
    X = fake_scores[0]
    assert X.nnz == 4  # alice 67, 78; bob 59; carol 10 (the numeric ids match the int training ids)
    # Next item in column order after the history (roll by one), seen items excluded.
    assert recs.groupby("user")["item"].apply(list).to_dict() == {
        "alice": ["5", "59"], "bob": ["10", "67"], "carol": ["11", "67"]}


def test_generate_fails_naming_a_user_with_no_known_item(tmp_path, fake_scores):
    text = "user,item\nalice,67\nbob,xyz\nbob,abc\n"
    with pytest.raises(DataValidationError, match=r"1 of 2 users.*'bob'.*data_info\.json") as exc:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _generate(tmp_path, [67, 78, 5], text)
    assert "alice" not in str(exc.value)


def test_generate_text_training_ids_keep_leading_zeros(tmp_path, fake_scores):
    # Training ids that are text ("007"): a history file of digits only must not become 7.
    recs = _generate(tmp_path, ["007", "abc", "010"], "user,item\n1,007\n", n=1)
    assert fake_scores[0].toarray().tolist() == [[1.0, 0.0, 0.0]]
    assert recs["item"].tolist() == ["abc"]


def test_match_ids_compares_in_the_training_type():
    assert match_ids([67, 78, 5], np.array(["67", " 5", "67.0", "x", "5.5"], dtype=object)).tolist() == \
        [0, 2, 0, -1, -1]
    assert match_ids(["007", "7"], np.array([7, "007", "7 "], dtype=object)).tolist() == [1, 0, 1]
    assert match_ids([1.5, 2.0], np.array(["2", "1.5", "nan"], dtype=object)).tolist() == [1, 0, -1]


# ---------------------------------------------------------------- item 11: config keys in fixes
def test_missing_column_error_lists_every_column_and_names_the_config_key(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("userId,product,stars\n1,2,5\n")
    with pytest.raises(DataValidationError) as exc:
        load_recsys(RecsysDataConfig(path=str(p)), seed=0)
    msg = str(exc.value)
    assert "data.item_column" in msg
    assert "['userId', 'product', 'stars']" in msg  # every column, not those left after the user column
    assert "Set item_col " not in msg


def test_one_column_file_names_data_sep_and_the_key_reads_it(tmp_path):
    p = tmp_path / "log.csv"
    rows = [f"{u}|{i}|5" for u in range(8) for i in range(6)]
    p.write_text("userId|movieId|rating\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataValidationError, match=r"one column.*data\.sep"):
        read_interactions(p, sep=",")
    with pytest.raises(DataValidationError, match=r"data\.sep"):
        load_recsys(RecsysDataConfig(path=str(p), sep=","), seed=0)
    for sep in ("|", "pipe"):  # a name needs no quoting on the command line (a bare | is YAML's block marker)
        bundle = load_recsys(RecsysDataConfig(path=str(p), sep=sep, n_heldout_users=1), seed=0)
        assert bundle.info.shape == (6,)


def test_threshold_without_rating_column_names_data_threshold_null(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("userId,movieId\n1,2\n1,3\n")
    for split in ("strong", "temporal"):
        with pytest.raises(ConfigError, match=r"data\.threshold=null") as exc:
            load_recsys(RecsysDataConfig(path=str(p), split=split), seed=0)
        assert "threshold=None for" not in str(exc.value)
        assert "userId" in str(exc.value)  # the file's columns, not the canonical names


def test_bad_rating_value_names_the_config_key(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("user,item,rating\n1,2,five\n")
    with pytest.raises(DataValidationError, match=r"data\.rating_column"):
        load_recsys(RecsysDataConfig(path=str(p)), seed=0)


def test_config_rejects_an_empty_separator_and_says_how_to_write_one():
    with pytest.raises(ConfigError, match=r"data\.sep.*got ''.*data\.sep=pipe"):
        RecsysDataConfig(sep="").validate()


# ---------------------------------------------------------------- item 12: an empty split
def _log(tmp_path, rows, name="log.csv"):
    p = tmp_path / name
    p.write_text("user,item,rating\n" + "".join(f"{u},{i},{r}\n" for u, i, r in rows))
    return str(p)


def test_no_users_after_the_minimum_count_says_the_cause_and_the_key(tmp_path):
    rows = [(u, i, 5) for u in range(20) for i in range(3)]  # 3 positives each < min_user_count 5
    with pytest.raises(DataValidationError) as exc, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_recsys(RecsysDataConfig(path=_log(tmp_path, rows), n_heldout_users=2), seed=0)
    msg = str(exc.value)
    assert "n_heldout_users <= 0" not in msg
    assert "20 users" in msg and "0 users" in msg and "data.min_user_count" in msg


def test_no_positives_after_the_threshold_says_the_cause_and_the_key(tmp_path):
    rows = [(u, i, 2) for u in range(20) for i in range(6)]  # every rating <= 3.5
    with pytest.raises(DataValidationError) as exc, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_recsys(RecsysDataConfig(path=_log(tmp_path, rows), n_heldout_users=2), seed=0)
    msg = str(exc.value)
    assert "rating > 3.5" in msg and "data.threshold" in msg and "n_heldout_users <= 0" not in msg


def test_temporal_split_with_no_users_left_says_the_cause_and_the_key(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("user,item,rating,time\n" + "".join(f"{u},{i},5,{i}\n" for u in range(20) for i in range(3)))
    with pytest.raises(DataValidationError) as exc, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_recsys(RecsysDataConfig(path=str(p), split="temporal"), seed=0)
    msg = str(exc.value)
    assert "20 users" in msg and "0 users" in msg and "data.min_user_count" in msg


def test_too_many_heldout_users_names_the_key_and_the_counts(tmp_path):
    rows = [(u, i, 5) for u in range(10) for i in range(6)]
    with pytest.raises(ConfigError, match=r"10 users.*data\.n_heldout_users <= 4"):
        load_recsys(RecsysDataConfig(path=_log(tmp_path, rows), n_heldout_users=5), seed=0)


def test_default_heldout_share_counts_the_users_left_after_the_filters(tmp_path):
    # 100 users read, 20 with >= 5 positives: 10 % of the 20 are held out, not 10 % of the 100.
    rows = [(u, i, 5) for u in range(20) for i in range(6)] + [(u, 0, 5) for u in range(20, 100)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = load_recsys(RecsysDataConfig(path=_log(tmp_path, rows)), seed=0)
    split = bundle.info.extra["split"]
    assert (split["n_val_users"], split["n_test_users"], split["n_train_users"]) == (2, 2, 16)


# ---------------------------------------------------------------- item 23: duplicate pairs
@pytest.mark.parametrize("split", ["strong", "temporal"])
def test_duplicate_pairs_are_removed_with_a_warning(tmp_path, split):
    rows = [(u, i, 5) for u in range(12) for i in range(6)] + [(0, 1, 5), (3, 2, 4)]
    p = tmp_path / "log.csv"
    p.write_text("user,item,rating,time\n" + "".join(f"{u},{i},{r},{k}\n" for k, (u, i, r) in enumerate(rows)))
    with pytest.warns(UserWarning, match=r"removed 2 duplicate \(user, item\) rows of 74"):
        bundle = load_recsys(RecsysDataConfig(path=str(p), split=split, n_heldout_users=2), seed=0)
    if split == "strong":
        assert bundle.info.extra["split"]["n_duplicate_pairs_removed"] == 2


def test_binarize_warns_with_the_duplicate_count():
    df = pd.DataFrame({"user": [1, 1, 2], "item": [5, 5, 5], "rating": [5.0, 4.0, 5.0]})
    with pytest.warns(UserWarning, match=r"removed 1 duplicate \(user, item\) rows of 3"):
        assert len(binarize(df)) == 2


def test_validation_metrics_keep_their_names_on_a_small_catalogue():
    # A catalogue of 8 items: train.monitor: ndcg@100 (the packaged default) must still exist,
    # computed over the whole ranked list, i.e. equal to ndcg@8.
    import scipy.sparse as sps

    from vaekit.domains.recsys.models import ranking_validation

    rng = np.random.default_rng(0)
    clicks = rng.random((30, 8))
    foldin = sps.csr_matrix((clicks < 0.3).astype(np.float32))
    target = sps.csr_matrix((clicks > 0.6).astype(np.float32))  # held-out items, disjoint from the fold-in
    scores = rng.random((30, 8))
    full = ranking_validation(foldin, target, ks=(8,), scorer=lambda m, x: scores)(None)
    got = ranking_validation(foldin, target, ks=(20, 50, 100), scorer=lambda m, x: scores)(None)
    assert set(got) == {"recall@20", "ndcg@20", "recall@50", "ndcg@50", "recall@100", "ndcg@100"}
    assert got["ndcg@100"] == full["ndcg@8"] and got["recall@20"] == full["recall@8"]
