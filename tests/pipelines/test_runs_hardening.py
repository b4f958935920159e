"""Run directories under bad input and faults (issue 19 items 2, 7, 17, 18, 19): one writer at a
time (an OS lock), run names that stay inside runs/, atomic writes, no half-made run directory
after a failed load, and tracking destinations that come from the user only."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from vaekit.core.errors import ConfigError, DataValidationError
from vaekit.pipelines import load_config, train_run
from vaekit.pipelines.cli import main
from vaekit.pipelines.config import config_from_dict, dump_config
from vaekit.pipelines.runs import evaluate_run

FAST = ["train.max_steps=20", "train.eval_every=10", "train.log_every=10", "data.n_train=128", "data.n_val=32",
        "data.n_test=32", "eval.iw_samples=2", "eval.n_samples=20", "eval.mi_examples=20", "train.progress=false",
        "tracking.tensorboard=false", "tracking.mlflow=false"]
QUIET = dict(log=lambda m: None)


def _cfg(extra=()):
    return load_config("toy:default", FAST + list(extra))


# ---------------------------------------------------------------- item 17: run names


@pytest.mark.parametrize("bad", ["x/../../../escaped_run", "a\\b", "..", ".", "", "  ", "a\x00b", "x" * 300])
def test_run_name_must_be_one_path_component(bad):
    data = yaml.safe_load(dump_config(_cfg()))
    data["name"] = bad
    with pytest.raises(ConfigError, match=r"^name: .*one folder name") as err:
        config_from_dict(data)
    msg = str(err.value)
    assert repr(bad)[:60] in msg and "name: my_run" in msg  # the value (its first characters) and the fix


def test_escaping_name_from_the_cli_is_refused_before_anything_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w").mkdir()
    monkeypatch.chdir(tmp_path / "w")
    code = main(["train", "toy:default", "--set", "name=x/../../../escaped_run", *FAST])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "name:" in err and "escaped_run" in err
    assert not (tmp_path / "escaped_run").exists() and not (tmp_path / "w" / "runs").exists()


def test_fresh_deletes_a_symlink_in_the_run_dir_not_what_it_points_to(tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    (tmp_path / "elsewhere.txt").write_text("mine too")
    run = tmp_path / "run"
    train_run(_cfg(), run, **QUIET)
    import shutil

    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").symlink_to(outside, target_is_directory=True)
    (run / "eval.json").symlink_to(tmp_path / "elsewhere.txt")
    train_run(_cfg(), run, resume="never", **QUIET)
    assert (outside / "keep.txt").read_text() == "mine" and (tmp_path / "elsewhere.txt").read_text() == "mine too"
    assert (run / "checkpoints" / "last.pt").is_file() and not (run / "checkpoints").is_symlink()


# ---------------------------------------------------------------- item 18: atomic writes


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory):
    """One SQLite MLflow store for this module (creating one costs seconds of migrations)."""
    pytest.importorskip("mlflow")
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def _fail_writes_to(monkeypatch, fragment):
    """Make Path.write_text write half its text and fail (a full disk) for files named like ``fragment``."""
    real = Path.write_text

    def half(self, text, *a, **k):
        if fragment in self.name:
            real(self, text[: len(text) // 2], *a, **k)
            raise OSError(28, "No space left on device")
        return real(self, text, *a, **k)

    monkeypatch.setattr(Path, "write_text", half)


def test_config_yaml_is_never_left_half_written(tmp_path, monkeypatch):
    run = tmp_path / "run"
    train_run(_cfg(), run, **QUIET)
    before = (run / "config.yaml").read_text()
    _fail_writes_to(monkeypatch, "config.yaml")
    with pytest.raises(OSError, match="No space"):
        train_run(_cfg(["train.max_steps=30"]), run, **QUIET)
    assert (run / "config.yaml").read_text() == before
    assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]


def test_mlflow_run_id_file_is_never_left_half_written(tmp_path, monkeypatch, mlflow_store):
    import mlflow

    from vaekit.pipelines import tracking as tr

    run = tmp_path / "run"
    run.mkdir()
    _fail_writes_to(monkeypatch, "mlflow_run.txt")
    with pytest.raises(OSError):
        tr.MLflowTracker(run, mlflow_store, "vaekit", {"a": 1})
    assert not (run / "mlflow_run.txt").exists()
    assert mlflow.active_run() is None  # the failed tracker ended its MLflow run


# ---------------------------------------------------------------- item 7: no half-made run dir


def test_failed_data_load_leaves_no_run_directory(tmp_path):
    pytest.importorskip("pandas")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(bytes(range(256)) * 12)
    run = tmp_path / "runs" / "anomaly-bad"
    cfg = load_config("anomaly:default", [f"data.path={bad}", "train.progress=false", "tracking.tensorboard=false"])
    with pytest.raises(DataValidationError, match="bad.csv"):
        train_run(cfg, run, **QUIET)
    assert not run.exists()


def test_failed_setup_keeps_a_directory_that_existed_before(tmp_path, monkeypatch):
    from vaekit.domains import get_domain

    run = tmp_path / "mine"
    run.mkdir()
    (run / "notes.txt").write_text("keep")
    dom = type(get_domain("toy"))

    def boom(self, *a, **k):
        raise DataValidationError("data: cannot be read; got 'x'. Fix it.")

    monkeypatch.setattr(dom, "load_data", boom)
    with pytest.raises(DataValidationError):
        train_run(_cfg(), run, **QUIET)
    assert (run / "notes.txt").read_text() == "keep"


def test_failed_setup_keeps_a_run_that_holds_checkpoints(tmp_path, monkeypatch):
    from vaekit.domains import get_domain

    run = tmp_path / "run"
    train_run(_cfg(), run, **QUIET)
    dom = type(get_domain("toy"))
    monkeypatch.setattr(dom, "load_data", lambda self, *a, **k: (_ for _ in ()).throw(DataValidationError("gone")))
    with pytest.raises(DataValidationError):
        train_run(_cfg(["train.max_steps=40"]), run, **QUIET)
    assert (run / "checkpoints" / "last.pt").is_file() and (run / "metrics.jsonl").is_file()


# ---------------------------------------------------------------- item 2: one writer per run dir

_HOLDER = textwrap.dedent("""
    import sys, time
    from vaekit.pipelines.runlock import run_lock
    with run_lock(sys.argv[1], command="holder-test-command"):
        print("locked", flush=True)
        time.sleep(120)
