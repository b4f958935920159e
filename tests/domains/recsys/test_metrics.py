"""Recsys ranking metrics: hand-computed cases, agreement with straight-line re-implementations
of Liang et al.'s ``NDCG_binary_at_k_batch`` / ``Recall_at_k_batch`` (dawenl/vae_cf) and of
DiffRec's ``computeTopNAccuracy`` (YiyanXu/DiffRec), deterministic ties, and the input checks."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

import torch  # noqa: E402

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.domains.recsys import metrics  # noqa: E402
from vaekit.domains.recsys.metrics import (coverage_at_k, mask_seen, ndcg_at_k, precision_at_k,  # noqa: E402
                                           ranking_report, recall_at_k, top_k)


def csr(rows):
    return sp.csr_matrix(np.asarray(rows, dtype=np.float64))


# ----------------------------------------------------------------------------- references
def liang_ndcg(X_pred, heldout_batch, k):
    """Liang et al.'s NDCG_binary_at_k_batch, step by step (np.argpartition for bn.argpartition)."""
    n = X_pred.shape[0]
    rows = np.arange(n)[:, None]
    part = np.argpartition(-X_pred, k, axis=1)          # first k columns: the k best, unordered
    best = part[:, :k]
    order = np.argsort(-X_pred[rows, best], axis=1)     # order them by descending score
    ranked = best[rows, order]
    tp = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (heldout_batch[rows, ranked].toarray() * tp).sum(axis=1)
    idcg = np.array([tp[:min(c, k)].sum() for c in heldout_batch.getnnz(axis=1)])
    return dcg / idcg


def liang_recall(X_pred, heldout_batch, k):
    """Liang et al.'s Recall_at_k_batch, step by step."""
    n = X_pred.shape[0]
    part = np.argpartition(-X_pred, k, axis=1)
    pred_binary = np.zeros_like(X_pred, dtype=bool)
    pred_binary[np.arange(n)[:, None], part[:, :k]] = True
    true_binary = (heldout_batch > 0).toarray()
    hits = np.logical_and(true_binary, pred_binary).sum(axis=1).astype(np.float64)
    return hits / np.minimum(k, true_binary.sum(axis=1))


def diffrec_accuracy(ground_truth, predicted, top_n):
    """DiffRec's computeTopNAccuracy (precision, recall, ndcg per cut-off), without the rounding."""
    precision, recall, ndcg = [], [], []
    for n in top_n:
        s_p = s_r = s_n = 0.0
        for gt, pred in zip(ground_truth, predicted):
            if len(gt) == 0:
                continue
            hit, dcg, idcg, left = 0, 0.0, 0.0, len(gt)
            for j in range(n):
                if pred[j] in gt:
                    dcg += 1.0 / math.log2(j + 2)
                    hit += 1
                if left > 0:
                    idcg += 1.0 / math.log2(j + 2)
                    left -= 1
            s_n += dcg / idcg if idcg != 0 else 0.0
            s_p += hit / n
            s_r += hit / len(gt)
        precision.append(s_p / len(predicted))
        recall.append(s_r / len(predicted))
        ndcg.append(s_n / len(predicted))
    return precision, recall, ndcg


@pytest.fixture
def random_split():
    """50 users x 200 items, continuous scores (no ties), disjoint fold-in / held-out items,
    every user with >= 1 held-out item (as in Liang's protocol)."""
    rng = np.random.default_rng(7)
    n, m = 50, 200
    scores = rng.standard_normal((n, m))
    u = rng.random((n, m))
    foldin = (u < 0.10).astype(np.float64)
    held = ((u >= 0.10) & (u < 0.16)).astype(np.float64)
    held[np.arange(n), rng.integers(0, m, n)] = 1.0
    foldin[held > 0] = 0.0
    return scores, sp.csr_matrix(held), sp.csr_matrix(foldin)


# ----------------------------------------------------------------------------- hand cases
def test_recall_truncated_vs_full_denominator():
    # held-out {0, 2, 3}; ranking 1, 2, 3, 0, 4 -> top 2 = {1, 2}: one hit
    s = np.array([[0.1, 0.9, 0.8, 0.7, 0.0]])
    h = csr([[1, 0, 1, 1, 0]])
    assert recall_at_k(s, h, 2) == pytest.approx(1 / 2)             # 1 / min(2, 3)
    assert recall_at_k(s, h, 2, denominator="full") == pytest.approx(1 / 3)
    assert recall_at_k(s, h, 3) == pytest.approx(2 / 3)             # k = |heldout|: both agree
    assert recall_at_k(s, h, 3, denominator="full") == pytest.approx(2 / 3)
    assert recall_at_k(s, h, 5) == 1.0                              # 3 / min(5, 3)
    assert precision_at_k(s, h, 2) == pytest.approx(1 / 2)
    assert precision_at_k(s, h, 5) == pytest.approx(3 / 5)


