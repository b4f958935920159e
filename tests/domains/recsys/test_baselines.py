"""Recsys baselines: EASE against a direct per-item ridge solve of its constrained least-squares
problem, popularity by hand, and the Recommender base (recommend, item ids, input checks)."""
from __future__ import annotations

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

import torch  # noqa: E402

from vaekit.core.errors import ConfigError, DataValidationError, NotFittedError  # noqa: E402
from vaekit.domains.recsys.baselines import EASERecommender, PopularityRecommender, Recommender  # noqa: E402


@pytest.fixture
def X():
    rng = np.random.default_rng(3)
    x = (rng.random((40, 7)) < 0.35).astype(np.float64)
    x[0] = [1, 1, 1, 1, 1, 1, 0]       # a user with one unseen item
    return sp.csr_matrix(x)


def ridge_column(X, j, l2):
    """Column j of the EASE weights solved directly: ridge regression of item j on the other items
    (min ||x_j - X_{-j} b||^2 + l2 ||b||^2), the column-wise form of the diag(B) = 0 problem."""
    Xd = X.toarray()
    others = [i for i in range(Xd.shape[1]) if i != j]
    A = Xd[:, others]
    b = np.linalg.solve(A.T @ A + l2 * np.eye(len(others)), A.T @ Xd[:, j])
    col = np.zeros(Xd.shape[1])
    col[others] = b
    return col


@pytest.mark.parametrize("l2", [0.5, 10.0, 500.0])
def test_ease_equals_the_direct_constrained_least_squares_solution(X, l2):
    model = EASERecommender(l2=l2).fit(X)
    assert model.B_.shape == (7, 7) and model.B_.dtype == np.float64
    for j in range(7):
        np.testing.assert_allclose(model.B_[:, j], ridge_column(X, j, l2), rtol=1e-9, atol=1e-12)


def test_ease_diagonal_is_zero_and_scores_are_x_times_b(X):
    model = EASERecommender(l2=2.0).fit(X)
    np.testing.assert_array_equal(np.diag(model.B_), 0.0)
    scores = model.predict_scores(X[:5])
    assert scores.shape == (5, 7)
    np.testing.assert_allclose(scores, X[:5].toarray() @ model.B_)


def test_ease_unseen_training_item_gets_zero_weights():
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0]], dtype=float))   # item 2 never seen
    B = EASERecommender(l2=1.0).fit(x).B_
    np.testing.assert_allclose(B[:, 2], 0.0, atol=1e-15)
    np.testing.assert_allclose(B[2, :], 0.0, atol=1e-15)


def test_recommend_excludes_seen_items_and_returns_k(X):
    model = EASERecommender(l2=1.0).fit(X)
    rec = model.recommend(X[1:], 3)
    assert rec.shape == (39, 3) and rec.dtype == np.int64
    seen = X[1:].toarray() > 0
    unseen_count = (~seen).sum(axis=1)
    for u in range(39):
        assert len(set(rec[u])) == 3
        # seen items appear only when a row has fewer than 3 unseen items
        assert seen[u, rec[u]].sum() == max(0, 3 - unseen_count[u])
    # the list follows the scores of the unseen items
    s = model.predict_scores(X[1:2])[0]
    s[seen[0]] = -np.inf
    np.testing.assert_array_equal(rec[0], np.argsort(-s, kind="stable")[:3])


def test_recommend_warns_when_a_row_has_fewer_than_k_unseen_items(X):
    model = PopularityRecommender().fit(X)
    with pytest.warns(UserWarning, match="fewer than k=2 unseen"):
        rec = model.recommend(X[:1], 2)        # user 0 has a single unseen item (6)
    assert rec[0, 0] == 6


def test_recommend_without_exclusion_may_return_seen_items():
    x = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1]], dtype=float))
    model = PopularityRecommender().fit(x)
    np.testing.assert_array_equal(model.recommend(x[:1], 1, exclude_seen=False), [[0]])
    np.testing.assert_array_equal(model.recommend(x[:1], 1), [[1]])    # items 1, 2 tie: lower index