""")


def _start_holder(run):
    p = subprocess.Popen([sys.executable, "-c", _HOLDER, str(run)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    line = p.stdout.readline()
    if line.strip() != "locked":
        p.kill()
        pytest.fail(f"the holder did not take the lock: {line!r} {p.stderr.read()[-2000:]}")
    return p


def test_busy_run_dir_is_refused_at_once_naming_the_holder_and_freed_when_it_is_killed(tmp_path, capsys):
    from vaekit.pipelines.runlock import RunDirBusyError

    run = tmp_path / "run"
    train_run(_cfg(), run, **QUIET)
    saved = {n: (run / n).read_bytes() for n in ("config.yaml", "metrics.jsonl")}
    holder = _start_holder(run)
    try:
        t0 = time.time()
        with pytest.raises(RunDirBusyError) as err:
            train_run(_cfg(["train.max_steps=30"]), run, **QUIET)
        assert time.time() - t0 < 5  # does not wait for the holder
        msg = str(err.value)
        assert f"pid {holder.pid}" in msg and "holder-test-command" in msg and os.uname().nodename in msg
        assert "\n" not in msg and "--run-dir" in msg
        with pytest.raises(RunDirBusyError):  # --fresh deletes nothing in a busy run dir
            train_run(_cfg(), run, resume="never", **QUIET)
        assert {n: (run / n).read_bytes() for n in saved} == saved and (run / "checkpoints" / "last.pt").is_file()
        # evaluate writes into the run directory too: same refusal, through the CLI: exit 2, one line
        code = main(["evaluate", str(run), "--no-report"])
        e = capsys.readouterr().err
        assert code == 2 and e.count("\n") == 1 and f"pid {holder.pid}" in e and not (run / "eval.json").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # a SIGKILLed holder leaves its lock file behind, but the OS released the lock itself
    assert (run / ".lock").exists()
    assert train_run(_cfg(["train.max_steps=30"]), run, **QUIET)["step"] == 30


def test_lock_is_reentrant_in_one_process_and_released_after(tmp_path):
    from vaekit.pipelines.runlock import run_lock

    run = tmp_path / "run"
    with run_lock(run, command="outer"):
        with run_lock(run, command="inner"):  # the demo holds a run dir across train + evaluate
            pass
        train_run(_cfg(), run, **QUIET)
    with run_lock(run, command="again"):
        pass


@pytest.mark.slow
def test_two_vaekit_train_processes_into_one_run_dir(tmp_path):
    """The issue's probe: two trainings 0.3 s apart into one run directory."""
    vaekit = [sys.executable, "-m", "vaekit.pipelines"]
    run = tmp_path / "run"
    args = ["train", "toy:default", "--run-dir", str(run), "--set", *FAST, "train.max_steps=3000",
            "train.eval_every=1000"]
    first = subprocess.Popen(vaekit + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not (run / "metrics.jsonl").exists() and time.time() < deadline and first.poll() is None:
            time.sleep(0.3)
        time.sleep(0.3)
        second = subprocess.run(vaekit + args[:-2] + ["train.max_steps=50"], capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 2, second.stderr
        assert second.stderr.count("\n") == 1 and f"pid {first.pid}" in second.stderr, second.stderr
    finally:
        first.kill()
        first.wait()


# ---------------------------------------------------------------- item 19: tracking destinations


def _downloaded_run(tmp_path, uri):
    """A trained run whose config.yaml (as if downloaded) names an MLflow server."""
    run = tmp_path / "downloaded"
    train_run(_cfg(), run, **QUIET)
    data = yaml.safe_load((run / "config.yaml").read_text())
    data["tracking"].update(mlflow=None, mlflow_uri=uri)
    (run / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return run


def test_evaluate_does_not_send_to_the_uri_a_run_dir_names(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    store = tmp_path / "someone-elses.db"
    run = _downloaded_run(tmp_path, f"sqlite:///{store}")
    res = evaluate_run(run, report=False)
    err = capsys.readouterr().err
    assert "kl" in res and not store.exists() and not (run / "mlflow_run.txt").exists()
    assert "tracking.mlflow_uri" in err and "not used" in err and "--mlflow-uri" in err


def test_evaluate_sends_where_the_user_says_and_says_where(tmp_path, monkeypatch, capsys, mlflow_store):
    import mlflow

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run = _downloaded_run(tmp_path, f"sqlite:///{tmp_path / 'someone-elses.db'}")
    mine = mlflow_store
    code = main(["evaluate", str(run), "--no-report", "--mlflow-uri", mine])
    err = capsys.readouterr().err
    assert code == 0 and f"MLflow at {mine}" in err and "--mlflow-uri" in err
    assert not (tmp_path / "someone-elses.db").exists()
    run_id = (run / "mlflow_run.txt").read_text().strip()
    assert "eval/kl" in mlflow.tracking.MlflowClient(mine).get_run(run_id).data.metrics
    # the environment is the user's too (and a run id this store does not know starts a new run)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mine)
    (run / "mlflow_run.txt").write_text("0123456789abcdef0123456789abcdef")
    evaluate_run(run, report=False)
    err = capsys.readouterr().err
    assert f"MLflow at {mine}" in err and "URI from MLFLOW_TRACKING_URI" in err and "starting a new MLflow run" in err
    assert (run / "mlflow_run.txt").read_text().strip() not in (run_id, "0123456789abcdef0123456789abcdef")


@pytest.mark.parametrize("uri", ["file://", "nosuchscheme://x"])
def test_a_bad_tracking_uri_is_one_line_exit_2(tmp_path, monkeypatch, capsys, uri):
    pytest.importorskip("mlflow")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run = tmp_path / "run"
    code = main(["train", "toy:default", "--run-dir", str(run), "--set", *FAST, "tracking.mlflow=null",
                 f"tracking.mlflow_uri={uri}"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("vaekit: error: tracking.mlflow_uri:") and repr(uri) in err and "tracking.mlflow=false" in err
    assert not run.exists()  # failed before training: no half-made run dir


def test_a_tracker_failing_mid_run_is_a_warning_not_a_crash():
    from vaekit.pipelines.tracking import Trackers

    class Broken:
        name = "MLflow"

        def __init__(self):
            self.calls = 0

        def log(self, record):
            self.calls += 1
            raise ConnectionError("server went away")

        log_final = log

        def close(self):
            raise ConnectionError("still away")

    b = Broken()
    with pytest.warns(UserWarning, match="MLflow.*server went away.*continues without it") as rec:
        with Trackers([b]) as t:
            t.log({"step": 1, "loss": 1.0})
            t.log({"step": 2, "loss": 1.0})
            t.log_final({"kl": 1.0}, 2)
    assert b.calls == 1 and len(rec) == 1  # warned once, then left alone
