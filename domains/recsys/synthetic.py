"""A seeded, structured interaction log (genres, popularity, tastes) in the shape of MovieLens'
``ratings.csv``: the embedded default when no data set is given."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from vaekit.core.errors import ConfigError, fmt_error

from .io import _check_int, _pd

if TYPE_CHECKING:  # pragma: no cover
    import pandas

_ZIPF_EXPONENT = 1.0  # item popularity ~ 1 / rank (MovieLens' head is close to this)
_GENRE_ALPHA = 0.3  # Dirichlet concentration of an item's genre mixture (mostly 1-2 genres)
_TASTE_TEMPERATURE = 0.15  # how strongly taste beats popularity in the choice
_ACTIVITY_SIGMA = 0.8  # log-normal spread of user activity


def synthetic_interactions(n_users: int = 2000, n_items: int = 1000, n_genres: int = 12,
                           mean_items_per_user: float = 40, seed: int = 0) -> "pandas.DataFrame":
    """A seeded interaction log with real structure, in ``ratings.csv`` shape (the offline default).

    Generative story:

    * each item has a genre mixture ``g_i ~ Dirichlet(0.3)`` over ``n_genres`` genres and a
      Zipf popularity ``p_i ~ 1 / rank_i`` (ranks randomly assigned);
    * each user likes 1-3 genres (taste ``t_u``, a Dirichlet weighting of them, summing to 1)
      and has an activity ``k_u ~ LogNormal`` with mean ``mean_items_per_user``, clipped to
      ``[min(5, n_items), n_items]``;
    * the user's ``k_u`` items are drawn without replacement with probability proportional to
      ``p_i * exp(t_u . g_i / 0.15)`` (Gumbel top-k, exact for sequential sampling);
    * rating: 1-5 integers, higher for items closer to the user's taste (the affinity
      ``t_u . g_i`` standardised per user, plus noise, mean about 3.5);
    * times: increasing per user, from a user-specific start, in random order of the items.

    Parameters
    ----------
    n_users, n_items, n_genres : int
        Sizes (each >= 1).
    mean_items_per_user : float
        Mean of the activity distribution (> 0, at most ``n_items``).
    seed : int
        Seed of a ``numpy.random.default_rng``; equal seeds give equal frames.

    Returns
    -------
    DataFrame ``(N, 4)``
        Columns ``user`` (int64, 0-based), ``item`` (int64, 0-based), ``rating`` (float64,
        1-5), ``time`` (int64 seconds); sorted by user, then time; no duplicate pairs.
    """
    pd = _pd()
    where = "synthetic_interactions"
    n_users = _check_int(n_users, "n_users", where, minimum=1)
    n_items = _check_int(n_items, "n_items", where, minimum=1)
    n_genres = _check_int(n_genres, "n_genres", where, minimum=1)
    seed = _check_int(seed, "seed", where)
    if isinstance(mean_items_per_user, bool) or not isinstance(mean_items_per_user, (int, float, np.number)) \
            or not 0 < mean_items_per_user <= n_items:
        raise ConfigError(fmt_error(where, f"mean_items_per_user must be in (0, n_items={n_items}]",
                                    mean_items_per_user, "Pass e.g. mean_items_per_user=40."))
    rng = np.random.default_rng(seed)
    genres = rng.dirichlet(np.full(n_genres, _GENRE_ALPHA), size=n_items)  # (I, G)
    ranks = rng.permutation(n_items) + 1
    log_pop = -_ZIPF_EXPONENT * np.log(ranks)  # (I,)
    # taste: 1-3 liked genres per user with Dirichlet(1) weights
    n_liked = rng.integers(1, min(3, n_genres) + 1, size=n_users)
    keys = rng.random((n_users, n_genres))
    # argsort of uniform keys is a random permutation: the n_liked positions holding 0 .. n_liked-1
    liked = np.argsort(keys, axis=1) < n_liked[:, None]
    w = rng.gamma(1.0, size=(n_users, n_genres)) * liked
    taste = w / w.sum(axis=1, keepdims=True)  # (U, G)
    sigma = _ACTIVITY_SIGMA
    k = rng.lognormal(math.log(mean_items_per_user) - sigma ** 2 / 2, sigma, size=n_users)
    k = np.clip(np.round(k), min(5, n_items), n_items).astype(np.int64)
    # Gumbel top-k: the k largest of log-weight + Gumbel noise are a draw without replacement.
    # Blocks of users bound the memory (a 138k x 20k affinity matrix would need 22 GB); the
    # Gumbel draws fill row by row, so the result does not depend on the block size.
    block = max(1, 2 ** 22 // n_items)
    items_l, aff_l = [], []
    for lo in range(0, n_users, block):
        hi = min(n_users, lo + block)
        affinity = taste[lo:hi] @ genres.T  # (b, I), in [0, 1]
        score = log_pop[None, :] + affinity / _TASTE_TEMPERATURE + rng.gumbel(size=(hi - lo, n_items))
        order = np.argsort(-score, axis=1)
        take = np.arange(n_items)[None, :] < k[lo:hi, None]
        it = order[take].astype(np.int64)
        items_l.append(it)
        aff_l.append(affinity[np.repeat(np.arange(hi - lo), k[lo:hi]), it])
    users = np.repeat(np.arange(n_users, dtype=np.int64), k)
    items = np.concatenate(items_l)
    aff = np.concatenate(aff_l)
    mu = np.repeat(np.add.reduceat(aff, np.concatenate([[0], np.cumsum(k)[:-1]])) / k, k)
    sd = np.sqrt(np.repeat(np.add.reduceat((aff - mu) ** 2, np.concatenate([[0], np.cumsum(k)[:-1]])) / k, k))
    z = (aff - mu) / (sd + 1e-9)
    rating = np.clip(np.round(3.5 + 0.9 * z + rng.normal(0.0, 0.7, size=len(z))), 1, 5)
    # times: a random order of each user's items, increasing from a user-specific start
    shuffle = np.lexsort((rng.random(len(users)), users))
    items, rating = items[shuffle], rating[shuffle]
    start = rng.integers(946_684_800, 1_420_070_400, size=n_users)  # 2000-01-01 .. 2015-01-01
    gaps = rng.exponential(86_400.0, size=len(users)).astype(np.int64) + 1
    csum = np.cumsum(gaps)
    first = np.concatenate([[0], np.cumsum(k)[:-1]])
    time = np.repeat(start, k) + csum - np.repeat(csum[first] - gaps[first], k)
    return pd.DataFrame({"user": users, "item": items, "rating": rating.astype(np.float64),
                         "time": time.astype(np.int64)})


__all__ = ["synthetic_interactions"]
