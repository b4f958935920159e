"""Recsys data layer: every reader format and error, binarise/filter counts, the Interactions
matrix, the strong-generalisation split (invariants and an exact match with a straight copy of
Liang et al.'s notebook), leave-last-out, DiffRec files and the synthetic log."""
from __future__ import annotations

import gzip
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
sp = pytest.importorskip("scipy.sparse")

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.domains.recsys.interactions import Interactions, binarize, filter_min_counts  # noqa: E402
from vaekit.domains.recsys.io import read_interactions  # noqa: E402
from vaekit.domains.recsys.splits import (DiffRecSplit, LeaveLastOutSplit, StrongGeneralizationSplit,  # noqa: E402
                                          leave_last_out_split, load_diffrec, strong_generalization_split)
from vaekit.domains.recsys.synthetic import synthetic_interactions  # noqa: E402

SHARED = Path(__file__).resolve().parents[3].parent / "shared/data/recsys"

ROWS = [(1, 10, 5.0, 978300760), (1, 20, 3.5, 978300761), (2, 10, 4.0, 978300762), (3, 30, 1.0, 978300763),
        (2, 10, 2.0, 978300764)]  # (2, 10) twice: duplicate pairs are kept by the reader


def _expected(rows=ROWS):
    return pd.DataFrame(rows, columns=["user", "item", "rating", "time"])


