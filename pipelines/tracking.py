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
"""
from __future__ import annotations

import importlib.util
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from vaekit.core.errors import ConfigError, MissingDependencyError


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


class TensorBoardTracker:
    """Scalars ``<split>/<key>`` against the step, in ``RUN/tensorboard``."""

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
    """One MLflow run per vaekit run (resumed runs continue it); params = the flattened config."""

    def __init__(self, run_dir: Path, uri: str, experiment: str, params: Dict[str, Any]):
        import mlflow

        self.mlflow = mlflow
        mlflow.set_tracking_uri(uri)
        mlflow.set_experiment(experiment)
        id_file = Path(run_dir) / "mlflow_run.txt"
        run_id = id_file.read_text().strip() if id_file.is_file() else None
        self.run = mlflow.start_run(run_id=run_id, run_name=None if run_id else Path(run_dir).name)
        if run_id is None:
            id_file.write_text(self.run.info.run_id)
            # MLflow caps a param value at 6000 characters (500 before 2.x): long lists are cut.
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})

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


def open_trackers(cfg: TrackingConfig, run_dir: Path, config_dict: Dict[str, Any],
                  log: Callable[[str], None]) -> List[Any]:
    """The trackers ``cfg`` asks for (none is an empty list).

    Raises
    ------
    MissingDependencyError
        ``tensorboard: true`` or ``mlflow: true`` without the package installed.
    """
    trackers: List[Any] = []
    tb = cfg.tensorboard
    if tb or (tb is None and _installed("tensorboard")):
        if not _installed("tensorboard"):
            raise MissingDependencyError("tracking.tensorboard: true needs the tensorboard package. Install it "
                                         "with: pip install 'vaekit[tracking]' (or set tracking.tensorboard: false).")
        trackers.append(TensorBoardTracker(run_dir))
    uri = cfg.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if cfg.mlflow or (cfg.mlflow is None and uri):
        if not _installed("mlflow"):
            raise MissingDependencyError("tracking.mlflow needs the mlflow package (a tracking URI is set). Install "
                                         "it with: pip install 'vaekit[tracking]', or set tracking.mlflow: false.")
        uri = uri or f"sqlite:///{(Path(run_dir).resolve().parent / 'mlflow.db')}"
        trackers.append(MLflowTracker(run_dir, uri, cfg.experiment, _flatten(config_dict)))
        log(f"vaekit: logging to MLflow at {uri} (experiment {cfg.experiment!r})")
    return trackers


class Trackers:
    """Context manager fanning records out to every tracker and closing them at the end."""

    def __init__(self, trackers: List[Any]):
        self.trackers = trackers

    def log(self, record: Dict[str, Any]) -> None:
        for t in self.trackers:
            t.log(record)

    def log_final(self, values: Dict[str, Any], step: int) -> None:
        for t in self.trackers:
            t.log_final(values, step)

    def __enter__(self) -> "Trackers":
        return self

    def __exit__(self, *exc) -> None:
        for t in self.trackers:
            t.close()
