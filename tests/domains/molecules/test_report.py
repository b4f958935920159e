"""The molecules view of the run report: the grid and tables on hand-made SMILES, and a real run
end to end (a tiny model trained for a few steps, so the checks are about wiring, not quality)."""
from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import pytest

pytest.importorskip("rdkit")
pytest.importorskip("torch_geometric")

from vaekit.domains.molecules.report import molecule_grid, parse_molecules, quality_table, report_sections  # noqa: E402
from vaekit.domains.report_parts import plotting  # noqa: E402
from vaekit.pipelines import load_config, train_run  # noqa: E402
from vaekit.pipelines.runs import evaluate_run  # noqa: E402

IMG = re.compile(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"')
# As tests/pipelines/test_cli.py's smoke run, with a smaller model and fewer steps.
TINY = ["data.max_molecules=300", "data.max_eval_molecules=100", "eval.n_samples=30",
        "eval.options.recon_molecules=2", "eval.options.recon_encodings=1", "eval.options.recon_decodings=1",
        "train.precision=fp32", "train.max_steps=4", "train.eval_every=4", "train.batch_size=32",
        "train.progress=false", "data.max_len=80", "model.latent_dim=8", "model.encoder.params.hidden_dim=16",
        "model.decoder.params.hidden_dim=32", "eval.iw_samples=2", "eval.mi_examples=40"]


def test_parse_molecules_counts_invalid_strings_and_canonicalises_valid_ones():
    valid, invalid = parse_molecules(["OCC", "c1ccccc1", "not_a_smiles", "", None, "C1CC"])
    assert [s for s, _ in valid] == ["CCO", "c1ccccc1"]
    assert invalid == ["not_a_smiles", "", "", "C1CC"]  # "C1CC": an unclosed ring


def test_molecule_grid_skips_invalid_molecules_says_so_and_escapes_text():
    html = molecule_grid(*parse_molecules(["CCO", "c1ccccc1", "not_a_smiles", "CC(=O)O", "<b>&</b>"]))
    assert "2 of 5 generated strings are invalid" in html
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html and "<b>" not in html  # quoted invalid decode, escaped
    assert len(IMG.findall(html)) == 1
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", html)
    assert rows == [("1", "CCO"), ("2", "c1ccccc1"), ("3", "CC(=O)O")]
    assert "<th>QED</th><th>logP</th><th>SA</th><th>MW</th>" in html


def test_molecule_grid_limits_the_molecules_and_handles_no_valid_one():
    html = molecule_grid(*parse_molecules(["CCO"] * 30), limit=24)
    assert "All 30 generated strings are valid" in html
    assert len(re.findall(r"<tr><td>\d+</td>", html)) == 24
    empty = molecule_grid(*parse_molecules(["x" * 100, ""]))
    assert "2 of 2 generated strings are invalid" in empty and "No valid molecule" in empty
    assert "x" * 41 not in empty and "&#x27;" + "x" * 40 + "&#x27;..." in empty  # long decodes are cut
    assert not IMG.search(empty)


def test_quality_table_shows_only_the_metrics_present():
    html = quality_table({"valid": 0.5, "novelty": 1.0, "kl": 3.0})
    assert "<td>valid</td>" in html and "<td>novelty</td>" in html and "kl" not in html
    assert quality_table({}) == ""


def test_report_without_samples_says_why():
    (section,) = report_sections(SimpleNamespace(extra={}), {})
    assert section.title == "Generated molecules" and "did not run" in section.body


def test_evaluate_writes_the_molecules_view_into_the_report(tmp_path):
    run = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the NCI file's unparsable / too long rows are reported
        train_run(load_config("molecules:default", TINY), run, resume="never", log=lambda m: None)
        res = evaluate_run(run)
    html = (run / "report.html").read_text()
    for title in ("Generated molecules", "Property distributions"):
        assert f">{title}</h2>" in html
    assert "Sample quality (MOSES)" in html and "generated strings" in html
    view = html.split(">Generated molecules</h2>", 1)[1]
    # The histograms draw whenever matplotlib is there (the split is valid); the grid needs a valid sample.
    assert len(IMG.findall(view)) == (plotting() is not None) + (res["valid"] > 0)
