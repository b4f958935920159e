"""Experiment tracking: every training record to TensorBoard and MLflow, besides ``metrics.jsonl``.

The ``tracking`` section of a run config:

* ``tensorboard``: ``null`` (default: on when the ``tensorboard`` package is installed),
  ``true`` (required: fail if it is missing) or ``false``. Event files go to ``RUN/tensorboard``
  (``tensorboard --logdir runs``).
* ``mlflow``: ``null`` (default: on when a tracking URI is set, by ``mlflow_uri`` or the
  ``MLFLOW_TRACKING_URI`` environment variable), ``true`` (on; without a URI the local default is
  the SQLite store ``sqlite:///<run dir's parent>/mlflow.db``, browsed with
  ``mlflow ui --backend-store-uri sqlite:///runs/mlflow.db``) or ``false``.
* ``mlflow_uri``, ``experiment``: where and under which experiment name runs are logged.

A resumed run logs into the same MLflow run (its id is kept in ``RUN/mlflow_run.txt``), and
``vaekit evaluate`` adds the evaluation's numbers to it.

Where results are sent is the user's choice, never a run directory's: ``vaekit train`` takes
the destination from the config the user passes (``tracking.mlflow_uri``) or their environment
(``MLFLOW_TRACKING_URI``); ``vaekit evaluate`` of an existing run directory ignores the
``tracking.mlflow_uri`` its ``config.yaml`` names (a downloaded run could name anyone's server)
and logs only where ``--mlflow-uri`` or ``MLFLOW_TRACKING_URI`` says, or to the local default
store when the run was tracked there. Every destination is printed in one line
(``vaekit: logging to MLflow at ...``); a URI MLflow cannot open is one :class:`ConfigError`
naming where it came from, and a tracker that fails during a run is a warning (the run goes on;
``metrics.jsonl`` keeps every record).
"""
from __future__ import annotations

import importlib.util
import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

from vaekit.core.checkpoint import atomic_path
from vaekit.core.errors import ConfigError, MissingDependencyError, fmt_error


@dataclass(frozen=True)
class TrackingConfig:
    """The ``tracking`` section (see the module docstring)."""

    tensorboard: Optional[bool] = None
    mlflow: Optional[bool] = None
    mlflow_uri: Optional[str] = None
    experiment: str = "vaekit"

    def validate(self, path: str = "tracking") -> None:
        if not self.experiment:
            raise ConfigError(f"{path}.experiment: must be a non-empty name; got {self.experiment!r}.")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _numeric(record: Dict[str, Any]) -> Dict[str, float]:
    return {k: float(v) for k, v in record.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "step" and math.isfinite(float(v))}


class TrackingStoreError(Exception):
    """MLflow could not open the tracking store at a URI (turned into a one-line error)."""


def _short(exc: BaseException) -> str:
    """An exception in one short line: its type and first sentence (MLflow's run to paragraphs)."""
    text = " ".join(str(exc).split())
    cut = text.find(". ", 40)
    text = text[:cut + 1] if 0 < cut < 200 else text[:200]
    return f"{type(exc).__name__}: {text}"


def shown_uri(uri: str) -> str:
    """``uri`` as printed: a password in it is masked (``https://me:***@host``)."""
    try:
        parts = urlsplit(uri)
        if parts.password:
            host = parts.netloc.rsplit("@", 1)[1]
            return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    except ValueError:
        pass
    return uri


class TensorBoardTracker:
    """Scalars ``<split>/<key>`` against the step, in ``RUN/tensorboard``."""

    name = "TensorBoard"

    def __init__(self, run_dir: Path):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"))

    def log(self, record: Dict[str, Any]) -> None:
        split = record.get("split", "train")
        for k, v in _numeric(record).items():
            self.writer.add_scalar(f"{split}/{k}", v, global_step=int(record.get("step", 0)))

    def log_final(self, values: Dict[str, Any], step: int) -> None:
        for k, v in _numeric(values).items():
            self.writer.add_scalar(f"eval/{k}", v, global_step=step)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


def mlflow_key(key: str) -> str:
    """MLflow metric names allow letters, digits, ``_ - . / :`` and spaces: ``ndcg@100 -> ndcg_at_100``."""
    return re.sub(r"[^\w\-./: ]", "_", key.replace("@", "_at_"))


