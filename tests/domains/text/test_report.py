"""The text domain's view in report.html: transfer examples beside their sources, the scores
beside the copy baseline, reconstructions, samples, interpolation; escaped, and built from the
sentences the metrics already decoded."""
from __future__ import annotations

import re
import warnings

import pytest
import torch

pytest.importorskip("sacrebleu")
pytest.importorskip("sklearn")

from vaekit.domains import EvalContext, get_domain  # noqa: E402
from vaekit.domains.text import report, style  # noqa: E402
from vaekit.domains.text.evaluation import ReconOutputs, SampleOutputs, TransferOutputs  # noqa: E402
from vaekit.pipelines import load_config, train_run  # noqa: E402
from vaekit.pipelines.runs import evaluate_run  # noqa: E402

# tests/pipelines/test_cli.py's SMOKE text settings, with a model small enough to train in seconds
SMOKE = ["data.generated_size=300", "data.max_sentences=2000", "eval.n_samples=20", "eval.options.max_examples=20",
         "train.max_steps=10", "train.eval_every=10", "train.progress=false", "train.batch_size=32",
         "eval.mi_examples=50", "eval.iw_samples=2", "model.decoder.params.hidden_dim=64",
         "model.encoder.params.hidden_dim=32"]
UNCONDITIONAL = ["data.condition=false", "model.terms=[]", "objective.weights={}"]


def _section(html: str, title: str) -> str:
    """The HTML between a section's heading and the next one ("" when absent)."""
    m = re.search(rf"<h2 id=\"s\d+\">{re.escape(title)}</h2>(.*?)(?=<h2 |</body>)", html, re.S)
    return m.group(1) if m else ""


def _body_rows(section: str) -> int:
    return len(re.findall(r"<tr><td>", section))


def _untrained_context(overrides):
    """An EvalContext of a freshly built (untrained) model, with the domain's metrics computed on it."""
    cfg = load_config("text:default", SMOKE + overrides)
    dom = get_domain("text")
    data = dom.load_data(cfg.data_config, cfg.train.seed)
    model = dom.build_model(cfg.model, data.info).eval()
    ctx = EvalContext(model, data, "test", torch.device("cpu"), cfg.train.seed, 64, cfg.eval.n_samples,
                      options=cfg.eval_options)
    result = {"split": "test"}
    for metric in dom.metrics():
        result.update(metric.compute(ctx))
    return dom, ctx, result


def test_evaluate_writes_the_text_view(tmp_path):
    run_dir = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train_run(load_config("text:default", SMOKE + ["model.terms.control.params.discriminator.params.n_filters=16"]),
                  run_dir, resume="never", log=lambda m: None)
        res = evaluate_run(run_dir)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    examples = _section(html, "Style transfer examples")
    assert _body_rows(examples) == min(report.N_TRANSFER_EXAMPLES, int(res["transfer/n"]))
    assert "human reference" in examples and "judge says target style?" in examples
    scores = _section(html, "Style transfer scores")
    assert "copy the input" in scores and "vaekit (this run)" in scores and _body_rows(scores) == 3
    assert _body_rows(_section(html, "Reconstructions and samples")) == report.N_RECONSTRUCTIONS + report.N_SAMPLES
    assert _body_rows(_section(html, "Latent interpolation")) == report.N_INTERPOLATION_STEPS


def test_report_reuses_the_decoded_sentences(monkeypatch):
    dom, ctx, result = _untrained_context([])

    def refuse(*args, **kwargs):
        raise AssertionError("the report decoded the metrics' sentences again")

    monkeypatch.setattr(style, "transfer", refuse)
    monkeypatch.setattr(style, "reconstruct", refuse)
    sections = {s.title: s.body for s in dom.report_sections(ctx, result)}
    tr = ctx.extra["text/transfer"]
    assert list(sections) == ["Style transfer examples", "Style transfer scores", "Reconstructions and samples",
                              "Latent interpolation"]
    shown = re.findall(r"<tr><td>(\d+)</td>", sections["Style transfer examples"])
    # both directions of transfer show, although the split need not alternate styles
    assert {tr.styles[int(i)] for i in shown} == {"0", "1"}


def test_model_without_style_code_has_no_transfer():
    dom, ctx, result = _untrained_context(UNCONDITIONAL)
    sections = {s.title: s.body for s in dom.report_sections(ctx, result)}
    assert "Style transfer scores" not in sections and "no style code" in sections["Style transfer examples"]
    assert _body_rows(sections["Reconstructions and samples"]) == report.N_RECONSTRUCTIONS + report.N_SAMPLES
    assert "Latent interpolation" in sections


def test_tables_escape_the_sentences():
    tr = TransferOutputs(sources=["the <b>soup</b> was cold ."], styles=["0"], targets=["1"],
                         outputs=["the soup & <unk> were warm ."], references=['the "soup" was warm .'])
    html = report.transfer_examples_table(tr, judged=["0"], indices=[0])
    assert "&lt;b&gt;soup&lt;/b&gt;" in html and "<b>" not in html
    assert "&amp; &lt;unk&gt;" in html and "&quot;soup&quot;" in html and "no (judged 0)" in html
    recon = report.reconstructions_table(ReconOutputs(["a <b> .", "b ."], ["", "b ."]), 8)
    assert "a &lt;b&gt; ." in recon and "(empty)" in recon and _body_rows(recon) == 2
    samples = report.samples_table(SampleOutputs(["<i>x</i>", "y"], ["0", "1"]), 8)
    assert "&lt;i&gt;x&lt;/i&gt;" in samples and "<i>" not in samples


def test_scores_table_lists_the_systems_present():
    res = {"split": "test", "transfer/n": 5.0, "transfer/acc": 70.0, "transfer/self_bleu": 40.0,
           "transfer/lm_ppl": 30.0, "copy/acc": 5.0, "copy/self_bleu": 100.0, "copy/lm_ppl": 20.0}
    html = report.transfer_scores_table(res)
    assert _body_rows(html) == 2 and "human reference" not in html and "5 test sentences" in html
    assert "<td>-</td>" in html  # no references: ref-BLEU is left blank, not invented


def test_balanced_indices_take_the_styles_in_turn():
    assert report.balanced_indices(["0", "0", "0", "1", "0", "1"], 4) == [0, 1, 3, 5]
    assert report.balanced_indices(["b", "a", "b"], 5) == [1, 0, 2]
    assert report.balanced_indices([], 3) == []
