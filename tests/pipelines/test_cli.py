"""The `vaekit` CLI: the stable contract, error messages and exit codes, end-to-end runs."""
from __future__ import annotations

import json
import re

import pytest

from vaekit.pipelines.cli import main

FAST = ["train.max_steps=60", "train.eval_every=30", "data.n_train=512", "data.n_val=128", "data.n_test=128",
        "eval.iw_samples=10", "eval.n_samples=100", "eval.mi_examples=100"]


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _train(capsys, tmp_path, config, name="run", extra=()):
    code, out, err = _run(capsys, "train", config, "--no-progress", "--run-dir", str(tmp_path / name),
                          "--set", *FAST, *extra)
    assert code == 0, err
    return tmp_path / name, err


def _configs():
    main(["list", "configs"])


def test_list_configs_prints_one_domain_name_per_line(capsys):
    code, out, _ = _run(capsys, "list", "configs")
    lines = out.strip().splitlines()
    assert code == 0 and {"toy:default", "toy:sequence", "toy:cvae", "toy:gumbel", "toy:binary"} <= set(lines)
    assert all(re.fullmatch(r"[a-z_]+:[A-Za-z0-9_\-]+", line) for line in lines)


def test_config_prints_resolved_yaml_with_overrides(capsys):
    import yaml

    code, out, _ = _run(capsys, "config", "toy:default", "--set", "model.latent_dim=3", "train.lr=1e-4")
    d = yaml.safe_load(out)
    assert code == 0 and d["model"]["latent_dim"] == 3 and d["train"]["lr"] == 1e-4
    assert d["data"]["n_clusters"] == 4  # data defaults are filled in too


@pytest.mark.parametrize("override, expected", [
    ("model.latent_dm=3", ["model.latent_dm", "Did you mean 'latent_dim'"]),
    ("train.max_steps=abc", ["train.max_steps", "expected int", "'abc'"]),
    ("train.lr=None", ["train.lr", "null"]),
    ("data.n_trian=10", ["data.n_trian", "Did you mean 'n_train'"]),
    ("model.encoder.params.hiden_dims=[3]", ["model.encoder.params.hiden_dims", "hidden_dims"]),
    ("model.head.params.latent_dim=3", ["model.head.params.latent_dim", "model.latent_dim"]),
    ("model.decoder.kind=gruu", ["model.decoder.kind", "Did you mean 'gru'"]),
    ("train.precision=fp8", ["train.precision", "'fp32'"]),
    ("objective.beta={kind: linaer, steps: 3}", ["objective.beta", "Did you mean 'linear'"]),
])
def test_config_errors_exit_2_with_one_clear_line(capsys, tmp_path, override, expected):
    code, out, err = _run(capsys, "config", "toy:default", "--set", override)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vaekit: error: ")
    for piece in expected:
        assert piece in lines[0]
    # train refuses the same config before it creates anything
    code, out, err = _run(capsys, "train", "toy:default", "--set", override, "--run-dir", str(tmp_path / "r"))
    assert code == 2 and not (tmp_path / "r").exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vaekit: error: ")
    for piece in expected:
        assert piece in lines[0]


def test_unknown_packaged_config_and_domain(capsys):
    code, _, err = _run(capsys, "config", "toy:defualt")
    assert code == 2 and "Did you mean 'default'" in err
    code, _, err = _run(capsys, "config", "toi:default")
    assert code == 2 and "Did you mean 'toy'" in err


def test_train_evaluate_generate_roundtrip(capsys, tmp_path):
    run, err = _train(capsys, tmp_path, "toy:default")
    assert "active units" in err
    for f in ("config.yaml", "data_info.json", "versions.json", "metrics.jsonl", "diagnostics.json",
              "checkpoints/last.pt", "checkpoints/best.pt"):
        assert (run / f).exists(), f
    code, out, _ = _run(capsys, "evaluate", str(run), "--json")
    assert code == 0
    res = json.loads(out)  # stdout is exactly one JSON object
    for key in ("kl", "rate", "distortion", "elbo", "active_units", "kl_per_dim", "posterior_variance",
                "participation_ratio", "isotropy", "mutual_info", "nll_iw", "collapse", "knn_acc",
                "knn_acc/raw_input", "recon_mse", "sample_nn_ratio"):
        assert key in res, key
    assert len(res["kl_per_dim"]) == 8 and res["nll_iw"] <= -res["elbo"] + 0.5
    assert json.loads((run / "eval.json").read_text())["kl"] == res["kl"]
    code, out, _ = _run(capsys, "evaluate", str(run))
    assert code == 0 and "active_units" in out and "(higher is better)" in out
    code, _, _ = _run(capsys, "generate", str(run), "-n", "10", "--out", str(tmp_path / "s.csv"))
    lines = (tmp_path / "s.csv").read_text().strip().splitlines()
    assert code == 0 and len(lines) == 11 and lines[0].startswith("x0,")


def test_rerun_resumes_and_changed_config_is_refused(capsys, tmp_path):
    run, _ = _train(capsys, tmp_path, "toy:default")
    _, err = _train(capsys, tmp_path, "toy:default")
    assert "nothing to do" in err
    code, _, err = _run(capsys, "train", "toy:default", "--no-progress", "--run-dir", str(run), "--set", *FAST,
                        "model.latent_dim=4")
    assert code == 2 and "different config" in err and "model.latent_dim: 8 -> 4" in err
    code, _, err = _run(capsys, "train", "toy:default", "--no-progress", "--run-dir", str(run), "--fresh", "--set",
                        *FAST, "model.latent_dim=4")
    assert code == 0 and "resumed" not in err