class MLflowTracker:
    """One MLflow run per vaekit run (resumed runs continue it); params = the flattened config.

    Raises
    ------
    TrackingStoreError
        MLflow cannot open the store at ``uri`` (unknown scheme, unreachable server, ...).
    """

    name = "MLflow"

    def __init__(self, run_dir: Path, uri: str, experiment: str, params: Dict[str, Any],
                 log: Callable[[str], None] = lambda m: None):
        import mlflow

        self.mlflow = mlflow
        id_file = Path(run_dir) / "mlflow_run.txt"
        run_id = id_file.read_text(errors="replace").strip()[:64] if id_file.is_file() else None
        try:
            mlflow.set_tracking_uri(uri)
            mlflow.set_experiment(experiment)
        except Exception as exc:
            raise TrackingStoreError(_short(exc)) from exc
        self.run = None
        if run_id:
            try:
                self.run = mlflow.start_run(run_id=run_id)
            except Exception as exc:  # an id from another store (a copied run dir, another URI)
                log(f"vaekit: note: MLflow run {run_id!r} of {id_file} is not in this store ({_short(exc)}); "
                    f"starting a new MLflow run")
        try:
            if self.run is None:
                self.run = mlflow.start_run(run_name=Path(run_dir).name)
                # MLflow caps a param value at 6000 characters (500 before 2.x): long lists are cut.
                mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        except Exception as exc:
            self._end()
            raise TrackingStoreError(_short(exc)) from exc
        if self.run.info.run_id != run_id:
            try:
                with atomic_path(id_file) as tmp:
                    tmp.write_text(self.run.info.run_id)
            except BaseException:
                self._end()  # never leave an active MLflow run behind in this process
                raise

    def _end(self) -> None:
        try:
            self.mlflow.end_run(status="FAILED")
        except Exception:  # nothing more to do about a store that just failed
            pass

    def log(self, record: Dict[str, Any]) -> None:
        split = record.get("split", "train")
        self.mlflow.log_metrics({mlflow_key(f"{split}/{k}"): v for k, v in _numeric(record).items()},
                                step=int(record.get("step", 0)))

    def log_final(self, values: Dict[str, Any], step: int) -> None:
        self.mlflow.log_metrics({mlflow_key(f"eval/{k}"): v for k, v in _numeric(values).items()}, step=step)

    def close(self) -> None:
        self.mlflow.end_run()