def test_ndcg_hand_case():
    # held-out {0, 3}; ranking 3, 1, 0, 2, 4: hits at positions 0 and 2
    s = np.array([[0.5, 0.8, 0.1, 0.9, 0.0]])
    h = csr([[1, 0, 0, 1, 0]])
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(s, h, 3) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(s, h, 1) == 1.0
    # k = 2: one hit at position 0, IDCG over min(2, 2) = 2 ones
    assert ndcg_at_k(s, h, 2) == pytest.approx(1 / idcg)
    # IDCG is truncated at k: 3 relevant items, k = 1, top item relevant -> 1
    assert ndcg_at_k(s, csr([[1, 0, 1, 1, 0]]), 1) == 1.0


def test_foldin_masking_changes_the_result():
    # the fold-in item 0 has the best score; held-out item 2 is second
    s = np.array([[0.9, 0.1, 0.8, 0.2]])
    h = csr([[0, 0, 1, 0]])
    foldin = csr([[1, 0, 0, 0]])
    assert recall_at_k(s, h, 1) == 0.0
    assert recall_at_k(s, h, 1, exclude=foldin) == 1.0
    assert ndcg_at_k(s, h, 2) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(s, h, 2, exclude=foldin) == 1.0
    np.testing.assert_array_equal(top_k(s, 2), [[0, 2]])
    np.testing.assert_array_equal(top_k(s, 2, exclude=foldin), [[2, 3]])


def test_users_without_heldout_items_are_skipped_with_a_warning():
    s = np.array([[0.9, 0.1, 0.8], [0.9, 0.1, 0.8], [0.1, 0.9, 0.8]])
    h = csr([[1, 0, 0], [0, 0, 0], [1, 0, 0]])   # user 1 has nothing held out
    with pytest.warns(UserWarning, match="1 of 3 user"):
        assert recall_at_k(s, h, 1) == pytest.approx(0.5)           # mean of 1 and 0, not of 3
    per_user = recall_at_k(s, h, 1, per_user=True)
    assert per_user[0] == 1.0 and np.isnan(per_user[1]) and per_user[2] == 0.0
    for fn in (ndcg_at_k, precision_at_k):
        assert np.isnan(fn(s, h, 2, per_user=True)[1])
    with pytest.warns(UserWarning):
        assert ranking_report(s, h, ks=(1,))["n_users"] == 2
    with pytest.raises(DataValidationError, match="at least one user"):
        recall_at_k(s, csr(np.zeros((3, 3))), 1)


def test_no_warning_when_every_user_has_heldout_items(random_split):
    scores, held, foldin = random_split
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recall_at_k(scores, held, 10, exclude=foldin)
        ranking_report(scores, held, ks=(5, 10), exclude=foldin)


def test_ties_go_to_the_lower_item_index():
    np.testing.assert_array_equal(top_k(np.zeros((2, 5)), 3), [[0, 1, 2], [0, 1, 2]])
    # the cut falls inside a tie: items 1, 2, 3 share the best score
    np.testing.assert_array_equal(top_k(np.array([[1.0, 2.0, 2.0, 2.0, 0.0]]), 2), [[1, 2]])
    np.testing.assert_array_equal(top_k(np.array([[0.0, 2.0, 1.0, 2.0, 1.0]]), 3), [[1, 3, 2]])
    # so metrics are reproducible with tied scores: items 0 and 1 tie, only 0 is in the top 1
    assert recall_at_k(np.array([[1.0, 1.0, 0.0]]), csr([[0, 1, 0]]), 1) == 0.0
    assert recall_at_k(np.array([[1.0, 1.0, 0.0]]), csr([[1, 0, 0]]), 1) == 1.0


def test_top_k_equals_a_stable_full_sort_with_many_ties():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 3, size=(40, 30)).astype(np.float64)
    excl = sp.csr_matrix((rng.random((40, 30)) < 0.3).astype(np.float64))
    masked = s.copy()
    masked[excl.toarray() > 0] = -np.inf
    for k in (1, 5, 17, 30):
        np.testing.assert_array_equal(top_k(s, k), np.argsort(-s, axis=1, kind="stable")[:, :k])
        np.testing.assert_array_equal(top_k(s, k, exclude=excl), np.argsort(-masked, axis=1, kind="stable")[:, :k])