def test_popularity_hand_case():
    x = sp.csr_matrix(np.array([[1, 0, 1, 0],
                                [1, 0, 1, 1],
                                [0, 0, 1, 0]], dtype=float))
    model = PopularityRecommender().fit(x)
    np.testing.assert_array_equal(model.item_counts_, [2, 0, 3, 1])
    np.testing.assert_array_equal(model.predict_scores(sp.csr_matrix((2, 4))), [[2, 0, 3, 1]] * 2)
    np.testing.assert_array_equal(model.recommend(sp.csr_matrix((1, 4)), 4), [[2, 0, 3, 1]])
    np.testing.assert_array_equal(model.recommend(sp.csr_matrix(np.array([[0, 0, 1, 0.0]])), 2), [[0, 3]])


def test_item_ids_map_indices_to_ids(X):
    ids = [f"movie{j}" for j in range(7)]
    model = EASERecommender(l2=1.0).fit(X, item_ids=ids)
    plain = EASERecommender(l2=1.0).fit(X)
    np.testing.assert_array_equal(model.recommend(X[1:4], 2), np.asarray(ids)[plain.recommend(X[1:4], 2)])
    assert model.item_ids_.tolist() == ids and plain.item_ids_ is None
    with pytest.raises(DataValidationError, match="one id per item column"):
        EASERecommender().fit(X, item_ids=ids[:-1])
    with pytest.raises(DataValidationError, match="unique"):
        EASERecommender().fit(X, item_ids=["a"] * 7)


def test_not_fitted_errors():
    for model in (EASERecommender(), PopularityRecommender()):
        with pytest.raises(NotFittedError, match="fitted first"):
            model.predict_scores(sp.csr_matrix((1, 3)))
        with pytest.raises(NotFittedError, match="fit"):
            model.recommend(sp.csr_matrix((1, 3)), 1)


def test_n_items_mismatch_is_a_clear_error(X):
    model = EASERecommender(l2=1.0).fit(X)
    with pytest.raises(DataValidationError, match=r"must have the 7 item columns.*got '5 columns"):
        model.recommend(sp.csr_matrix((2, 5)), 1)


def test_input_conversion_and_binary_check(X):
    dense = X.toarray()
    ref = EASERecommender(l2=1.0).fit(X)
    for variant in (dense, dense.astype(bool), torch.tensor(dense), sp.coo_matrix(X)):
        np.testing.assert_allclose(EASERecommender(l2=1.0).fit(variant).B_, ref.B_)
        np.testing.assert_allclose(ref.predict_scores(variant), ref.predict_scores(X))
    counts = dense.copy()
    counts[3, 2] = 4.0
    with pytest.raises(DataValidationError, match=r"binary.*row 3, item 2"):
        EASERecommender().fit(counts)
    dup = sp.csr_matrix((np.ones(2), np.array([1, 1]), np.array([0, 2])), shape=(1, 7))   # (0, 1) stored twice
    assert dup.nnz == 2 and not dup.has_canonical_format
    with pytest.raises(DataValidationError, match="duplicate entries add up"):
        ref.predict_scores(dup)
    with pytest.raises(DataValidationError, match="2-D"):
        PopularityRecommender().fit(np.ones(5))
    with pytest.raises(DataValidationError, match="at least one user"):
        PopularityRecommender().fit(sp.csr_matrix((0, 4)))


@pytest.mark.parametrize("l2", [0, -1.0, float("nan"), "500", True])
def test_ease_rejects_a_bad_penalty(l2):
    with pytest.raises(ConfigError, match="l2"):
        EASERecommender(l2=l2)


def test_recommend_checks_k(X):
    model = PopularityRecommender().fit(X)
    with pytest.raises(ConfigError, match=r"1\.\.7"):
        model.recommend(X[:2], 8)


def test_a_subclass_only_implements_fit_and_predict_scores():
    class ReverseIndex(Recommender):
        """Scores = item index (the last item is best); shows the subclass contract."""

        def fit(self, X, item_ids=None):
            self._start_fit(X, item_ids)
            return self

        def predict_scores(self, X_foldin):
            X = self._check_foldin(X_foldin, "predict_scores")
            return np.tile(np.arange(self.n_items_, dtype=float), (X.shape[0], 1))

    x = sp.csr_matrix(np.array([[0, 0, 0, 1.0]]))
    model = ReverseIndex().fit(x, item_ids=np.array([10, 11, 12, 13]))
    np.testing.assert_array_equal(model.recommend(x, 2), [[12, 11]])
    with pytest.raises(NotFittedError, match="ReverseIndex.recommend"):
        ReverseIndex().recommend(x, 1)
    with pytest.raises(TypeError):
        Recommender()
