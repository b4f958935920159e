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

from . import recvae as _recvae  # noqa: F401  (registers the encoder and prior kinds recsys:recvae names)
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


class _ConfigRecommender(ConfigEstimator, _ValidatedFit):
    """A click-vector VAE recommender over the packaged config ``recsys:<config_name>``:
    ``fit`` trains :meth:`run_config` on ``X`` (validation users select the best evaluation by
    NDCG@100), ``predict_scores`` ranks by the decoder's logits at the posterior mean."""

    #: The packaged run config (``domains/recsys/configs/<name>.yaml``) this facade is backed by.
    config_name: ClassVar[str] = ""

    def packaged_config(self) -> Dict[str, Any]:
        return packaged(CONFIG_DIR / f"{self.config_name}.yaml")

    def fit(self, X: Any, item_ids: Optional[Sequence[Any]] = None, X_val: Any = None,
            X_val_target: Any = None) -> "_ConfigRecommender":
        """Train on the click rows of ``X`` ``(n_users, n_items)``.

        ``X_val``/``X_val_target``: fold-in and held-out items of validation users; with them
        the evaluation with the best validation NDCG@100 is kept (Liang et al.'s selection);
        without, the last step.
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
        """Item logits ``(n_rows, n_items_)`` of each fold-in row at its posterior mean
        (deterministic)."""
        X = self._check_foldin(X_foldin, "predict_scores")
        return item_scores(self.model_, X)


class MultVAERecommender(_ConfigRecommender):
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


class RecVAERecommender(_ConfigRecommender):
    """RecVAE (Shenbin et al. 2020): composite prior, per-user KL weight ``gamma * |x_u|``,
    alternating encoder/decoder updates (:mod:`~vaekit.domains.recsys.recvae`).

    A facade over the packaged run config ``recsys:recvae``
    (``domains/recsys/configs/recvae.yaml``, the published settings): ``fit`` trains that
    config with the arguments below applied, by the one trainer and its phase plan, so
    ``vaekit train recsys:recvae`` trains the same model on the same users. An argument left
    at ``FROM_CONFIG`` takes the YAML's value; :meth:`param` returns the effective value.

    Parameters
    ----------
    hidden_dim, latent_dim : int
        Defaults ``600, 200``.
    epochs : int
        Default ``50``. Alternation rounds; each has ``n_enc_epochs`` encoder passes and
        ``n_dec_epochs`` decoder passes (``fit.epochs`` = rounds x passes per round).
    n_enc_epochs, n_dec_epochs : int
        Defaults ``3, 1``. The epochs of the phases ``train.phases`` encoder and decoder.
    batch_size : int
        Default ``500``.
    lr : float
        Default ``0.0005``. Adam, one per phase.
    gamma : float
        Default ``0.005``. KL weight per click (the paper's ML-20M run).
    dropout : float
        Default ``0.5``. Dropout on the L2-normalised input (encoder phases only).
    device : str
        Default ``cpu``.
    random_state : int
        Default ``0``.
    verbose : int
        Default ``0``. 1: progress bar.
    """

    config_name: ClassVar[str] = "recvae"
    #: argument -> the config keys it sets (``epochs``, rounds, is resolved in
    #: :meth:`config_overrides`).
    config_keys = {
        **{k: v for k, v in TRAIN_KEYS.items() if k != "weight_decay"},  # RecVAE's Adams have none
        "hidden_dim": "model.encoder.params.hidden_dim",
        "latent_dim": "model.latent_dim",
        "n_enc_epochs": "train.phases.0.epochs",
        "n_dec_epochs": "train.phases.1.epochs",
        "gamma": "objective.beta",
        "dropout": "model.encoder.params.input_dropout",
    }

    def __init__(self, hidden_dim: int = FROM_CONFIG, latent_dim: int = FROM_CONFIG, epochs: int = FROM_CONFIG,
                 n_enc_epochs: int = FROM_CONFIG, n_dec_epochs: int = FROM_CONFIG, batch_size: int = FROM_CONFIG,
                 lr: float = FROM_CONFIG, gamma: float = FROM_CONFIG, dropout: float = FROM_CONFIG,
                 device: str = FROM_CONFIG, random_state: int = FROM_CONFIG, verbose: int = FROM_CONFIG):
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

    def _passes_per_round(self) -> int:
        return int(self.param("n_enc_epochs")) + int(self.param("n_dec_epochs"))

    def param(self, name: str) -> Any:
        if name == "epochs" and self.epochs is FROM_CONFIG:  # the YAML's rounds, in its own passes per round
            cfg = self.packaged_config()
            passes = sum(int(get_key(cfg, self.config_keys[n])) for n in ("n_enc_epochs", "n_dec_epochs"))
            total = int(get_key(cfg, "fit.epochs"))
            if total % passes:
                raise ConfigError(f"recsys:{self.config_name} fit.epochs: {total} passes are not whole rounds of "
                                  f"{passes} (train.phases epochs); make them a multiple, or pass epochs.")
            return total // passes
        return super().param(name)

    def config_overrides(self) -> Dict[str, Any]:
        """The arguments as dotted keys; rounds become ``fit.epochs`` = rounds x passes."""
        out = super().config_overrides()
        if any(getattr(self, n) is not FROM_CONFIG for n in ("epochs", "n_enc_epochs", "n_dec_epochs")):
            out["fit.epochs"] = int(self.param("epochs")) * self._passes_per_round()
        return out