def _flatten(d: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


#: How to fix a URI MLflow refused, by where the URI came from.
_URI_FIXES = {
    "tracking.mlflow_uri": "Set tracking.mlflow_uri to a URI MLflow opens, e.g. sqlite:///runs/mlflow.db or "
                           "http://HOST:5000 (--set tracking.mlflow_uri=...), or turn MLflow off with "
                           "--set tracking.mlflow=false.",
    "MLFLOW_TRACKING_URI": "Set the MLFLOW_TRACKING_URI environment variable to a URI MLflow opens, e.g. "
                           "sqlite:///runs/mlflow.db or http://HOST:5000, or unset it (or --set tracking.mlflow=false).",
    "--mlflow-uri": "Pass --mlflow-uri a URI MLflow opens, e.g. sqlite:///runs/mlflow.db or http://HOST:5000.",
}


def mlflow_destination(cfg: TrackingConfig, run_dir: Path, user_uri: Optional[str] = None,
                       from_saved_config: bool = False,
                       log: Callable[[str], None] = lambda m: None) -> Optional[Tuple[str, str]]:
    """Where MLflow logs, as ``(uri, source)``, or None for no MLflow.

    ``source`` names where the URI came from: ``--mlflow-uri`` (``user_uri``),
    ``tracking.mlflow_uri`` (the config the user passed), ``MLFLOW_TRACKING_URI`` (the
    environment) or ``local default``. With ``from_saved_config`` (``cfg`` was read from an
    existing run directory) the config's ``mlflow_uri`` is not used: a run directory does not
    choose where its results are sent; a note says so when it names one.
    """
    if user_uri:
        return user_uri, "--mlflow-uri"
    if cfg.mlflow is False:
        return None
    env = os.environ.get("MLFLOW_TRACKING_URI")
    ignored = from_saved_config and bool(cfg.mlflow_uri)
    if ignored:
        log(f"vaekit: note: {Path(run_dir) / 'config.yaml'} names tracking.mlflow_uri {cfg.mlflow_uri[:80]!r}; "
            f"not used: a run directory does not choose where its results are sent. Pass --mlflow-uri URI "
            f"(or set MLFLOW_TRACKING_URI) to log the evaluation there.")
    if cfg.mlflow_uri and not from_saved_config:
        return cfg.mlflow_uri, "tracking.mlflow_uri"
    if env:
        return env, "MLFLOW_TRACKING_URI"
    if cfg.mlflow and not ignored:  # on without a URI: the local store beside the run directory
        return f"sqlite:///{(Path(run_dir).resolve().parent / 'mlflow.db')}", "local default"
    return None


def open_trackers(cfg: TrackingConfig, run_dir: Path, config_dict: Dict[str, Any],
                  log: Callable[[str], None], *, mlflow_uri: Optional[str] = None,
                  from_saved_config: bool = False) -> List[Any]:
    """The trackers ``cfg`` asks for (none is an empty list).

    Parameters
    ----------
    mlflow_uri : str, optional
        A destination the user gave this command (``vaekit evaluate --mlflow-uri``); wins.
    from_saved_config : bool
        ``cfg`` comes from an existing run directory's ``config.yaml`` (``vaekit evaluate``):
        its ``mlflow_uri`` is ignored (see :func:`mlflow_destination`) and its
        ``tensorboard: true`` does not require the package.

    Raises
    ------
    MissingDependencyError
        ``tensorboard: true`` or MLflow asked for without the package installed.
    ConfigError
        MLflow cannot open the tracking URI the user gave (message names its source).
    """
    trackers: List[Any] = []
    tb = None if from_saved_config and cfg.tensorboard else cfg.tensorboard
    if tb or (tb is None and _installed("tensorboard")):
        if not _installed("tensorboard"):
            raise MissingDependencyError("tracking.tensorboard: true needs the tensorboard package. Install it "
                                         "with: pip install 'vaekit[tracking]' (or set tracking.tensorboard: false).")
        trackers.append(TensorBoardTracker(run_dir))
    dest = mlflow_destination(cfg, run_dir, mlflow_uri, from_saved_config, log)
    if dest is not None:
        uri, source = dest
        if not _installed("mlflow"):
            raise MissingDependencyError(f"tracking.mlflow needs the mlflow package (a tracking URI is set by "
                                         f"{source}). Install it with: pip install 'vaekit[tracking]', or set "
                                         f"tracking.mlflow: false.")
        try:
            trackers.append(MLflowTracker(run_dir, uri, cfg.experiment, _flatten(config_dict), log))
        except TrackingStoreError as exc:
            if source == "local default":  # nothing the user chose: go on without it
                warnings.warn(f"tracking: MLflow cannot open the local store {uri} ({exc}); the run continues "
                              f"without MLflow (metrics.jsonl has every record).", stacklevel=2)
            else:
                for t in trackers:
                    t.close()
                raise ConfigError(fmt_error(source, f"MLflow cannot log to this tracking URI ({exc})",
                                            shown_uri(uri)[:80], _URI_FIXES[source])) from None
        else:
            log(f"vaekit: logging to MLflow at {shown_uri(uri)} (experiment {cfg.experiment!r}, URI from {source})")
    return trackers


class Trackers:
    """Context manager fanning records out to every tracker and closing them at the end.

    A tracker that raises (a server gone away, a full disk) is warned about once and dropped:
    tracking is a copy of ``metrics.jsonl`` and must not end a run.
    """

    def __init__(self, trackers: List[Any]):
        self.trackers = list(trackers)

    def _call(self, method: str, *args) -> None:
        for t in list(self.trackers):
            try:
                getattr(t, method)(*args)
            except Exception as exc:
                self.trackers.remove(t)
                name = getattr(t, "name", type(t).__name__)
                warnings.warn(f"tracking: {name} failed ({_short(exc)}); the run continues without it "
                              f"(metrics.jsonl has every record).", stacklevel=3)
                try:
                    t.close()
                except Exception:  # already reported above
                    pass

    def log(self, record: Dict[str, Any]) -> None:
        self._call("log", record)

    def log_final(self, values: Dict[str, Any], step: int) -> None:
        self._call("log_final", values, step)

    def __enter__(self) -> "Trackers":
        return self

    def __exit__(self, *exc) -> None:
        self._call("close")