def test_run_from_an_older_vaekit_without_a_newer_option_still_resumes(capsys, tmp_path):
    import yaml

    run, _ = _train(capsys, tmp_path, "toy:default")
    cfg_file = run / "config.yaml"
    saved = yaml.safe_load(cfg_file.read_text())
    del saved["objective"]["trim"]  # as written before objective.trim existed (default 0.0)
    cfg_file.write_text(yaml.safe_dump(saved))
    _, err = _train(capsys, tmp_path, "toy:default")
    assert "nothing to do" in err and "different config" not in err
    # A real change is still refused.
    code, _, err = _run(capsys, "train", "toy:default", "--no-progress", "--run-dir", str(run), "--set", *FAST,
                        "objective.trim=0.1")
    assert code == 2 and "objective.trim: 0.0 -> 0.1" in err


def test_conditional_generation_needs_cond(capsys, tmp_path):
    run, _ = _train(capsys, tmp_path, "toy:cvae")
    code, _, err = _run(capsys, "generate", str(run), "-n", "5", "--out", str(tmp_path / "c.csv"))
    assert code == 2 and "--cond cluster=0" in err
    code, _, err = _run(capsys, "generate", str(run), "-n", "5", "--out", str(tmp_path / "c.csv"), "--cond",
                        "cluster=9")
    assert code == 2 and "[0, 4)" in err
    code, _, _ = _run(capsys, "generate", str(run), "-n", "5", "--out", str(tmp_path / "c.csv"), "--cond",
                      "cluster=1")
    assert code == 0 and len((tmp_path / "c.csv").read_text().strip().splitlines()) == 6


def test_sequence_generation_writes_text_lines(capsys, tmp_path):
    run, _ = _train(capsys, tmp_path, "toy:sequence")
    code, _, _ = _run(capsys, "generate", str(run), "-n", "7", "--out", str(tmp_path / "s.txt"), "--sample")
    lines = (tmp_path / "s.txt").read_text().splitlines()
    vocab = set(json.loads((run / "data_info.json").read_text())["extra"]["vocab"])
    assert code == 0 and len(lines) == 7 and all(w in vocab for line in lines for w in line.split())


def test_generate_follows_the_domain_convention_unless_told(capsys, tmp_path, monkeypatch):
    from vaekit.domains import get_domain

    run, _ = _train(capsys, tmp_path, "toy:sequence")

    def gen(name, *flags):
        code, _, err = _run(capsys, "generate", str(run), "-n", "30", "--out", str(tmp_path / name), *flags)
        assert code == 0, err
        return (tmp_path / name).read_text()

    greedy, sampled = gen("g.txt", "--greedy"), gen("s.txt", "--sample")
    assert greedy != sampled
    assert gen("default.txt") == greedy  # toy: greedy by default
    monkeypatch.setattr(get_domain("toy"), "sample_x", True)
    assert gen("default2.txt") == sampled  # a sampling domain samples by default


def test_eval_options_section_is_checked_against_the_domain(capsys):
    code, _, err = _run(capsys, "config", "toy:default", "--set", "eval.options.recon_molecules=3")
    assert code == 2 and "eval.options.recon_molecules" in err and "takes no keys" in err


def test_evaluate_on_a_folder_that_is_not_a_run(capsys, tmp_path):
    code, _, err = _run(capsys, "evaluate", str(tmp_path))
    assert code == 2 and "not a vaekit run directory" in err


# Per-domain overrides that shrink a packaged config to a seconds-long smoke run, and the
# configs that read the shared benchmark data (smoke-run only with `-m slow`): both come from
# each domain's entry (domains/<name>/domain.yaml: `smoke`, `needs_data`).
def _entries():
    from vaekit.domains import domain_entries

    return domain_entries()


SMOKE = {name: list(e.smoke) for name, e in _entries().items()}
NEEDS_SHARED = {f"{name}:{c}" for name, e in _entries().items() for c in e.needs_data}


def _all_configs():
    from vaekit.domains import domain_names, get_domain

    specs = [f"{d}:{c}" for d in domain_names() for c in get_domain(d).config_names()]
    return [pytest.param(s, marks=pytest.mark.slow) if s in NEEDS_SHARED else s for s in specs]


@pytest.mark.parametrize("spec", _all_configs())
def test_every_shipped_config_validates_and_smoke_runs(capsys, tmp_path, spec):
    import warnings

    domain = spec.split(":")[0]
    if spec in NEEDS_SHARED:
        from vaekit.domains.data_root import data_root

        if not data_root().is_dir():
            pytest.skip(f"needs the benchmark data under the data root ({data_root()}; set VAEKIT_DATA_ROOT)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # data files' skipped rows are reported as warnings
        code, out, err = _run(capsys, "train", spec, "--no-progress", "--run-dir", str(tmp_path / "r"), "--set",
                              "train.max_steps=4", "train.eval_every=2", "train.batch_size=16", "eval.mi_examples=50",
                              *SMOKE.get(domain, []))
    assert code == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, out, err = _run(capsys, "evaluate", str(tmp_path / "r"), "--json", "--iw-samples", "2")
    assert code == 0, err
    assert json.loads(out)["n_examples"] > 0
