"""The text domain end to end: loading (generated corpus, Yelp-style files, tables, plain files),
the packaged default through train -> evaluate -> generate, and the style-transfer API."""
from __future__ import annotations

import json
import warnings

import pytest
import torch

pytest.importorskip("sacrebleu")
pytest.importorskip("sklearn")

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.core.config import from_dict  # noqa: E402
from vaekit.domains.text import style  # noqa: E402
from vaekit.domains.text.corpus import STYLE_WORDS, write_corpus  # noqa: E402
from vaekit.domains.text.loading import TextDataConfig, decode_ids, load_text  # noqa: E402
from vaekit.pipelines import evaluate_run, generate_run, load_config, load_run  # noqa: E402

TINY = ["data.generated_size=1200", "train.max_steps=60", "train.eval_every=30", "train.progress=false",
        "train.batch_size=32", "eval.mi_examples=50", "eval.iw_samples=2", "eval.n_samples=20",
        "eval.options.max_examples=40", "model.decoder.params.hidden_dim=64", "model.encoder.params.hidden_dim=32",
        "model.terms.control.params.discriminator.params.n_filters=16"]


def _cfg(**kw) -> TextDataConfig:
    return from_dict(TextDataConfig, kw, "data")


# ---------------------------------------------------------------------------- loading
def test_generated_corpus_bundle():
    b = load_text(_cfg(generated_size=400, max_len=20), seed=0)
    assert len(b.train) + len(b.val) + len(b.test) == 400
    assert b.info.kind == "sequence" and b.info.shape == (21,) and b.info.n_cond_classes == 2
    assert b.info.extra["labels"] == ["0", "1"]
    assert b.test.references is not None and b.train.references is None
    batch = b.collate([b.train[i] for i in range(8)])
    assert batch.cond.dtype == torch.long and batch.x.shape[0] == 8
    assert torch.equal(batch.cond, batch.y)
    # round trip: ids -> text gives the sentence back (the corpus has no rare words at min_freq 1)
    assert decode_ids(batch.x, b.info) == [b.train.sentences[i] for i in range(8)]
    json.dumps(b.info.to_dict())  # the run directory stores it


def test_yelp_style_files_references_and_exclusion(tmp_path):
    write_corpus(tmp_path, n_train=300, n_dev=40, n_test=40, seed=1)
    # put one test sentence into the training files: it must be dropped with a count
    test0 = (tmp_path / "sentiment.test.0").read_text().splitlines()
    with open(tmp_path / "sentiment.train.0", "a") as f:
        f.write(test0[0] + "\n")
    cfg = _cfg(path=str(tmp_path / "sentiment.train.*"), val_path=str(tmp_path / "sentiment.dev.*"),
               reference_path=str(tmp_path / "reference.*"), exclude_test_from_train=True)
    with pytest.warns(UserWarning, match=r"dropped [1-9]\d* of 301 training"):
        b = load_text(cfg)
    assert len(b.test) == 40 and len(b.val) == 40 and test0[0] not in b.train.sentences
    assert b.test.labels.count("0") == len(test0) and len(b.test.references) == 40


def test_csv_table_and_label_errors(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("text,style\n" + "the soup was great .,pos\nthe soup was awful .,neg\n" * 20)
    b = load_text(_cfg(path=str(p), val_fraction=0.1, test_fraction=0.1))
    assert b.info.extra["labels"] == ["neg", "pos"]
    with pytest.raises(DataValidationError, match=r"labels must be in \['neg'\].*'pos'"):
        load_text(_cfg(path=str(p), labels=["neg"]))


def test_plain_sentences_truncation_and_errors(tmp_path):
    p = tmp_path / "ptb.txt"
    p.write_text("a b c <unk> d\n" + " ".join(["w"] * 12) + "\n" + "e f\n" * 30)
    with pytest.warns(UserWarning, match="truncated 1 of"):
        b = load_text(_cfg(path=str(p), labelled=False, max_len=10, val_fraction=0.1, test_fraction=0.1))
    assert b.info.n_cond_classes == 0 and b.train.labels is None and max(b.train.lengths) <= 11
    with pytest.raises(DataValidationError, match="max_len=10"):
        load_text(_cfg(path=str(p), labelled=False, max_len=10, on_long="error"))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(DataValidationError, match="at least one sentence"):
        load_text(_cfg(path=str(empty), labelled=False))
    with pytest.raises(DataValidationError, match="pattern must match"):
        load_text(_cfg(path=str(tmp_path / "nothing.*")))
    with pytest.raises(ConfigError, match="data.val_fraction"):
        load_config("text:default", ["data.val_fraction=1.5"])
    with pytest.raises(ConfigError, match="labelled: false"):
        load_text(_cfg(path=str(p), labelled=False, labels=["0", "1"]))


# ---------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def default_run(tmp_path_factory, train_packaged):
    run_dir = tmp_path_factory.mktemp("text") / "run"
    return run_dir, train_packaged("text:default", TINY, run_dir)


def test_training_logs_the_control_terms(default_run):
    run_dir, _ = default_run
    recs = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in recs if r["split"] == "train"]
    for key in ("disc_loss", "style_loss", "z_recon", "adv_loss", "adv_entropy", "w/style_loss", "kl"):
        assert key in train[-1], key
    assert train[0]["w/style_loss"] == 0.0  # the style term waits for the VAE (delay)


