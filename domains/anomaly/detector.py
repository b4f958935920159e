"""``VAEDetector``: vaekit's VAE as a PyOD detector.

It *is* a :class:`pyod.models.base.BaseDetector` (DESIGN.md section 5), so it drops into
PyOD's and scikit-learn's tooling unchanged: ``fit`` returns self; fitted attributes end in
``_`` (``decision_scores_``, ``threshold_``, ``labels_``); ``predict``, ``predict_proba`` and
``fit_predict`` come from PyOD's base class; ``get_params``/``set_params``/``clone`` work
because ``__init__`` stores its arguments unchanged.

What it does differently from PyOD's own ``VAE``:

* the model is vaekit's one :class:`~vaekit.core.vae.VAE` (MLP encoder/decoder, Gaussian
  likelihood with a calibrated scale per column, ``learn_scale="analytic"``) trained by
  vaekit's trainer, so its loss is the true negative ELBO. PyOD 3.6's VAE defaults to
  ``capacity=0.0``, which clamps its KL term to zero, i.e. it trains a (noisy) autoencoder;
* **two views of each column**: by default one VAE is fitted on standardised columns (which
  keep how far out an extreme value lies) and one on rank-Gaussianised columns (which keep
  only its rank, so a heavy-tailed or discrete column cannot drown the others), and a
  record's score is the mean of its two scores, each standardised by the training rows'
  scores. Neither view wins on every table; together they score best
  (benchmarks/RESULTS.md);
* scores are log-likelihood based (:mod:`~vaekit.domains.anomaly.scoring`) and deterministic;
* **contaminated training data**: each batch's loss leaves out the ``trim`` fraction of
  records the model explains worst (the trimmed ELBO, ``objective.trim`` of
  :class:`~vaekit.core.objectives.ELBO`), so the anomalies that the unlabelled training data
  contains do not pull the model towards them;
* mixed tables: missing values, categorical columns (:class:`TabularPreprocessor`);
* :meth:`VAEDetector.explain` splits a record's score into per-feature contributions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from pyod.models.base import BaseDetector
from sklearn.exceptions import NotFittedError as _SkNotFitted

from vaekit.core.data import ArrayDataset, collate_arrays
from vaekit.core.errors import ConfigError
from vaekit.core.errors import NotFittedError as _VkNotFitted
from vaekit.core.config import set_key
from vaekit.core.estimator import FROM_CONFIG, TRAIN_KEYS, ConfigEstimator, fit_vae, packaged
from vaekit.core.types import DataBundle, DataInfo

from .features import MIN_TRAIN_ROWS, check_train_rows
from .preprocess import SCALINGS, TabularPreprocessor
from .scoring import aggregate_posterior, anomaly_scores, check_score, feature_nll

KL_COLUMN = "[latent KL]"
#: The packaged run config VAEDetector is a facade of (``anomaly:detector``).
CONFIG_PATH = Path(__file__).parent / "configs" / "detector.yaml"


class NotFittedError(_VkNotFitted, _SkNotFitted):
    """The detector was used before ``fit`` (both vaekit's and scikit-learn's NotFittedError)."""


def _check_subset(name: str, value, min_count: int, what: str) -> None:
    """``value`` of ``max_samples`` / ``max_features``: None, an int >= ``min_count`` or a
    fraction in (0, 1]."""
    ok = value is None or (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                           and value >= min_count) or (isinstance(value, float) and 0 < value <= 1)
    if not ok:
        raise ConfigError(f"VAEDetector({name}=...): must be None (all {what}), an int >= {min_count} ({what} per "
                          f"member) or a float in (0, 1] (a fraction of the {what}); got {value!r}.")


def _subset_size(value, n: int) -> Optional[int]:
    """How many of ``n`` a member takes for ``max_samples`` / ``max_features`` ``value`` (a
    count or a fraction, at least 1); ``None`` when that is all ``n``."""
    if value is None:
        return None
    size = int(value) if isinstance(value, (int, np.integer)) else int(np.ceil(float(value) * n))
    size = max(1, min(n, size))
    return None if size >= n else size


@dataclass
class DetectorMember:
    """One fitted VAE of a :class:`VAEDetector`: its column scaling, preprocessor and model,
    and the mean and standard deviation of its scores on the training rows (which put the
    members' scores on one scale before they are averaged)."""

    scaling: str
    preprocessor: TabularPreprocessor
    model: object
    score_loc: float = 0.0
    score_scale: float = 1.0
    mixture: Optional[Tuple[Any, Any]] = None
    columns: Optional[np.ndarray] = None  # the model columns it sees (max_features); None = all

    def view(self, xt: np.ndarray) -> np.ndarray:
        """The member's columns of preprocessed rows ``xt`` ``(n, d)``."""
        return xt if self.columns is None else xt[:, self.columns]


class VAEDetector(ConfigEstimator, BaseDetector):
    """Variational autoencoder outlier detector with PyOD's interface.

    A facade over the packaged run config ``anomaly:detector``
    (``domains/anomaly/configs/detector.yaml``; :mod:`vaekit.core.estimator`): each member is
    that config with ``data.preprocessing`` set to its scaling and the arguments below applied
    (:meth:`member_config`), trained by the one trainer; ``vaekit train anomaly:detector``
    trains the same VAE on the same rows. An argument left at ``FROM_CONFIG`` takes the YAML's
    value (given in brackets below); :meth:`param` returns the effective value.

    Parameters
    ----------
    contamination : float in (0, 0.5]
        Expected share of anomalies; sets ``threshold_`` (PyOD's convention).
    preprocessing : str or sequence of str
        Scaling of numeric columns, fitted on the training rows: one of ``standard``,
        ``robust``, ``standard+rank``, ``power``, ``rank_gauss``, ``quantile``, ``minmax``,
        ``none`` (see :class:`~vaekit.domains.anomaly.preprocess.TabularPreprocessor`), or
        several: one VAE per scaling, and the score is the mean of their scores, each
        standardised by its training rows' scores. Default ``("standard", "rank_gauss")``.
    categorical_columns : sequence of str, optional
        Columns to one-hot; by default (null) the non-numeric columns of a DataFrame.
    latent_dim : int, optional
        ``None``: ``clip(n_columns // 4, 2, 16)``.
    hidden_dims : sequence of int
        Default ``[64]``. Widths of the encoder's (and, mirrored, the decoder's) hidden layers.
    epochs : int
        Default ``10``. Passes over the training rows (the number of optimizer steps is
        ``ceil(epochs * n / batch_size)``, at least ``min_steps``). Short training is
        deliberate: the longer a model trains on contaminated rows, the better it learns to
        reconstruct the anomalies among them, and on the ADBench tables (whose anomalies are
        mostly extreme values of single measurements) short training scored best
        (benchmarks/RESULTS.md). Anomalies that break the *correlations* between
        measurements need the joint structure learnt: train longer and let the scale go
        below the deviations that matter, e.g. ``epochs=300, lr=1e-2, min_scale=0.05``
        (tests/domains/anomaly/test_detector.py plants such anomalies).
    min_steps : int
        Default ``50``. So that tiny tables still get a trained model.
    batch_size : int
        Default ``128``. Capped at the number of rows (a table smaller than a batch trains
        full-batch).
    lr, weight_decay : float
        Defaults ``0.001, 0``. Adam; the learning rate follows a cosine schedule.
    beta : float
        Default ``1``. KL weight; 1 is the ELBO.
    trim : float, optional
        Default ``0.4``. Fraction of each batch left out of the loss (the worst-explained
        records); ``None`` uses ``contamination`` (capped at 0.4); 0 trains on every record.
        The default sits above the contamination of most real tables; benchmarks/RESULTS.md
        measures 0 to 0.4.
    score : {"elbo", "iwae", "recon_prob", "elbo_agg"}
        Default ``elbo``. The anomaly score (see :mod:`~vaekit.domains.anomaly.scoring`);
        ``elbo_agg`` replaces the prior by the aggregate posterior of (up to 1,000 of) the
        training rows, kept in each member's ``mixture``.
    n_score_samples : int
        Default ``16``. Posterior draws per record when scoring.
    dropout : float
        Default ``0``. In the encoder's and decoder's hidden layers.
    min_scale : float
        Default ``0.3``. Lower bound of the likelihood's per-column scale, in scaled units
        (the scale itself is the column's calibrated, maximum-likelihood value on the rows the
        trimmed loss keeps, Rybkin et al. 2021): a deviation smaller than ``min_scale`` column
        standard deviations never looks alarming, so a column that the model reconstructs
        almost exactly (e.g. a discrete grade that is mostly 1) cannot make every rare but
        normal value look infinitely unlikely. 0.2-0.4 scored alike on the medical tables
        (benchmarks/RESULTS.md); lower it to detect finer breaks of correlations.
    likelihood : {"gaussian", "laplace"}
        Default ``gaussian``. The decoder's per-column distribution, with the calibrated
        (maximum-likelihood) scale: the RMS residual for the Gaussian, the mean absolute
        residual for the Laplace. The Laplace's NLL grows linearly in a residual (the
        Gaussian's quadratically), so one heavy-tailed column far off weighs less against the
        rest of the record: with ``min_scale=0.2`` it raised the mean AUC-ROC of the 18
        selection sets from 78.1 to 79.3 and every half's AUC-PR by 1.7-3.1 points, but
        lowered the confirmation half's AUC-ROC from 81.3 to 80.6, so it is not the default
        (benchmarks/RESULTS.md, issue 20).
    device : str
        Default ``cpu``. ``"cpu"``, ``"cuda"`` or ``"auto"``.
    random_state : int
        Default ``0``. Seeds initialisation, batch order and the scoring draws.
    verbose : int
        Default ``0``. 0: silent; 1: progress bar.
    n_estimators : int
        VAEs per scaling (default 1), each with its own seed (``random_state + k``) and, with
        ``max_samples``, its own subsample of the rows; all members' standardised scores are
        averaged (as PyOD's ``FeatureBagging`` / ``IForest`` name their ensembles).
    max_samples : int, float or None
        Rows each member trains on, drawn without replacement: an int is a count, a float in
        (0, 1] a fraction of the rows; ``None`` (default) trains every member on all rows.
        Every member is scored, and standardised, on all training rows.
    max_features : int, float or None
        Input features each member sees (feature bagging, Lazarevic & Kumar 2005, PyOD's
        ``FeatureBagging``): an int is a count, a float in (0, 1] a fraction; drawn without
        replacement per member with seed ``random_state + k``; ``None`` (default): all.
    extra_views : sequence of dict, optional
        More members beside those of ``preprocessing``: each a dict of this detector's
        arguments for one VAE, with its ``preprocessing`` (one scaling) and any others that
        differ (e.g. ``{"preprocessing": "standard", "epochs": 30, "min_scale": 0.1}``: a
        member trained longer, with a finer scale). Default none.

    Attributes
    ----------
    decision_scores_ : ndarray, shape (n_samples,)
        Scores of the training rows (higher = more anomalous). In nats for one scaling; in
        training-score standard deviations for several.
    threshold_ : float
    labels_ : ndarray of int, shape (n_samples,)
    members_ : list of DetectorMember
        ``n_estimators`` per scaling, scalings in the order given.
    model_ : VAE
        The first member's model.
    preprocessor_ : TabularPreprocessor
        The first member's preprocessor.
    score_offset_ : float
        ``sum(explain(X), axis=1) - decision_function(X)`` (0 for one scaling).
    n_features_in_ : int
    feature_names_in_ : list of str
    n_steps_ : int
        Optimizer steps taken.

    Examples
    --------
    >>> from vaekit.domains.anomaly import VAEDetector
    >>> det = VAEDetector(contamination=0.05).fit(X_train)      # doctest: +SKIP
    >>> scores = det.decision_function(X_test)                  # doctest: +SKIP
    >>> det.explain(X_test[:3])                                 # doctest: +SKIP
    """

    #: argument -> the keys of ``anomaly:detector`` it sets (``trim=None`` is resolved in
    #: :meth:`config_overrides`, ``latent_dim`` in :meth:`member_config`).
    config_keys = {
        "categorical_columns": "data.categorical_columns",
        "hidden_dims": ("model.encoder.params.hidden_dims", "model.decoder.params.hidden_dims"),
        "dropout": ("model.encoder.params.dropout", "model.decoder.params.dropout"),
        "min_scale": "model.likelihood.params.min_scale",
        "likelihood": "model.likelihood.kind",
        "trim": ("objective.trim", "model.likelihood.params.scale_trim"),
        "beta": "objective.beta",
        "min_steps": "fit.min_steps",
        **TRAIN_KEYS,
        "score": "eval.options.score",
        "n_score_samples": "eval.options.n_score_samples",
    }

    def __init__(self, contamination: float = 0.1,
                 preprocessing: Union[str, Sequence[str]] = ("standard", "rank_gauss"),
                 categorical_columns: Optional[Sequence[str]] = FROM_CONFIG, latent_dim: Optional[int] = None,
                 hidden_dims: Sequence[int] = FROM_CONFIG, epochs: int = FROM_CONFIG, min_steps: int = FROM_CONFIG,
                 batch_size: int = FROM_CONFIG, lr: float = FROM_CONFIG, weight_decay: float = FROM_CONFIG,
                 beta: float = FROM_CONFIG, trim: Optional[float] = FROM_CONFIG, score: str = FROM_CONFIG,
                 n_score_samples: int = FROM_CONFIG, dropout: float = FROM_CONFIG, min_scale: float = FROM_CONFIG,
                 device: str = FROM_CONFIG, random_state: int = FROM_CONFIG, verbose: int = FROM_CONFIG,
                 n_estimators: int = 1, max_samples: Union[int, float, None] = None,
                 extra_views: Optional[Sequence[Dict[str, Any]]] = None, likelihood: str = FROM_CONFIG,
                 max_features: Union[int, float, None] = None):
        super().__init__(contamination=contamination)
        self.max_features = max_features
        self.likelihood = likelihood
        self.extra_views = extra_views
        self.preprocessing = preprocessing
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.categorical_columns = categorical_columns
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.beta = beta
        self.trim = trim
        self.score = score
        self.n_score_samples = n_score_samples
        self.dropout = dropout
        self.min_scale = min_scale
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ config
    def packaged_config(self) -> Dict[str, Any]:
        """``anomaly:detector`` (``domains/anomaly/configs/detector.yaml``) as a mapping."""
        return packaged(CONFIG_PATH)

    def config_overrides(self) -> Dict[str, Any]:
        """The arguments as dotted config keys; ``trim=None`` becomes the contamination (capped
        at 0.4). ``latent_dim`` depends on the table: see
        :meth:`member_config`."""
        out = super().config_overrides()
        if self.trim is None:
            trim = self._trim_fraction()
            out.update({"objective.trim": trim, "model.likelihood.params.scale_trim": trim})
        return out

    def member_config(self, scaling: str, n_columns: int) -> Dict[str, Any]:
        """The run config of the member on ``scaling`` for a table of ``n_columns`` model
        columns: :meth:`run_config` with ``data.preprocessing = scaling`` and
        ``model.latent_dim`` = ``latent_dim``, or by default ``clip(n_columns // 4, 2, 16)``:
        a bottleneck well below the data's width, so the model must capture the columns'
        joint structure (a record that breaks it reconstructs badly), not copy them."""
        cfg = self.run_config()
        latent = self.latent_dim if self.latent_dim is not None else min(16, max(2, n_columns // 4))
        set_key(cfg, "data.preprocessing", scaling)
        set_key(cfg, "model.latent_dim", int(latent))
        return cfg

    # ------------------------------------------------------------------ checks
    def _scalings(self) -> Tuple[str, ...]:
        p = self.preprocessing
        return (p,) if isinstance(p, str) else tuple(p)

    def _check_params(self) -> None:
        scalings = self._scalings()
        bad = [p for p in scalings if p not in SCALINGS]
        if not scalings or bad or len(set(scalings)) != len(scalings):
            raise ConfigError(f"VAEDetector(preprocessing=...): must be one of {', '.join(SCALINGS)}, or a "
                              f"non-empty sequence of distinct ones; got {self.preprocessing!r}.")
        check_score(self.param("score"), "VAEDetector(score=...)")
        if self.param("likelihood") not in ("gaussian", "laplace"):
            raise ConfigError(f"VAEDetector(likelihood=...): must be 'gaussian' or 'laplace'; got "
                              f"{self.param('likelihood')!r}.")
        for name in ("epochs", "batch_size", "n_score_samples"):
            v = self.param(name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ConfigError(f"VAEDetector({name}=...): must be a positive integer; got {v!r}.")
        if isinstance(self.n_estimators, bool) or not isinstance(self.n_estimators, (int, np.integer)) \
                or self.n_estimators < 1:
            raise ConfigError(f"VAEDetector(n_estimators=...): must be a positive integer (VAEs per scaling); got "
                              f"{self.n_estimators!r}.")
        _check_subset("max_samples", self.max_samples, MIN_TRAIN_ROWS, "rows")
        _check_subset("max_features", self.max_features, 1, "features")
        allowed = set(self.get_params()) - {"extra_views", "contamination"}
        for i, view in enumerate(self.extra_views or ()):
            where = f"VAEDetector(extra_views=...)[{i}]"
            if not isinstance(view, dict) or view.get("preprocessing") not in SCALINGS:
                raise ConfigError(f"{where}: each extra view is a dict of VAEDetector arguments with its "
                                  f"'preprocessing', one of {', '.join(SCALINGS)}; got {view!r}.")
            unknown = sorted(set(view) - allowed)
            if unknown:
                raise ConfigError(f"{where}: {unknown} are not VAEDetector arguments a view can set; valid: "
                                  f"{', '.join(sorted(allowed))}.")
        if self.latent_dim is not None and (not isinstance(self.latent_dim, (int, np.integer)) or self.latent_dim < 1):
            raise ConfigError(f"VAEDetector(latent_dim=...): must be a positive integer or None; got "
                              f"{self.latent_dim!r}.")
        if not self.param("min_scale") > 0:
            raise ConfigError(f"VAEDetector(min_scale=...): must be > 0 (a standard deviation in scaled units); got "
                              f"{self.param('min_scale')!r}.")
        trim = None if self.trim is None else self.param("trim")
        if trim is not None and not 0 <= trim < 0.5:
            raise ConfigError(f"VAEDetector(trim=...): must lie in [0, 0.5) or be None (= contamination); got "
                              f"{trim!r}.")
        if isinstance(self.contamination, (float, int)) and not 0 < self.contamination <= 0.5:
            raise ConfigError(f"VAEDetector(contamination=...): must lie in (0, 0.5]; got {self.contamination!r}.")

    def _trim_fraction(self) -> float:
        if self.trim is not None:
            return float(self.param("trim"))
        c = self.contamination if isinstance(self.contamination, (float, int)) else 0.1
        return float(min(c, 0.4))

    def _check_fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise NotFittedError(f"{type(self).__name__}: this detector is not fitted yet; call fit(X) before "
                                 f"decision_function, predict or explain.")

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Fit on the (possibly contaminated) rows of ``X``; ``y`` is ignored (unsupervised).

        Parameters
        ----------
        X : array-like or DataFrame, shape (n_samples, n_features)
            At least :data:`~vaekit.domains.anomaly.features.MIN_TRAIN_ROWS` (10) rows.
            Numeric columns may hold NaN (imputed, with a missing indicator); DataFrame
            columns of object/category/bool dtype are one-hot encoded.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        DataValidationError
            Fewer than 10 rows, a table that breaks a rule of
            :func:`~vaekit.domains.anomaly.features.validate_features`, or a value too large
            for the scaling (:class:`~vaekit.domains.anomaly.preprocess.TabularPreprocessor`).
        """
        self._check_params()
        self._set_n_classes(y)
        prepared: Dict[Any, Tuple[TabularPreprocessor, np.ndarray]] = {}  # one preprocessing per scaling
        members = [self._fit_member(scaling, X, k, prepared) for scaling in self._scalings()
                   for k in range(self.n_estimators)]
        members += [self._view(v)._fit_member(v["preprocessing"], X, 0, prepared) for v in self.extra_views or ()]
        scores = [self._member_scores(m, xt) for m, xt in members]
        if len(members) > 1:
            for (m, _), s in zip(members, scores):
                m.score_loc, m.score_scale = float(s.mean()), float(max(s.std(), 1e-12))
        self.members_: List[DetectorMember] = [m for m, _ in members]
        self.model_, self.preprocessor_ = self.members_[0].model, self.members_[0].preprocessor
        self.n_features_in_ = self.preprocessor_.n_features_in_
        self.feature_names_in_ = list(self.preprocessor_.feature_names_in_)
        self.score_offset_ = float(np.mean([m.score_loc / m.score_scale for m in self.members_]))
        self.decision_scores_ = self._combine(scores)
        self._process_decision_scores()
        return self

    def _view(self, overrides: Dict[str, Any]) -> "VAEDetector":
        """A copy of this detector's arguments with ``overrides`` (one extra view's) applied."""
        from sklearn.base import clone

        over = {"extra_views": None, "n_estimators": 1, "max_samples": None, "max_features": None,
                **{k: v for k, v in overrides.items() if k != "preprocessing"}}
        return clone(self).set_params(**over)

    def _member_columns(self, pre: TabularPreprocessor, k: int) -> Optional[np.ndarray]:
        """The model columns of member ``k``: those of a random subset of the input features
        (``max_features``, seed ``random_state + k``); ``None``: all."""
        n_feat = pre.n_features_in_
        size = _subset_size(self.max_features, n_feat)
        if size is None:
            return None
        rng = np.random.default_rng(int(self.param("random_state")) + 10_000 + k)
        chosen = rng.choice(n_feat, size, replace=False)
        return np.flatnonzero(np.isin(pre.groups_, chosen))

    def _member_rows(self, n: int, k: int) -> Optional[np.ndarray]:
        """The training rows of member ``k`` (``None``: all ``n``), drawn with seed
        ``random_state + k``."""
        size = _subset_size(self.max_samples, n)
        if size is None:
            return None
        rng = np.random.default_rng(int(self.param("random_state")) + k)
        return np.sort(rng.choice(n, size, replace=False))

    def _fit_member(self, scaling: str, X, k: int = 0,
                    prepared: Optional[Dict[Any, Tuple[TabularPreprocessor, np.ndarray]]] = None,
                    ) -> Tuple[DetectorMember, np.ndarray]:
        """Preprocess ``X`` with ``scaling`` (fitted on all rows; reused from ``prepared`` when
        another member of the same preprocessing did it) and train VAE ``k`` of
        :meth:`member_config` (seed ``random_state + k``) on its rows (:meth:`_member_rows`).
        Returns the member and all rows, preprocessed."""
        where = "VAEDetector.fit(X)"
        cats, seed = self.param("categorical_columns"), self.param("random_state")
        key = (scaling, None if cats is None else tuple(cats), seed)
        prepared = {} if prepared is None else prepared
        if key not in prepared:
            pre = TabularPreprocessor(scaling, cats, random_state=seed)
            prepared[key] = (pre, pre.fit_transform(X, where))
        pre, xt = prepared[key]
        n = xt.shape[0]
        check_train_rows(n, where, f"Fit on at least {MIN_TRAIN_ROWS} rows: a detector learns what normal rows look "
                                   f"like from them.")
        rows = self._member_rows(n, k)
        columns = self._member_columns(pre, k)
        x_fit = xt if rows is None else xt[rows]
        if columns is not None:
            x_fit = x_fit[:, columns]
        d = x_fit.shape[1]
        info = DataInfo(kind="vector", shape=(d,), likelihood="gaussian", n_train=len(x_fit))
        data = DataBundle(train=ArrayDataset(x_fit, where=where), val=None, test=None, info=info,
                          collate=collate_arrays)
        cfg = self.member_config(scaling, d)
        set_key(cfg, "train.seed", int(self.param("random_state")) + k)
        model, train = fit_vae(cfg, data, where="VAEDetector")
        self.n_steps_ = train.max_steps
        mixture = aggregate_posterior(model, x_fit, seed=int(self.param("random_state"))) \
            if self.param("score") == "elbo_agg" else None
        return DetectorMember(scaling, pre, model, mixture=mixture, columns=columns), xt

    # ------------------------------------------------------------------ scores
    def _member_scores(self, member: DetectorMember, xt: np.ndarray) -> np.ndarray:
        return anomaly_scores(member.model, member.view(xt), self.param("score"), self.param("n_score_samples"),
                              seed=int(self.param("random_state")), mixture=member.mixture)

    def _combine(self, scores: Sequence[np.ndarray]) -> np.ndarray:
        """Mean over members of ``(score - loc) / scale``; one member's score passes unchanged."""
        return np.mean([(s - m.score_loc) / m.score_scale for m, s in zip(self.members_, scores)], axis=0)

    def decision_function(self, X) -> np.ndarray:
        """Anomaly scores of the rows of ``X`` (higher = more anomalous), shape ``(n_samples,)``.

        Deterministic: the same rows give the same scores on every call.
        """
        self._check_fitted()
        where = "VAEDetector.decision_function(X)"
        return self._combine([self._member_scores(m, m.preprocessor.transform(X, where)) for m in self.members_])

    def explain(self, X):
        """Per-feature contributions to each row's score, as a DataFrame.

        Column ``j`` holds ``E_q[-log p(x_j|z)]`` in nats, summed over the model columns that
        encode input feature ``j`` (its value, its missing indicator, its one-hot levels);
        the last column, ``"[latent KL]"``, holds ``KL(q(z|x) || p(z))``. With several
        scalings each member's terms are divided by its ``score_scale`` and averaged, so they
        are on the scale of the combined score. A row's values add up to its ``score="elbo"``
        score plus ``score_offset_`` (0 for one scaling). The largest entries name the
        measurements the model found least plausible given the rest of the record.

        Returns
        -------
        pandas.DataFrame, shape (n_samples, n_features + 1)
            Indexed like ``X`` when ``X`` is a DataFrame.
        """
        import pandas as pd

        self._check_fitted()
        per_feature, kl = 0.0, 0.0
        for m in self.members_:
            xt = m.preprocessor.transform(X, "VAEDetector.explain(X)")
            nll, kl_m = feature_nll(m.model, m.view(xt), self.param("n_score_samples"),
                                    seed=int(self.param("random_state")))
            if m.columns is not None:  # the columns the member does not see contribute nothing
                full = np.zeros((len(nll), xt.shape[1]))
                full[:, m.columns] = nll
                nll = full
            per_feature = per_feature + m.preprocessor.group_sums(nll) / m.score_scale
            kl = kl + kl_m / m.score_scale
        per_feature, kl = per_feature / len(self.members_), kl / len(self.members_)
        index = X.index if isinstance(X, pd.DataFrame) else None
        out = pd.DataFrame(per_feature, columns=self.feature_names_in_, index=index)
        out[KL_COLUMN] = kl
        return out