def test_coverage_hand_case():
    s = np.array([[0.9, 0.8, 0.1, 0.0, 0.0],
                  [0.9, 0.1, 0.8, 0.0, 0.0],
                  [0.8, 0.9, 0.0, 0.1, 0.0]])
    assert coverage_at_k(s, 1) == pytest.approx(2 / 5)   # {0, 1}
    assert coverage_at_k(s, 2) == pytest.approx(3 / 5)   # {0, 1, 2}
    # masking item 0 for everyone: top 2 = {1, 2}, {2, 3}, {1, 3}
    assert coverage_at_k(s, 2, exclude=csr([[1, 0, 0, 0, 0]] * 3)) == pytest.approx(3 / 5)
    # a user with fewer than k unmasked items: the masked items filling the list do not count
    assert coverage_at_k(np.array([[0.1, 0.2, 0.3]]), 3, exclude=csr([[1, 1, 0]])) == pytest.approx(1 / 3)


def test_nonbinary_heldout_values_count_as_relevant_and_stored_zeros_do_not():
    s = np.array([[0.9, 0.8, 0.7, 0.1]])
    binary = ndcg_at_k(s, csr([[1, 0, 1, 0]]), 3)
    assert ndcg_at_k(s, csr([[5, 0, 2, 0]]), 3) == pytest.approx(binary)       # counts binarised
    assert ndcg_at_k(s, csr([[-1, 0, 1, 0]]), 3) == pytest.approx(binary)      # any nonzero
    h = sp.csr_matrix((np.array([1.0, 0.0]), np.array([0, 1]), np.array([0, 2])), shape=(1, 4))
    assert h.nnz == 2                                                          # a stored zero at item 1
    assert recall_at_k(s, h, 2, denominator="full") == 1.0                     # |heldout| = 1
    assert ndcg_at_k(s, h, 2) == 1.0


def test_ranking_report_matches_the_single_metrics(random_split):
    scores, held, foldin = random_split
    rep = ranking_report(scores, held, ks=(20, 5), exclude=foldin, denominator="full")
    assert set(rep) == {f"{m}@{k}" for m in ("recall", "precision", "ndcg", "coverage") for k in (5, 20)} | {"n_users"}
    assert rep["n_users"] == 50
    for k in (5, 20):
        assert rep[f"recall@{k}"] == pytest.approx(recall_at_k(scores, held, k, "full", exclude=foldin))
        assert rep[f"precision@{k}"] == pytest.approx(precision_at_k(scores, held, k, exclude=foldin))
        assert rep[f"ndcg@{k}"] == pytest.approx(ndcg_at_k(scores, held, k, exclude=foldin))
        assert rep[f"coverage@{k}"] == pytest.approx(coverage_at_k(scores, k, exclude=foldin))


# ----------------------------------------------------------------------------- references
@pytest.mark.parametrize("k", [1, 5, 20, 100])
def test_agrees_with_liang_on_random_data(random_split, k):
    scores, held, foldin = random_split
    pred = scores.copy()
    pred[foldin.nonzero()] = -np.inf      # the notebook's masking of the fold-in items
    np.testing.assert_allclose(ndcg_at_k(scores, held, k, exclude=foldin, per_user=True),
                               liang_ndcg(pred, held, k), rtol=1e-12)
    np.testing.assert_allclose(recall_at_k(scores, held, k, exclude=foldin, per_user=True),
                               liang_recall(pred, held, k), rtol=1e-12)
    # masking beforehand with mask_seen is the same as passing exclude
    assert ndcg_at_k(mask_seen(scores, foldin), held, k) == pytest.approx(np.mean(liang_ndcg(pred, held, k)))


def test_agrees_with_diffrec_on_random_data(random_split):
    scores, held, foldin = random_split
    pred = torch.tensor(scores)
    pred[torch.from_numpy(foldin.toarray() > 0)] = -np.inf
    top_n = [10, 20, 50, 100]
    _, indices = torch.topk(pred, top_n[-1])
    ground_truth = [held[u].nonzero()[1].tolist() for u in range(held.shape[0])]
    precision, recall, ndcg = diffrec_accuracy(ground_truth, indices.numpy().tolist(), top_n)
    for i, k in enumerate(top_n):
        assert recall_at_k(scores, held, k, denominator="full", exclude=foldin) == pytest.approx(recall[i], rel=1e-12)
        assert precision_at_k(scores, held, k, exclude=foldin) == pytest.approx(precision[i], rel=1e-12)
        assert ndcg_at_k(scores, held, k, exclude=foldin) == pytest.approx(ndcg[i], rel=1e-12)


def test_chunked_ranking_equals_one_block(random_split, monkeypatch):
    scores, held, foldin = random_split
    whole = ranking_report(scores, held, ks=(3, 40), exclude=foldin)
    whole_idx = top_k(scores, 40, exclude=foldin)
    monkeypatch.setattr(metrics, "_CHUNK_ENTRIES", 3 * 200 + 5)   # 3 rows per chunk, last chunk 2 rows
    assert ranking_report(scores, held, ks=(3, 40), exclude=foldin) == whole
    np.testing.assert_array_equal(top_k(scores, 40, exclude=foldin), whole_idx)