def test_evaluate_reports_transfer_beside_copy_and_human(default_run):
    run_dir, _ = default_run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate_run(run_dir)
    for key in ("nll_iw", "ppl_iw", "kl", "mutual_info", "active_units", "classifier/acc", "transfer/acc",
                "transfer/self_bleu", "transfer/ref_bleu", "transfer/lm_ppl", "copy/acc", "copy/self_bleu",
                "human/ref_bleu", "recon/bleu", "sample/distinct2"):
        assert key in res, key
    assert res["copy/self_bleu"] == pytest.approx(100.0) and res["human/ref_bleu"] == pytest.approx(100.0)
    assert res["classifier/acc"] > 90 and res["copy/acc"] < 10  # the judge works on this corpus
    assert res["metric_directions"]["transfer/lm_ppl"] == "lower"


def test_transfer_api_returns_one_output_per_input_and_uses_the_style_code(default_run):
    run_dir, _ = default_run
    _, _, model, info, _ = load_run(run_dir)
    src = ["the pizza was bland and the staff was rude .", "we loved the tacos !", "the service was great ."]
    pos = style.transfer(model, info, src, "1")
    neg = style.transfer(model, info, src, "0")
    mixed = style.transfer(model, info, src, ["1", "0", 1])
    assert len(pos) == len(neg) == 3 and all(isinstance(s, str) for s in pos)
    assert mixed[0] == pos[0] and mixed[1] == neg[1] and mixed[2] == pos[2]
    # the target style code is what the decoder gets (a 60-step model need not be fluent yet)
    seen = []
    generate = model.generate
    model.generate = lambda z, c=None, **kw: seen.append(c.tolist()) or generate(z, c, **kw)
    try:
        style.transfer(model, info, src, ["0", "1", "1"])
    finally:
        model.generate = generate
    assert seen == [[0, 1, 1]]
    z = model.embed(style.encode_text(src, info)[0])
    x = style.encode_text(src, info)[0]
    p0 = model.decode(z, torch.zeros(3, dtype=torch.long), x).logits
    p1 = model.decode(z, torch.ones(3, dtype=torch.long), x).logits
    assert not torch.allclose(p0, p1)  # changing c changes the decoder's distribution
    assert style.reconstruct(model, info, src, "0")[0] == neg[0]  # same z and c -> same decoding
    assert len(style.sample(model, info, 4, style="1", seed=3)) == 4
    assert style.sample(model, info, 4, style="1", seed=3) == style.sample(model, info, 4, style="1", seed=3)
    path = style.interpolate(model, info, src[0], src[1], steps=4, style="1")
    assert len(path) == 4 and path[0] == pos[0] and path[-1] == pos[1]


def test_transfer_api_errors(default_run):
    run_dir, _ = default_run
    _, _, model, info, _ = load_run(run_dir)
    with pytest.raises(DataValidationError, match=r"labels \['0', '1'\].*'2'"):
        style.transfer(model, info, ["good food ."], "2")
    with pytest.raises(DataValidationError, match="one per sentence"):
        style.transfer(model, info, ["a .", "b ."], ["1"])
    with pytest.raises(DataValidationError, match="not one string"):
        style.transfer(model, info, "good food .", "1")
    with pytest.raises(DataValidationError, match="needs a style"):
        style.sample(model, info, 3)


def test_generate_from_the_prior_and_from_inputs(default_run, tmp_path):
    run_dir, _ = default_run
    out = generate_run(run_dir, 5, tmp_path / "s.txt", cond=["style=1"])
    assert len(out.read_text().splitlines()) == 5
    src = tmp_path / "in.txt"
    src.write_text("the pizza was bland .\nthe staff was rude .\n")
    out = generate_run(run_dir, 1, tmp_path / "t.txt", cond=["style=1"], input_path=src)
    assert len(out.read_text().splitlines()) == 2
    with pytest.raises(DataValidationError, match="needs the target style"):
        generate_run(run_dir, 1, tmp_path / "t.txt", input_path=src)
    with pytest.raises(DataValidationError, match="--cond"):
        generate_run(run_dir, 3, tmp_path / "s.txt", cond=["mood=1"])
    with pytest.raises(DataValidationError, match=r"\.txt"):
        generate_run(run_dir, 3, tmp_path / "s.csv", cond=["style=1"])


def test_style_words_are_disjoint():
    assert not STYLE_WORDS["0"] & STYLE_WORDS["1"]


def test_domain_contract(tmp_path):
    import dataclasses

    from vaekit.domains import get_domain

    dom = get_domain("text")
    dom.check_requirements()
    assert dom.name == "text" and {"default", "yelp", "ptb"} <= set(dom.config_names())
    assert dataclasses.is_dataclass(dom.DataConfig) and dataclasses.is_dataclass(dom.EvalOptions)
    names = [m.name for m in dom.metrics()]
    assert len(set(names)) == len(names)
    bundle = dom.load_data(_cfg(generated_size=200), seed=0)
    batch = bundle.collate([bundle.train[i] for i in range(5)])
    texts = dom.decode(batch.x, bundle.info)
    assert texts == bundle.train.sentences[:5]  # training words are all in the vocabulary
    out = dom.save_samples(texts, tmp_path / "s.txt", bundle.info)
    assert out.read_text().splitlines() == texts
    assert int(dom.parse_cond(["style=1"], bundle.info)) == 1
    assert dom.parse_cond([], bundle.info) is None
