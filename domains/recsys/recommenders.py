"""VAE recommenders in scikit-learn style on CSR matrices: ``fit(X)``, ``predict_scores``,
``recommend`` (from :class:`~vaekit.domains.recsys.baselines.Recommender`).

A new user is a fold-in row: ``recommend(X_new_users, k)`` encodes their clicks and ranks the
catalogue without retraining. Mult-VAE and Mult-DAE are facades over packaged run configs (``recsys:multvae``,
``recsys:multdae``; :mod:`vaekit.core.estimator`) whose defaults are the published settings
(Liang et al. 2018); RecVAE's defaults are Shenbin et al. 2020's.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from vaekit.core.data import SparseRowDataset, collate_sparse_rows
from vaekit.core.errors import ConfigError
from vaekit.core.estimator import FROM_CONFIG, TRAIN_KEYS, ConfigEstimator, fit_vae, get_key, packaged
from vaekit.core.types import DataBundle

from .baselines import Recommender
from .models import click_info, item_scores, liang_beta, ranking_validation

#: Where the packaged run configs of the facades live (``recsys:multvae``, ``recsys:multdae``).
CONFIG_DIR = Path(__file__).parent / "configs"


class _ValidatedFit(Recommender):
    """Shared ``fit`` argument handling: optional validation users for model selection."""

    def _val(self, X_val: Any, X_val_target: Any):
        if X_val is None and X_val_target is None:
            return None, None
        if X_val is None or X_val_target is None:
            raise ConfigError(f"{type(self).__name__}.fit: pass both X_val (fold-in) and X_val_target (held-out "
                              f"items) to select the best epoch, or neither.")
        return (self._check_X(X_val, self._where("fit") + " (X_val)"),
                self._check_X(X_val_target, self._where("fit") + " (X_val_target)"))


class MultVAERecommender(ConfigEstimator, _ValidatedFit):
    """Mult-VAE (Liang et al. 2018): multinomial likelihood, KL annealed to a cap, input dropout.

    A facade over the packaged run config ``recsys:multvae``
    (``domains/recsys/configs/multvae.yaml``; :mod:`vaekit.core.estimator`): ``fit`` trains
    that config, with the arguments below applied (:meth:`run_config`), by the one trainer, so
    ``vaekit train recsys:multvae`` trains the same model on the same users. An argument left
    at ``FROM_CONFIG`` takes the YAML's value (the published settings, in brackets);
    :meth:`param` returns the effective value.

    Parameters
    ----------
    latent_dim : int
        Default ``200``.
    hidden_dims : sequence of int
        Default ``[600]``. Encoder widths (decoder mirrored): ``[n_items -> 600 -> 200 -> 600 ->
        n_items]``.
    dropout : float
        Default ``0.5``. Dropout on the L2-normalised input.
    beta_cap : float
        Default ``0.2``. The KL weight grows by ``1 / total_anneal_steps`` per update up to
        ``beta_cap``.
    total_anneal_steps : int
        Default ``200000``.
    epochs, batch_size : int
        Defaults ``200, 500``.
    lr, weight_decay : float
        Defaults ``0.001, 0``. Adam.
    device : str
        Default ``cpu``.
    random_state : int
        Default ``98765``.
    verbose : int
        Default ``0``. 1: progress bar.

    Attributes
    ----------
    model_ : vaekit.core.vae.VAE
    n_items_ : int
    item_ids_ : ndarray or None
    """

    #: The packaged run config (``domains/recsys/configs/<name>.yaml``) this facade is backed by.
    config_name: ClassVar[str] = "multvae"
    #: argument -> the config keys it sets (``hidden_dims`` also sets the mirrored decoder,
    #: ``beta_cap``/``total_anneal_steps`` the KL schedule: see :meth:`config_overrides`).
    config_keys = {
        "latent_dim": "model.latent_dim",
        "hidden_dims": "model.encoder.params.hidden_dims",
        "dropout": "model.encoder.params.input_dropout",
        **TRAIN_KEYS,
    }

    def __init__(self, latent_dim: int = FROM_CONFIG, hidden_dims: Sequence[int] = FROM_CONFIG,
                 dropout: float = FROM_CONFIG, beta_cap: float = FROM_CONFIG, total_anneal_steps: int = FROM_CONFIG,
                 epochs: int = FROM_CONFIG, batch_size: int = FROM_CONFIG, lr: float = FROM_CONFIG,
                 weight_decay: float = FROM_CONFIG, device: str = FROM_CONFIG, random_state: int = FROM_CONFIG,
                 verbose: int = FROM_CONFIG):
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.dropout = dropout
        self.beta_cap = beta_cap
        self.total_anneal_steps = total_anneal_steps
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ config
    def packaged_config(self) -> Dict[str, Any]:
        return packaged(CONFIG_DIR / f"{self.config_name}.yaml")

    def _anneal(self) -> Tuple[float, Optional[int]]:
        """``(beta_cap, total_anneal_steps)``: the arguments, or read off the packaged KL
        schedule ``{kind: linear, start: 0, end: cap, steps: ceil(cap * total)}`` (a constant
        weight has a cap and no annealing length)."""
        beta = get_key(self.packaged_config(), "objective.beta", 0.0)
        if isinstance(beta, Mapping):
            cap, total = float(beta["end"]), (round(beta["steps"] / beta["end"]) if beta["end"] > 0 else None)
        else:
            cap, total = float(beta), None
        if self.beta_cap is not FROM_CONFIG:
            cap = float(self.beta_cap)
        if self.total_anneal_steps is not FROM_CONFIG:
            total = int(self.total_anneal_steps)
        if cap > 0 and total is None:
            raise ConfigError(f"{type(self).__name__}(total_anneal_steps=...): recsys:{self.config_name} has a "
                              f"constant KL weight, so beta_cap={cap!r} needs an annealing length; pass "
                              f"total_anneal_steps (Liang et al. use 200000).")
        return cap, total

    def param(self, name: str) -> Any:
        if name == "beta_cap":
            return self._anneal()[0]
        if name == "total_anneal_steps":
            return self._anneal()[1]
        return super().param(name)

    def config_overrides(self) -> Dict[str, Any]:
        """The arguments as dotted keys: the decoder mirrors ``hidden_dims``; ``beta_cap`` and
        ``total_anneal_steps`` give Liang et al.'s schedule :func:`~.models.liang_beta`."""
        out = super().config_overrides()
        if "model.encoder.params.hidden_dims" in out:
            out["model.decoder.params.hidden_dims"] = list(reversed(out["model.encoder.params.hidden_dims"]))
        if self.beta_cap is not FROM_CONFIG or self.total_anneal_steps is not FROM_CONFIG:
            out["objective.beta"] = liang_beta(*self._anneal())
        return out

    # ------------------------------------------------------------------ fit / predict
    def fit(self, X: Any, item_ids: Optional[Sequence[Any]] = None, X_val: Any = None,
            X_val_target: Any = None) -> "MultVAERecommender":
        """Train on the click rows of ``X`` ``(n_users, n_items)``.

        ``X_val``/``X_val_target``: fold-in and held-out items of validation users; with them
        the epoch with the best validation NDCG@100 is kept (Liang et al.'s selection);
        without, the last epoch.
        """
        X = self._start_fit(X, item_ids)
        X_val, X_val_target = self._val(X_val, X_val_target)
        has_val = X_val is not None and X_val.shape[0] > 0
        data = DataBundle(train=SparseRowDataset(X, where="X"),
                          val=SparseRowDataset(X_val, X_val_target, where="X_val") if has_val else None,
                          test=None, info=click_info(X.shape[1], X.shape[0]), collate=collate_sparse_rows)
        self.model_, _ = fit_vae(self.run_config(), data,
                                 val_metrics=ranking_validation(X_val, X_val_target) if has_val else None)
        return self

    def predict_scores(self, X_foldin: Any) -> np.ndarray:
        """Item logits ``(n_rows, n_items_)`` of each fold-in row (deterministic)."""
        X = self._check_foldin(X_foldin, "predict_scores")
        return item_scores(self.model_, X)