def test_torch_float32_and_dense_inputs(random_split):
    scores, held, foldin = random_split
    expected = ndcg_at_k(scores, held, 10, exclude=foldin)
    assert ndcg_at_k(torch.tensor(scores), torch.tensor(held.toarray()), 10,
                     exclude=torch.tensor(foldin.toarray())) == pytest.approx(expected)
    assert ndcg_at_k(scores.astype(np.float32), held.toarray(), 10, exclude=foldin) == pytest.approx(expected)
    assert ndcg_at_k(scores, sp.coo_matrix(held), 10, exclude=sp.csc_matrix(foldin)) == pytest.approx(expected)


def test_mask_seen_returns_a_masked_copy():
    s = np.array([[1, 2, 3], [4, 5, 6]])
    out = mask_seen(s, csr([[0, 1, 0], [1, 0, 1]]))
    np.testing.assert_array_equal(out, [[1, -np.inf, 3], [-np.inf, 5, -np.inf]])
    assert out.dtype == np.float64 and s[0, 1] == 2          # integers -> float, input untouched
    f32 = np.ones((1, 3), dtype=np.float32)
    assert mask_seen(f32, csr([[1, 0, 0]])).dtype == np.float32 and f32[0, 0] == 1
    assert isinstance(mask_seen(torch.ones(1, 3), csr([[1, 0, 0]])), np.ndarray)


# ----------------------------------------------------------------------------- errors
def test_shape_mismatch_names_both_shapes():
    with pytest.raises(DataValidationError, match=r"heldout shape \(2, 4\) but scores shape \(2, 3\)"):
        recall_at_k(np.zeros((2, 3)), csr(np.ones((2, 4))), 1)
    with pytest.raises(DataValidationError, match=r"exclude shape \(3, 3\) but scores shape \(2, 3\)"):
        ndcg_at_k(np.zeros((2, 3)), csr(np.ones((2, 3))), 1, exclude=csr(np.zeros((3, 3))))
    with pytest.raises(DataValidationError, match="2-D"):
        top_k(np.zeros(5), 1)


@pytest.mark.parametrize("k", [0, -1, 4, 2.0, True, "3"])
def test_bad_k_names_the_catalogue_size(k):
    with pytest.raises(ConfigError, match=r"1\.\.3"):
        recall_at_k(np.zeros((1, 3)), csr([[1, 0, 0]]), k)
    with pytest.raises(ConfigError, match=r"1\.\.3"):
        top_k(np.zeros((1, 3)), k)


def test_k_equal_to_n_items_is_allowed():
    s = np.array([[0.2, 0.9, 0.5]])
    np.testing.assert_array_equal(top_k(s, 3), [[1, 2, 0]])
    assert recall_at_k(s, csr([[1, 0, 0]]), 3) == 1.0
    with pytest.raises(ConfigError, match="ks"):
        ranking_report(s, csr([[1, 0, 0]]))    # default ks go up to 100 > 3 items


def test_nan_scores_name_the_user_row(monkeypatch):
    s = np.zeros((6, 4))
    s[4, 2] = np.nan
    with pytest.raises(DataValidationError, match="user row 4"):
        ndcg_at_k(s, csr(np.eye(6, 4)), 2)
    monkeypatch.setattr(metrics, "_CHUNK_ENTRIES", 8)     # 2 rows per chunk: the row is still global
    with pytest.raises(DataValidationError, match=r"user row 4 \(item 2\)"):
        top_k(s, 2)
    # -inf and +inf are legitimate scores
    top_k(np.array([[-np.inf, np.inf, 0.0]]), 2)


def test_other_input_errors():
    s = np.zeros((1, 3))
    with pytest.raises(ConfigError, match="denominator"):
        recall_at_k(s, csr([[1, 0, 0]]), 1, denominator="min")
    with pytest.raises(DataValidationError, match="must not share"):
        recall_at_k(s, csr([[1, 1, 0]]), 1, exclude=csr([[0, 1, 0]]))
    with pytest.raises(DataValidationError, match="finite"):
        recall_at_k(s, csr([[np.nan, 1, 0]]), 1)
    with pytest.raises(DataValidationError, match="real numbers"):
        top_k(np.array([["a", "b"]]), 1)
    with pytest.raises(DataValidationError, match="numeric"):
        recall_at_k(s, np.array([["a", "b", "c"]]), 1)
    with pytest.raises(ConfigError, match="non-empty"):
        ranking_report(s, csr([[1, 0, 0]]), ks=())