def _write(path: Path, text: str) -> Path:
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def _check(df, expected=None):
    expected = _expected() if expected is None else expected
    assert list(df.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(df, expected, check_dtype=False)
    assert df["rating"].dtype == np.float64 if "rating" in df else True
    assert df["user"].dtype.kind == "i" and df["item"].dtype.kind == "i"


def _pairs(inter: Interactions):
    coo = inter.matrix.tocoo()
    return set(zip(inter.user_ids[coo.row].tolist(), inter.item_ids[coo.col].tolist()))


# ====================================================================== reader formats
@pytest.mark.parametrize("name", ["ratings.dat", "ratings.dat.gz"])
def test_read_movielens_dat(tmp_path, name):
    p = _write(tmp_path / name, "".join(f"{u}::{i}::{r:g}::{t}\n" for u, i, r, t in ROWS))
    df = read_interactions(p)
    _check(df)
    assert df["time"].dtype == np.int64


@pytest.mark.parametrize("name", ["ratings.csv", "ratings.csv.gz"])
def test_read_movielens_csv(tmp_path, name):
    p = _write(tmp_path / name, "userId,movieId,rating,timestamp\n"
               + "".join(f"{u},{i},{r},{t}\n" for u, i, r, t in ROWS))
    _check(read_interactions(p))


@pytest.mark.parametrize("name", ["u.data", "log.tsv", "log.txt.gz"])
def test_read_headerless_tab(tmp_path, name):
    p = _write(tmp_path / name, "".join(f"{u}\t{i}\t{int(r * 2)}\t{t}\n" for u, i, r, t in ROWS))
    exp = _expected()
    exp["rating"] = [int(r * 2) for r in exp["rating"]]
    _check(read_interactions(p), exp)


@pytest.mark.parametrize("name", ["ml.inter", "ml.inter.gz"])
def test_read_recbole_inter(tmp_path, name):
    p = _write(tmp_path / name, "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
               + "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ROWS))
    _check(read_interactions(p))
    # user_col may be given with or without the :type suffix
    _check(read_interactions(p, user_col="user_id:token", item_col="item_id"))


def test_read_inter_string_ids_stay_strings(tmp_path):
    p = _write(tmp_path / "x.inter", "user_id:token\titem_id:token\n" "u7\tB001\nu3\tB002\nu7\tB002\n")
    df = read_interactions(p)
    assert list(df.columns) == ["user", "item"]
    assert df["user"].tolist() == ["u7", "u3", "u7"] and df["item"].tolist() == ["B001", "B002", "B002"]


def test_read_parquet_custom_columns(tmp_path):
    pytest.importorskip("pyarrow")
    src = pd.DataFrame({"customer": ["a", "b", "a"], "sku": [5, 6, 7], "stars": [1.0, 5.0, 4.0],
                        "when": [3, 1, 2], "extra": [0, 0, 0]})
    p = tmp_path / "log.parquet"
    src.to_parquet(p)
    df = read_interactions(p, user_col="customer", item_col="sku", rating_col="stars", time_col="when")
    assert list(df.columns) == ["user", "item", "rating", "time"]
    assert df["user"].tolist() == ["a", "b", "a"] and df["item"].tolist() == [5, 6, 7]
    assert df["rating"].dtype == np.float64 and df["time"].tolist() == [3, 1, 2]


def test_read_common_names_sep_and_implicit(tmp_path):
    p = _write(tmp_path / "clicks.csv", "uid;iid;ts\n1;2;100\n1;3;50\n")
    df = read_interactions(p)  # separator ';' detected from the first line
    assert list(df.columns) == ["user", "item", "time"] and df["time"].tolist() == [100, 50]
    p = _write(tmp_path / "clicks.txt", "user|item\n1|2\n4|3\n")
    assert read_interactions(p, sep="|").to_dict("list") == {"user": [1, 4], "item": [2, 3]}


def test_read_date_strings_become_seconds(tmp_path):
    p = _write(tmp_path / "d.csv", "user,item,time\n1,2,1970-01-02\n1,3,2000-01-01 00:00:01\n")
    assert read_interactions(p)["time"].tolist() == [86400, 946684801]


def test_read_headerless_positions(tmp_path):
    p = _write(tmp_path / "x.csv", "7,100,1,3\n8,200,1,4\n")
    df = read_interactions(p, user_col=1, item_col=0)
    assert df["user"].tolist() == [100, 200] and df["item"].tolist() == [7, 8]
    assert df["rating"].tolist() == [1.0, 1.0] and df["time"].tolist() == [3, 4]
    p3 = _write(tmp_path / "y.csv", "7,100,5\n8,200,6\n")  # user, item, time
    assert read_interactions(p3, time_col=2).to_dict("list") == {"user": [7, 8], "item": [100, 200], "time": [5, 6]}
    with pytest.raises(DataValidationError, match="must differ"):
        read_interactions(p, user_col=0, item_col=0)
    with pytest.raises(DataValidationError, match="needs a user and an item"):
        read_interactions(_write(tmp_path / "one.csv", "1\n2\n"))
    with pytest.raises(DataValidationError, match=r"column position.*headerless"):
        read_interactions(p, user_col="userId")


# ====================================================================== reader errors
def test_read_missing_and_empty_files(tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        read_interactions(tmp_path / "nope.csv")
    for name, text in (("e.csv", ""), ("e.csv.gz", ""), ("blank.dat", "\n\n")):
        with pytest.raises(DataValidationError, match="empty"):
            read_interactions(_write(tmp_path / name, text))
    with pytest.raises(DataValidationError, match="no interaction rows"):
        read_interactions(_write(tmp_path / "h.csv", "userId,movieId,rating\n"))
    (tmp_path / "bad.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataValidationError, match="gzip"):
        read_interactions(tmp_path / "bad.csv.gz")


def test_read_unknown_column_lists_columns_and_suggests(tmp_path):
    p = _write(tmp_path / "r.csv", "user_id,item_id,rating\n1,2,3\n")
    with pytest.raises(DataValidationError) as e:
        read_interactions(p, user_col="usr_id")
    msg = str(e.value)
    assert "'usr_id'" in msg and "user_id" in msg and "item_id" in msg and "Did you mean 'user_id'?" in msg
    assert msg.startswith(str(p))
    with pytest.raises(DataValidationError, match=r"rating_col.*'score'"):
        read_interactions(p, rating_col="score")


@pytest.mark.parametrize("text, match", [
    ("who,item\na,1\n", r"no user column.*'who'.*user_col"),  # no user column
    ("user,uid,item\na,b,1\n", r"more than one column looks like the user.*user_col"),  # ambiguous
    ("userId,movieId,rating\n1,2,4\n1,3,five\n2,3,x\n", r"rating column 'rating'.*2 of 3 rows.*data row 2.*'five'"),
    ("userId,movieId,rating\n1,2,4\n1,3,\n", r"rating.*missing.*rows \[2\]"),
    ("userId,movieId,timestamp\n1,2,yesterday-ish\n", r"time column.*'yesterday-ish'"),
    ("userId,movieId,rating\n1,2,4\n,3,5\n2,,5\n4,,1\n", r"user id.*1 of 4 rows.*rows \[2\]"),  # missing ids
    ("userId,movieId,rating\n1,2,4\n2,,5\n4,,1\n", r"item id.*2 of 3 rows.*rows \[2, 3\]"),
])
def test_read_bad_columns_and_values_fail_naming_rows(tmp_path, text, match):
    p = _write(tmp_path / "r.csv", text)
    with pytest.raises(DataValidationError, match=match):
        read_interactions(p)


# ====================================================================== binarize / filter
def test_binarize_threshold_dedup_and_none():
    df = _expected(ROWS + [(1, 10, 4.5, 978300770)])
    b = binarize(df, 4.0)
    assert list(zip(b["user"], b["item"])) == [(1, 10), (2, 10)]  # 3.5 and 1.0 out, (1, 10) once
    assert b["time"].tolist() == [978300760, 978300762]  # the first row of a pair is kept
    b = binarize(df, None)
    assert len(b) == 4  # (1,10) and (2,10) once each, plus (1,20), (3,30)
    assert binarize(df, 3.5)["item"].tolist() == [10, 20, 10]
    with pytest.raises(ConfigError, match=r"'rating' column.*threshold=None"):
        binarize(df.drop(columns="rating"))
    assert len(binarize(df.drop(columns="rating"), None)) == 4
    with pytest.raises(DataValidationError, match="user"):
        binarize(df.rename(columns={"user": "uid"}))


def test_filter_min_counts_items_first_one_pass():
    # items 9 and 6 have 1 row each and go first; then every user has 2 rows left, < 3
    df = pd.DataFrame({"user": [1, 1, 1, 2, 2, 3, 3, 3], "item": [7, 8, 9, 7, 8, 7, 8, 6]})
    with pytest.warns(UserWarning, match=r"removed 8 of 8 rows: 2 items with fewer than 2 rows \(2 rows\), then "
                                         r"3 users with fewer than 3 rows \(6 rows\)"):
        out = filter_min_counts(df, min_user=3, min_item=2)
    assert out.empty and list(out.columns) == ["user", "item"]
    df2 = pd.DataFrame({"user": [1, 1, 1, 2, 2], "item": [7, 8, 9, 7, 8]})
    with pytest.warns(UserWarning, match=r"1 users with fewer than 3 rows"):
        out = filter_min_counts(df2, min_user=3, min_item=0)
    assert out["user"].tolist() == [1, 1, 1] and out.index.tolist() == [0, 1, 2]
    # one pass: item 8 (1 row) goes, then users 2 and 3 (1 row each); items 7 and 9 are left with
    # 1 row each, below min_item=2, and are kept (the reference does not iterate)
    df3 = pd.DataFrame({"user": [1, 1, 1, 2, 3], "item": [7, 8, 9, 7, 9]})
    with pytest.warns(UserWarning, match=r"removed 3 of 5 rows: 1 items .* \(1 rows\), then 2 users .* \(2 rows\)"):
        out = filter_min_counts(df3, min_user=2, min_item=2)
    assert out.to_dict("list") == {"user": [1, 1], "item": [7, 9]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(filter_min_counts(df2, min_user=0)) == 5  # nothing removed: no warning
    with pytest.raises(ConfigError, match="min_user"):
        filter_min_counts(df2, min_user=-1)


def test_filter_min_counts_warning_counts_exact():
    df = pd.DataFrame({"user": [1, 1, 1, 2, 2, 3, 3, 3], "item": [7, 8, 9, 7, 8, 7, 8, 6]})
    with pytest.warns(UserWarning) as rec:
        out = filter_min_counts(df, min_user=2, min_item=2)
    # items 9 and 6 (1 row each) go; then every user keeps 2 rows >= 2
    assert "removed 2 of 8 rows: 2 items with fewer than 2 rows (2 rows)." in str(rec[0].message)
    assert sorted(out["item"].unique().tolist()) == [7, 8] and len(out) == 6


# ====================================================================== Interactions
def test_interactions_from_frame_and_back():
    df = pd.DataFrame({"user": ["b", "a", "b", "b"], "item": [20, 10, 10, 20]})
    m = Interactions.from_frame(df)
    assert m.user_ids.tolist() == ["b", "a"] and m.item_ids.tolist() == [20, 10]  # first appearance
    assert m.matrix.dtype == np.float32 and sp.isspmatrix_csr(m.matrix)
    np.testing.assert_array_equal(m.matrix.toarray(), [[1, 1], [0, 1]])  # duplicate (b, 20) -> 1.0
    assert (m.n_users, m.n_items, m.nnz) == (2, 2, 3)
    back = m.to_frame()
    assert list(back.columns) == ["user", "item"]
    assert set(zip(back["user"], back["item"])) == {("b", 20), ("b", 10), ("a", 10)}


def test_interactions_index_mapping_drops_with_warning():
    df = pd.DataFrame({"user": [1, 2, 3], "item": [10, 99, 10]})
    with pytest.warns(UserWarning, match=r"dropped 1 of 3 rows: 1 rows whose item is not in item_ids \(e\.g\. "
                                         r"\[99\]\)"):
        m = Interactions.from_frame(df, item_ids=[30, 10], user_ids=[3, 2, 1, 4])
    np.testing.assert_array_equal(m.matrix.toarray(), [[0, 1], [0, 0], [0, 1], [0, 0]])
    with pytest.raises(DataValidationError, match="unique"):
        Interactions.from_frame(df, item_ids=[10, 10, 99])
    with pytest.raises(DataValidationError, match="shape"):
        Interactions(sp.csr_matrix(np.ones((2, 2))), np.arange(3), np.arange(2))
    m = Interactions(sp.coo_matrix(np.eye(2)), np.arange(2), np.arange(2))
    assert sp.isspmatrix_csr(m.matrix) and m.matrix.dtype == np.float32


# ====================================================================== strong generalisation
def _raw(n_users=60, n_items=40, seed=3):
    """A small MovieLens-like log: shuffled rows, non-contiguous user ids, half-star ratings."""
    rng = np.random.default_rng(seed)
    uids = rng.choice(np.arange(1000, 5000), size=n_users, replace=False)
    rows = []
    for u in uids:
        k = int(rng.integers(2, 30))
        for i in rng.choice(n_items, size=min(k, n_items), replace=False):
            rows.append((int(u), int(i) * 3 + 1, float(rng.integers(5, 11)) / 2, int(rng.integers(1e9))))
    df = pd.DataFrame(rows, columns=["user", "item", "rating", "time"])
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _notebook(raw_data, n_heldout_users, seed=98765, min_uc=5, min_sc=0):
    """Straight copy of the preprocessing of dawenl/vae_cf VAE_ML20M_WWW2018.ipynb (global np.random)."""
    raw_data = raw_data.rename(columns={"user": "userId", "item": "movieId"})
    raw_data = raw_data[raw_data['rating'] > 3.5]

    def get_count(tp, id):
        # the notebook's groupby(id, as_index=False).size() returned this Series in the pandas of 2018
        return tp[[id]].groupby(id).size()

    def filter_triplets(tp, min_uc=5, min_sc=0):
        if min_sc > 0:
            itemcount = get_count(tp, 'movieId')
            tp = tp[tp['movieId'].isin(itemcount.index[itemcount >= min_sc])]
        if min_uc > 0:
            usercount = get_count(tp, 'userId')
            tp = tp[tp['userId'].isin(usercount.index[usercount >= min_uc])]
        usercount, itemcount = get_count(tp, 'userId'), get_count(tp, 'movieId')
        return tp, usercount, itemcount

    raw_data, user_activity, item_popularity = filter_triplets(raw_data, min_uc, min_sc)
    unique_uid = user_activity.index
    np.random.seed(seed)
    idx_perm = np.random.permutation(unique_uid.size)
    unique_uid = unique_uid[idx_perm]
    n_users = unique_uid.size
    tr_users = unique_uid[:(n_users - n_heldout_users * 2)]
    vd_users = unique_uid[(n_users - n_heldout_users * 2): (n_users - n_heldout_users)]
    te_users = unique_uid[(n_users - n_heldout_users):]
    train_plays = raw_data.loc[raw_data['userId'].isin(tr_users)]
    unique_sid = pd.unique(train_plays['movieId'])
    show2id = dict((sid, i) for (i, sid) in enumerate(unique_sid))
    profile2id = dict((pid, i) for (i, pid) in enumerate(unique_uid))

    def split_train_test_proportion(data, test_prop=0.2):
        data_grouped_by_user = data.groupby('userId')
        tr_list, te_list = list(), list()
        np.random.seed(seed)
        for i, (_, group) in enumerate(data_grouped_by_user):
            n_items_u = len(group)
            if n_items_u >= 5:
                idx = np.zeros(n_items_u, dtype='bool')
                idx[np.random.choice(n_items_u, size=int(test_prop * n_items_u), replace=False).astype('int64')] = True
                tr_list.append(group[np.logical_not(idx)])
                te_list.append(group[idx])
            else:
                tr_list.append(group)
        return pd.concat(tr_list), pd.concat(te_list)

    vad_plays = raw_data.loc[raw_data['userId'].isin(vd_users)]
    vad_plays = vad_plays.loc[vad_plays['movieId'].isin(unique_sid)]
    vad_plays_tr, vad_plays_te = split_train_test_proportion(vad_plays)
    test_plays = raw_data.loc[raw_data['userId'].isin(te_users)]
    test_plays = test_plays.loc[test_plays['movieId'].isin(unique_sid)]
    test_plays_tr, test_plays_te = split_train_test_proportion(test_plays)

    def numerize(tp):
        return set(zip((profile2id[x] for x in tp['userId']), (show2id[x] for x in tp['movieId'])))

    return dict(unique_uid=np.asarray(unique_uid), unique_sid=np.asarray(unique_sid), train=numerize(train_plays),
                val_tr=numerize(vad_plays_tr), val_te=numerize(vad_plays_te), test_tr=numerize(test_plays_tr),
                test_te=numerize(test_plays_te), profile2id=profile2id)


def _numerized(inter: Interactions, profile2id):
    coo = inter.matrix.tocoo()
    return set(zip((profile2id[u] for u in inter.user_ids[coo.row].tolist()), coo.col.tolist()))


@pytest.mark.parametrize("seed,n_heldout,min_item", [(98765, 8, 0), (98765, 3, 0), (7, 10, 3)])
def test_strong_generalization_matches_notebook(seed, n_heldout, min_item):
    raw = _raw()
    state = np.random.get_state()
    try:
        ref = _notebook(raw, n_heldout, seed=seed, min_sc=min_item)
    finally:
        np.random.set_state(state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = strong_generalization_split(raw, n_heldout, seed=seed, min_item=min_item)
    n_train = len(ref["unique_uid"]) - 2 * n_heldout
    np.testing.assert_array_equal(s.train.user_ids, ref["unique_uid"][:n_train])
    np.testing.assert_array_equal(s.item_ids, ref["unique_sid"])
    np.testing.assert_array_equal(s.train.item_ids, ref["unique_sid"])
    p2i = ref["profile2id"]
    assert _numerized(s.train, p2i) == ref["train"]
    for mine, theirs in ((s.val_foldin, "val_tr"), (s.val_target, "val_te"), (s.test_foldin, "test_tr"),
                         (s.test_target, "test_te")):
        assert _numerized(mine, p2i) == ref[theirs], theirs
        ranks = [p2i[u] for u in mine.user_ids.tolist()]
        assert ranks == sorted(ranks)  # rows in the notebook's profile2id order
    assert len(ref["val_te"]) > 0 and len(ref["test_te"]) > 0


def test_strong_generalization_hand_case():
    # 6 users with 5 positives each (ratings 4), 1 held-out user per part; one rating 3.5 is not positive.
    rows = [(u, i, 4.0) for u in range(6) for i in range(u, u + 5)] + [(0, 99, 3.5)]
    df = pd.DataFrame(rows, columns=["user", "item", "rating"])
    s = strong_generalization_split(df, 1)
    perm = np.random.RandomState(98765).permutation(6)
    assert s.train.user_ids.tolist() == perm[:4].tolist()
    assert s.val_foldin.user_ids.tolist() == [perm[4]] and s.test_foldin.user_ids.tolist() == [perm[5]]
    assert 99 not in s.item_ids.tolist()
    # each held-out user: int(0.2 * n) = 1 target of its items seen in train, drawn by choice(n, 1)
    for fold, tgt in ((s.val_foldin, s.val_target), (s.test_foldin, s.test_target)):
        u = fold.user_ids[0]
        items = [i for i in range(u, u + 5) if i in set(s.item_ids.tolist())]
        n = len(items)
        expected = set()
        if n >= 5:
            pick = np.random.RandomState(98765).choice(n, size=int(0.2 * n), replace=False)
            expected = {items[j] for j in pick}
        assert {i for _, i in _pairs(tgt)} == expected
        assert {i for _, i in _pairs(fold)} == set(items) - expected
    assert isinstance(s, StrongGeneralizationSplit)


def test_strong_generalization_invariants():
    raw = synthetic_interactions(n_users=300, n_items=150, mean_items_per_user=25, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = strong_generalization_split(raw, 40)
        again = strong_generalization_split(raw, 40)
        other = strong_generalization_split(raw, 40, seed=1)
        ref = filter_min_counts(binarize(raw, 4.0), min_user=5)  # > 3.5 == >= 4 on integer ratings
    tr, va, te = (set(x.user_ids.tolist()) for x in (s.train, s.val_foldin, s.test_foldin))
    assert not tr & va and not tr & te and not va & te
    assert len(va) == len(te) == 40 and len(tr | va | te) == ref["user"].nunique()
    assert s.val_foldin.user_ids.tolist() == s.val_target.user_ids.tolist()
    train_items = set(s.item_ids.tolist())
    assert train_items == set(ref.loc[ref["user"].isin(tr), "item"])
    assert (np.asarray(s.train.matrix.sum(axis=0)).ravel() > 0).all()  # every column is a train item
    by_user = ref.groupby("user")["item"].apply(set).to_dict()
    n_with_target = 0
    for fold, tgt in ((s.val_foldin, s.val_target), (s.test_foldin, s.test_target)):
        assert fold.item_ids is s.item_ids or np.array_equal(fold.item_ids, s.item_ids)
        assert fold.matrix.multiply(tgt.matrix).nnz == 0  # fold-in and target disjoint
        for r, u in enumerate(fold.user_ids.tolist()):
            f = set(fold.item_ids[fold.matrix[r].indices].tolist())
            t = set(tgt.item_ids[tgt.matrix[r].indices].tolist())
            assert f | t == by_user[u] & train_items
            n = len(f | t)
            assert len(t) == (int(0.2 * n) if n >= 5 else 0)
            n_with_target += bool(t)
    assert n_with_target > 60
    for a, b in ((s.train, again.train), (s.val_target, again.val_target), (s.test_foldin, again.test_foldin)):
        assert np.array_equal(a.user_ids, b.user_ids) and (a.matrix != b.matrix).nnz == 0
    assert not np.array_equal(s.train.user_ids, other.train.user_ids)
    summ = s.summary()
    assert summ["n_train_users"] == len(tr) and summ["nnz_val_target"] == s.val_target.nnz
    assert summ["n_rows_in"] == len(raw) and summ["n_users_after_min_counts"] == len(tr | va | te)


def test_strong_generalization_errors_and_implicit():
    df = pd.DataFrame({"user": np.repeat(np.arange(5), 5), "item": np.tile(np.arange(5), 5)})
    with pytest.raises(ConfigError, match=r"'rating' column.*threshold=None"):
        strong_generalization_split(df, 1)
    s = strong_generalization_split(df, 2, threshold=None)
    assert (s.train.n_users, s.val_foldin.n_users, s.test_foldin.n_users) == (1, 2, 2)
    with pytest.raises(ConfigError, match=r"with 5 users \(5 users.*read.*n_heldout_users <= 2"):
        strong_generalization_split(df, 3, threshold=None)
    with pytest.raises(ConfigError, match="n_heldout_users must be an integer >= 1"):
        strong_generalization_split(df, 0, threshold=None)
    with pytest.raises(ConfigError, match="test_prop"):
        strong_generalization_split(df, 1, threshold=None, test_prop=1.5)


def test_strong_generalization_drops_heldout_user_without_train_items():
    # user 9 only rated items nobody else did; make sure it is held out by trying seeds
    base = [(u, i) for u in range(8) for i in range(5)]
    df = pd.DataFrame(base + [(9, 100 + i) for i in range(5)], columns=["user", "item"])
    for seed in range(50):
        perm = np.random.RandomState(seed).permutation(9)
        if 8 in perm[-2:]:  # sorted user 9 has sorted index 8
            break
    with pytest.warns(UserWarning, match=r"dropped 1 (val|test) users"):
        s = strong_generalization_split(df, 1, seed=seed, threshold=None)
    assert s.summary()["n_heldout_users_dropped"] == 1 and s.summary()["n_heldout_rows_unseen_items"] == 5


# ====================================================================== leave-last-out
def test_leave_last_out_hand_case():
    df = pd.DataFrame([("a", "i5", 5), ("a", "i1", 1), ("a", "i3", 3), ("a", "i2", 2), ("a", "i4", 4),
                       ("b", "i1", 1), ("b", "i9", 2),
                       ("c", "x", 1), ("c", "y", 2), ("c", "z", 2),  # tie: y before z by row order
                       ("d", "i1", 1), ("d", "i2", 2), ("d", "new", 3),  # "new" is in no train row
                       ("e", "i5", 10), ("e", "i4", 20), ("e", "x", 30), ("e", "y", 40), ("e", "z", 50),
                       ("e", "i3", 60), ("e", "i2", 70)],
                      columns=["user", "item", "time"])
    with pytest.warns(UserWarning, match=r"dropped 0 validation and 1 test rows"):
        s = leave_last_out_split(df)
    assert isinstance(s, LeaveLastOutSplit)
    assert s.train.user_ids.tolist() == ["a", "b", "c", "d", "e"]
    assert np.array_equal(s.val.user_ids, s.train.user_ids) and np.array_equal(s.test.item_ids, s.train.item_ids)
    assert _pairs(s.test) == {("a", "i5"), ("c", "z"), ("e", "i2")}
    assert _pairs(s.val) == {("a", "i4"), ("c", "y"), ("d", "i2"), ("e", "i3")}
    assert _pairs(s.train) == {("a", "i1"), ("a", "i2"), ("a", "i3"), ("b", "i1"), ("b", "i9"), ("c", "x"),
                               ("d", "i1"), ("e", "i5"), ("e", "i4"), ("e", "x"), ("e", "y"), ("e", "z")}
    assert "new" not in s.train.item_ids.tolist()
    assert s.n_users_train_only == 1 and s.summary()["n_test_rows_unseen_items"] == 1

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s2 = leave_last_out_split(df, n_last=2)
    # i3 is in no train row now (a's val, e's test): both rows are dropped
    assert _pairs(s2.test) == {("a", "i4"), ("a", "i5"), ("e", "i2")}
    assert _pairs(s2.val) == {("a", "i2"), ("e", "y"), ("e", "z")}
    assert s2.summary()["n_val_rows_unseen_items"] == 1 and s2.summary()["n_test_rows_unseen_items"] == 1
    assert s2.n_users_train_only == 3
    with pytest.raises(DataValidationError, match=r"'time' column"):
        leave_last_out_split(df.drop(columns="time"))
    with pytest.raises(ConfigError, match="n_last"):
        leave_last_out_split(df, n_last=0)


# ====================================================================== DiffRec
def test_load_diffrec_tmp(tmp_path):
    np.save(tmp_path / "train_list.npy", np.array([[0, 0], [0, 1], [2, 1], [2, 1]], dtype=np.int64))
    with gzip.open(tmp_path / "valid_list.npy.gz", "wb") as f:
        np.save(f, np.array([[1, 3]], dtype=np.int64))
    np.save(tmp_path / "test_list.npy", np.array([[3, 0]], dtype=np.int64))
    d = load_diffrec(tmp_path)
    assert isinstance(d, DiffRecSplit)
    assert d.train.matrix.shape == d.valid.matrix.shape == d.test.matrix.shape == (4, 4)
    assert d.train.nnz == 3 and d.train.matrix.max() == 1.0  # the duplicate (2, 1) once
    assert d.summary() == {"n_users": 4, "n_items": 4, "nnz_train": 3, "nnz_valid": 1, "nnz_test": 1}
    (tmp_path / "test_list.npy").unlink()
    with pytest.raises(DataValidationError, match=r"no test_list\.npy.*train_list\.npy"):
        load_diffrec(tmp_path)
    np.save(tmp_path / "test_list.npy", np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(DataValidationError, match=r"shape \(N, 2\)"):
        load_diffrec(tmp_path)
    with pytest.raises(DataValidationError, match="folder not found"):
        load_diffrec(tmp_path / "missing")


@pytest.mark.skipif(not (SHARED / "ml-1m-diffrec").is_dir(), reason="shared DiffRec ML-1M files absent")
def test_load_diffrec_shared_ml1m():
    d = load_diffrec(SHARED / "ml-1m-diffrec")
    assert d.train.matrix.shape == (5949, 2810)
    assert (d.train.nnz, d.valid.nnz, d.test.nnz) == (403277, 110722, 57532)


@pytest.mark.skipif(not (SHARED / "ml-100k").is_dir(), reason="shared ML-100K file absent")
def test_read_shared_ml100k_inter():
    df = read_interactions(SHARED / "ml-100k/ml-100k.inter.gz")
    assert df.shape == (100000, 4) and df["user"].nunique() == 943 and df["item"].nunique() == 1682
    assert set(df["rating"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "ml-100k").is_dir(), reason="shared ML-100K file absent")
def test_strong_generalization_shared_ml100k_matches_notebook():
    raw = read_interactions(SHARED / "ml-100k/ml-100k.inter.gz")
    state = np.random.get_state()
    try:
        ref = _notebook(raw, 50)
    finally:
        np.random.set_state(state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = strong_generalization_split(raw, 50)
    p2i = ref["profile2id"]
    assert _numerized(s.train, p2i) == ref["train"]
    assert _numerized(s.test_target, p2i) == ref["test_te"] and _numerized(s.val_foldin, p2i) == ref["val_tr"]


# ====================================================================== synthetic
def test_synthetic_deterministic_and_well_formed():
    t0 = time.perf_counter()
    a = synthetic_interactions()
    elapsed = time.perf_counter() - t0
    b = synthetic_interactions()
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(synthetic_interactions(seed=1))
    assert list(a.columns) == ["user", "item", "rating", "time"]
    assert a["user"].nunique() == 2000 and a["item"].max() < 1000 and not a.duplicated(["user", "item"]).any()
    assert set(a["rating"].unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0} and 3.0 < a["rating"].mean() < 4.0
    assert 30 < len(a) / 2000 < 50  # mean activity ~40
    assert (a.groupby("user")["time"].diff().dropna() > 0).all()  # increasing per user
    assert elapsed < 2.0  # well under a second on a normal core; generous for a busy CI box


def test_synthetic_popularity_power_law_and_taste_structure():
    a = synthetic_interactions(seed=2)
    counts = np.sort(a["item"].value_counts().to_numpy())[::-1]
    assert counts[: len(counts) // 10].sum() > 0.3 * counts.sum()  # head of 10% items: > 30% of plays
    ranks = np.arange(1, 201)
    slope = np.polyfit(np.log(ranks), np.log(counts[:200]), 1)[0]
    assert slope < -0.3  # log-count falls with log-rank
    # taste structure: two users' item sets overlap more than independent popularity draws would
    m = Interactions.from_frame(a).matrix
    co = (m @ m.T).toarray()
    np.fill_diagonal(co, 0)
    assert co.max(axis=1).mean() > 3 * co.mean()
    with pytest.raises(ConfigError, match="mean_items_per_user"):
        synthetic_interactions(n_items=10, mean_items_per_user=20)
