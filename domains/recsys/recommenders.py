"""VAE recommenders in scikit-learn style on CSR matrices: ``fit(X)``, ``predict_scores``,
``recommend`` (from :class:`~vaekit.domains.recsys.baselines.Recommender`).

A new user is a fold-in row: ``recommend(X_new_users, k)`` encodes their clicks and ranks the
catalogue without retraining. Default constructor arguments are the published settings
(Liang et al. 2018 for Mult-VAE/Mult-DAE, Shenbin et al. 2020 for RecVAE).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .baselines import Recommender


class _ValidatedFit(Recommender):
    """Shared ``fit`` argument handling: optional validation users for model selection."""

    def _val(self, X_val: Any, X_val_target: Any):
        if X_val is None and X_val_target is None:
            return None, None
        if X_val is None or X_val_target is None:
            from vaekit.core.errors import ConfigError

            raise ConfigError(f"{type(self).__name__}.fit: pass both X_val (fold-in) and X_val_target (held-out "
                              f"items) to select the best epoch, or neither.")
        return (self._check_X(X_val, self._where("fit") + " (X_val)"),
                self._check_X(X_val_target, self._where("fit") + " (X_val_target)"))


class MultVAERecommender(_ValidatedFit):
    """Mult-VAE (Liang et al. 2018): multinomial likelihood, KL annealed to a cap, input dropout.

    Parameters
    ----------
    latent_dim : int
    hidden_dims : sequence of int
        Encoder widths (decoder mirrored); ``[n_items -> 600 -> 200 -> 600 -> n_items]``.
    dropout : float
        Dropout on the L2-normalised input.
    beta_cap : float
        The KL weight grows by ``1 / total_anneal_steps`` per update up to ``beta_cap``.
    total_anneal_steps : int
    epochs, batch_size : int
    lr, weight_decay : float
        Adam.
    device : str
    random_state : int
    verbose : int
        1: progress bar.

    Attributes
    ----------
    model_ : vaekit.core.vae.VAE
    n_items_ : int
    item_ids_ : ndarray or None
    """

    def __init__(self, latent_dim: int = 200, hidden_dims: Sequence[int] = (600,), dropout: float = 0.5,
                 beta_cap: float = 0.2, total_anneal_steps: int = 200_000, epochs: int = 200, batch_size: int = 500,
                 lr: float = 1e-3, weight_decay: float = 0.0, device: str = "cpu", random_state: int = 98765,
                 verbose: int = 0):
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

    def _beta(self):
        from .models import liang_beta

        return liang_beta(self.beta_cap, self.total_anneal_steps)

    def fit(self, X: Any, item_ids: Optional[Sequence[Any]] = None, X_val: Any = None,
            X_val_target: Any = None) -> "MultVAERecommender":
        """Train on the click rows of ``X`` ``(n_users, n_items)``.

        ``X_val``/``X_val_target``: fold-in and held-out items of validation users; with them
        the epoch with the best validation NDCG@100 is kept (Liang et al.'s selection).
        """
        from .models import mult_vae_config, train_click_vae

        X = self._start_fit(X, item_ids)
        X_val, X_val_target = self._val(X_val, X_val_target)
        cfg = mult_vae_config(self.latent_dim, self.hidden_dims, self.dropout)
        self.model_ = train_click_vae(cfg, X, beta=self._beta(), epochs=self.epochs, batch_size=self.batch_size,
                                      lr=self.lr, weight_decay=self.weight_decay, seed=self.random_state,
                                      device=self.device, X_val=X_val, X_val_target=X_val_target,
                                      progress=bool(self.verbose))
        return self

    def predict_scores(self, X_foldin: Any) -> np.ndarray:
        """Item logits ``(n_rows, n_items_)`` of each fold-in row (deterministic)."""
        from .models import item_scores

        X = self._check_foldin(X_foldin, "predict_scores")
        return item_scores(self.model_, X)


class MultDAERecommender(MultVAERecommender):
    """Mult-DAE (Liang et al. 2018): Mult-VAE without the KL term, with weight decay.

    Defaults as Liang et al.: ``beta_cap=0`` and ``weight_decay = 2 * 0.01 / batch_size``
    (their ``lam = 0.01 / batch_size`` on ``sum w^2 / 2``, counted twice in their loss).
    See :mod:`~vaekit.domains.recsys.models` for how the deterministic code is obtained.
    """

    def __init__(self, latent_dim: int = 200, hidden_dims: Sequence[int] = (600,), dropout: float = 0.5,
                 beta_cap: float = 0.0, total_anneal_steps: int = 200_000, epochs: int = 200, batch_size: int = 500,
                 lr: float = 1e-3, weight_decay: float = 4e-5, device: str = "cpu", random_state: int = 98765,
                 verbose: int = 0):
        super().__init__(latent_dim, hidden_dims, dropout, beta_cap, total_anneal_steps, epochs, batch_size, lr,
                         weight_decay, device, random_state, verbose)


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
