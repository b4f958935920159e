"""vaekit.pipelines: YAML config -> train -> evaluate -> generate, and the ``vaekit`` CLI."""
from .config import EvalConfig, RunConfig, dump_config, load_config
from .runs import evaluate_run, generate_run, load_run, train_run

__all__ = ["EvalConfig", "RunConfig", "dump_config", "load_config", "train_run", "evaluate_run", "generate_run",
           "load_run"]