class MultDAERecommender(MultVAERecommender):
    """Mult-DAE (Liang et al. 2018): Mult-VAE without the KL term, with weight decay.

    A facade over ``recsys:multdae`` (``domains/recsys/configs/multdae.yaml``), whose defaults
    are Liang et al.'s: ``beta_cap=0`` and ``weight_decay = 2 * 0.01 / batch_size`` = 4e-5
    (their ``lam = 0.01 / batch_size`` on ``sum w^2 / 2``, counted twice in their loss); the
    other arguments as :class:`MultVAERecommender`. ``beta_cap > 0`` needs
    ``total_anneal_steps``. See :mod:`~vaekit.domains.recsys.models` for how the
    deterministic code is obtained.
    """

    config_name: ClassVar[str] = "multdae"


class RecVAERecommender(_ValidatedFit):
    """RecVAE (Shenbin et al. 2020): composite prior, per-user KL weight ``gamma * |x_u|``,
    alternating encoder/decoder updates (:mod:`~vaekit.domains.recsys.recvae`).

    Parameters
    ----------
    hidden_dim, latent_dim : int
    epochs : int
        Alternation rounds; each has ``n_enc_epochs`` encoder passes and ``n_dec_epochs``
        decoder passes.
    n_enc_epochs, n_dec_epochs : int
    batch_size : int
    lr : float
    gamma : float
        KL weight per click (0.005 in the paper's ML-20M run).
    dropout : float
    device : str
    random_state : int
    verbose : int
    """

    def __init__(self, hidden_dim: int = 600, latent_dim: int = 200, epochs: int = 50, n_enc_epochs: int = 3,
                 n_dec_epochs: int = 1, batch_size: int = 500, lr: float = 5e-4, gamma: float = 0.005,
                 dropout: float = 0.5, device: str = "cpu", random_state: int = 0, verbose: int = 0):
        self.hidden_dim = hidden_dim
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.n_enc_epochs = n_enc_epochs
        self.n_dec_epochs = n_dec_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.gamma = gamma
        self.dropout = dropout
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, item_ids: Optional[Sequence[Any]] = None, X_val: Any = None,
            X_val_target: Any = None) -> "RecVAERecommender":
        """Train on ``X``; with validation users the best epoch by NDCG@100 is kept."""
        from .recvae import train_recvae

        X = self._start_fit(X, item_ids)
        X_val, X_val_target = self._val(X_val, X_val_target)
        self.model_ = train_recvae(X, hidden_dim=self.hidden_dim, latent_dim=self.latent_dim, epochs=self.epochs,
                                   n_enc_epochs=self.n_enc_epochs, n_dec_epochs=self.n_dec_epochs,
                                   batch_size=self.batch_size, lr=self.lr, gamma=self.gamma, dropout=self.dropout,
                                   seed=self.random_state, device=self.device, X_val=X_val,
                                   X_val_target=X_val_target, progress=bool(self.verbose))
        return self

    def predict_scores(self, X_foldin: Any) -> np.ndarray:
        """Item logits ``(n_rows, n_items_)`` at each fold-in row's posterior mean."""
        from .recvae import recvae_scores

        X = self._check_foldin(X_foldin, "predict_scores")
        return recvae_scores(self.model_, X)
