"""The molecules domain end to end: packaged configs, train -> evaluate -> generate, design tools.

Models are tiny and trained for a few steps on 300 molecules of the embedded default, so the
checks are about wiring and contracts (shapes, keys, formats, errors), not about quality;
quality is measured by the molecules:moses benchmark suite (benchmarks/specs/moses.yaml).
"""
from __future__ import annotations

import json
import math
import warnings

import pytest

pytest.importorskip("rdkit")
pytest.importorskip("torch_geometric")

import torch  # noqa: E402

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.domains import get_domain  # noqa: E402
from vaekit.pipelines import evaluate_run, generate_run, load_config, load_run, train_run  # noqa: E402

TINY = ["train.max_steps=6", "train.eval_every=3", "train.batch_size=32", "train.progress=false",
        "data.max_molecules=300", "data.max_len=80", "model.latent_dim=8",
        "model.encoder.params.hidden_dim=16", "model.decoder.params.hidden_dim=32",
        "eval.n_samples=40", "eval.iw_samples=2", "eval.mi_examples=40", "eval.options.recon_molecules=4",
        "eval.options.recon_encodings=2", "eval.options.recon_decodings=2"]


def _train(tmp_path_factory, name, extra=()):
    run_dir = tmp_path_factory.mktemp(name) / "run"
    overrides = list(TINY) + list(extra)
    if name == "graph":
        overrides = [o for o in overrides if not o.startswith("model.encoder.params.hidden_dim")]
        overrides += ["model.encoder.params.hidden_dim=16", "model.encoder.params.num_layers=2",
                      "model.encoder.params.readout_dims=[32]"]
    cfg = load_config(f"molecules:{name}", overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the NCI file's unparsable / too long rows are reported
        train_run(cfg, run_dir, resume="never", log=lambda m: None)
    return run_dir


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    return _train(tmp_path_factory, "default")


def test_every_packaged_config_loads_and_registers_its_components():
    dom = get_domain("molecules")
    names = dom.config_names()
    assert {"default", "selfies", "graph", "cvae", "property", "moses"} <= set(names)
    for n in names:
        cfg = load_config(f"molecules:{n}")
        assert cfg.domain == "molecules" and cfg.data_config.max_len >= 2


def test_eval_options_are_strict():
    with pytest.raises(ConfigError, match="eval.options.recon_molecule"):
        load_config("molecules:default", ["eval.options.recon_molecule=3"])
    with pytest.raises(ConfigError, match="recon_encodings"):
        load_config("molecules:default", ["eval.options.recon_encodings=0"])


def test_evaluate_reports_moses_reconstruction_and_diagnostics(default_run):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate_run(default_run)
    for key in ("valid", "unique@1000", "novelty", "intdiv1", "intdiv2", "filters", "fcd/test", "snn/test",
                "frag/test", "scaf/test", "logp_w1", "recon_acc", "recon_acc/greedy", "kl", "active_units"):
        assert key in res, key
    assert 0.0 <= res["valid"] <= 1.0 and 0.0 <= res["recon_acc"] <= 1.0
    assert res["recon_acc/n_molecules"] == 4
    assert res["metric_directions"]["fcd/test"] == "lower" and res["metric_directions"]["valid"] == "higher"
    assert json.loads((default_run / "eval.json").read_text())["valid"] == res["valid"]


def test_generate_writes_smiles_files_with_one_line_per_sample(default_run, tmp_path):
    out = generate_run(default_run, 25, tmp_path / "gen.smi")
    assert len(out.read_text().splitlines()) == 25
    out_csv = generate_run(default_run, 5, tmp_path / "gen.csv")
    assert out_csv.read_text().splitlines()[0] == "SMILES"
    # Sampling is seeded: the same seed gives the same molecules.
    again = generate_run(default_run, 25, tmp_path / "again.smi")
    assert again.read_text() == out.read_text()
    with pytest.raises(DataValidationError, match=r"\.smi, \.txt or \.csv"):
        generate_run(default_run, 5, tmp_path / "gen.json")
    with pytest.raises(DataValidationError, match="takes no condition"):
        generate_run(default_run, 5, tmp_path / "gen.smi", cond=["logp=2"])


def test_design_tools_return_candidates_and_draw(default_run, tmp_path):
    from vaekit.domains.molecules import design

    _, _, model, info, _ = load_run(default_run)
    got = design.sample(model, info, 8, seed=1)
    assert len(got) == 8 and all(isinstance(c, design.Candidate) for c in got)
    assert [c.smiles for c in got] == [c.smiles for c in design.sample(model, info, 8, seed=1)]
    path = design.interpolate(model, info, "c1ccccc1O", "CCN(CC)CC", steps=5)
    assert len(path) == 5
    near = design.neighbourhood(model, info, "CC(=O)Oc1ccccc1C(=O)O", n=10, radius=0.5)
    assert all(c.valid and 0.0 <= c.similarity <= 1.0 for c in near)
    assert len({c.smiles for c in near}) == len(near)
    svg = design.grid_image(["CCO", "c1ccccc1", "not a smiles"], tmp_path / "grid.svg", legends=["a", "b", "c"])
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    with pytest.raises(DataValidationError, match="not a valid SMILES"):
        design.interpolate(model, info, "C1CC", "CCO")
    with pytest.raises(ConfigError, match="property term"):
        design.optimize_property(model, info, "qed")


def test_candidates_compute_properties_and_similarity():
    from vaekit.domains.molecules.design import candidates

    c = candidates(["OCC", "C1CC", ""], reference="CCO")
    assert c[0].valid and c[0].smiles == "CCO" and c[0].similarity == pytest.approx(1.0)
    assert c[0].properties["mw"] == pytest.approx(46.07, abs=0.01)
    assert not c[1].valid and not c[2].valid


def test_conditional_model_samples_at_targets(tmp_path_factory, tmp_path):
    run = _train(tmp_path_factory, "cvae")
    dom = get_domain("molecules")
    _, _, model, info, _ = load_run(run)
    row = dom.parse_cond(["logp=2.5", "qed=0.6"], info)
    spec = info.extra["condition"]
    assert row.shape == (2,)
    assert float(row[0]) == pytest.approx((2.5 - spec["mean"][0]) / spec["std"][0], rel=1e-5)
    out = generate_run(run, 6, tmp_path / "c.smi", cond=["logp=2.5", "qed=0.6"])
    assert len(out.read_text().splitlines()) == 6
    with pytest.raises(ConfigError, match="pass the condition"):
        generate_run(run, 3, tmp_path / "c.smi")
    with pytest.raises(DataValidationError, match="missing"):
        dom.parse_cond(["logp=2.5"], info)
    with pytest.raises(DataValidationError, match="must be a number"):
        dom.parse_cond(["logp=high", "qed=1"], info)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate_run(run)
    assert {"cond_mae/logp", "cond_mae/logp/shuffled", "cond_corr/qed"} <= set(res)
    assert 0.0 <= res["cond_valid"] <= 1.0


def test_property_head_model_predicts_and_optimises(tmp_path_factory):
    from vaekit.domains.molecules import design

    run = _train(tmp_path_factory, "property")
    _, _, model, info, _ = load_run(run)
    assert model.term("property") is not None and info.y_dim == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate_run(run)
    assert {"prop_mae/logp", "prop_r2/qed", "prop_mae/sa"} <= set(res)
    assert all(math.isfinite(res[k]) for k in ("prop_mae/logp", "prop_mae/qed"))
    best = design.optimize_property(model, info, "qed", n_starts=4, steps=4, decode_every=2)
    assert all(c.valid for c in best)
    assert [c.properties["qed"] for c in best] == sorted((c.properties["qed"] for c in best), reverse=True)


def test_graph_encoder_model_trains_and_reconstructs(tmp_path_factory):
    run = _train(tmp_path_factory, "graph")
    _, _, model, info, _ = load_run(run)
    from vaekit.domains.molecules.design import smiles_to_batch

    batch = smiles_to_batch(["CCO", "c1ccccc1"], info)
    assert batch.inputs.num_graphs == 2
    z = model.embed(batch.encoder_input, None, batch.mask)
    assert z.shape == (2, 8) and torch.isfinite(z).all()
