"""Issue 19, text items 14 and 15: ``vaekit generate RUN --input FILE`` keeps one output line
per input line (blank lines, CRLF, a missing final newline, a BOM), and the style API on zero
sentences.

The model is built untrained from a shrunken ``text:default``: the tests check line alignment,
shapes and messages, not fluency."""
from __future__ import annotations

import warnings

import pytest
import torch

pytest.importorskip("sacrebleu")
pytest.importorskip("sklearn")

from vaekit.core.config import from_dict  # noqa: E402
from vaekit.core.errors import DataValidationError  # noqa: E402
from vaekit.core.vae import build_vae  # noqa: E402
from vaekit.domains.text import style  # noqa: E402
from vaekit.domains.text.domain import DOMAIN  # noqa: E402
from vaekit.domains.text.loading import TextDataConfig, load_text  # noqa: E402
from vaekit.pipelines import load_config  # noqa: E402


# ---------------------------------------------------------------------------- a tiny untrained model
@pytest.fixture(scope="module")
def model_info():
    cfg = load_config("text:default", ["data.generated_size=300", "model.decoder.params.hidden_dim=32",
                                       "model.encoder.params.hidden_dim=16"])
    b = load_text(from_dict(TextDataConfig, cfg.data, "data"), 0)
    torch.manual_seed(0)
    return build_vae(cfg.model, b.info).eval(), b.info


# ---------------------------------------------------------------------------- item 14: --input lines
SENTS = ["the food was great .", "the staff was rude .", "we loved it ."]


def _generate(model_info, tmp_path, raw: bytes, name="in.txt"):
    model, info = model_info
    src = tmp_path / name
    src.write_bytes(raw)
    out = DOMAIN.generate_from_inputs(model, info, src, 100, tmp_path / f"out_{name}", cond=["style=1"])
    return out.read_text(encoding="utf-8").split("\n")[:-1]


def test_blank_input_lines_keep_their_place(model_info, tmp_path):
    model, info = model_info
    want = style.transfer(model, info, SENTS, "1")
    raw = f"{SENTS[0]}\n\n{SENTS[1]}\n   \n{SENTS[2]}\n".encode()
    with pytest.warns(UserWarning, match=r"2 blank line\(s\) of 5.*blank output line"):
        got = _generate(model_info, tmp_path, raw)
    assert got == [want[0], "", want[1], "", want[2]]


def test_line_endings_trailing_newline_and_odd_separators(model_info, tmp_path):
    model, info = model_info
    want = style.transfer(model, info, SENTS, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crlf = _generate(model_info, tmp_path, "\r\n".join([SENTS[0], "", SENTS[1], SENTS[2]]).encode() + b"\r\n",
                         "crlf.txt")
        no_final = _generate(model_info, tmp_path, "\n".join(SENTS).encode(), "nofinal.txt")
        bom = _generate(model_info, tmp_path, b"\xef\xbb\xbf" + "\n".join(SENTS).encode() + b"\n", "bom.txt")
    assert crlf == [want[0], "", want[1], want[2]]
    assert no_final == want and bom == want
    # a form feed or U+2028 inside a line is not a line break for wc -l / paste: one output line
    odd = _generate(model_info, tmp_path, f"{SENTS[0]}\x0c{SENTS[1]}\n{SENTS[2]}\u2028ok\n".encode(), "odd.txt")
    assert len(odd) == 2


def test_input_without_any_sentence_is_an_error(model_info, tmp_path):
    for raw in (b"", b"\n\n  \r\n"):
        with pytest.raises(DataValidationError, match=r"at least one sentence"):
            _generate(model_info, tmp_path, raw, f"blank{len(raw)}.txt")


# ---------------------------------------------------------------------------- item 15: zero sentences
def test_the_style_api_on_zero_sentences(model_info):
    model, info = model_info
    assert style.transfer(model, info, [], "1") == []
    assert style.transfer(model, info, [], []) == []
    assert style.transfer(model, info, iter([]), "1") == []
    assert style.reconstruct(model, info, [], "0") == []
    assert style.sample(model, info, 0, style="1") == []
    x, mask = style.encode_text([], info)
    assert x.shape == mask.shape == (0, 1) and x.dtype == torch.long and mask.dtype == torch.bool
    # the checks still run on an empty list: an unknown style is still an error
    with pytest.raises(DataValidationError, match=r"labels \['0', '1'\].*'2'"):
        style.transfer(model, info, [], "2")
    with pytest.raises(DataValidationError, match="not one string"):
        style.transfer(model, info, "", "1")
    with pytest.raises(DataValidationError, match=r"integer >= 0"):
        style.sample(model, info, -1, style="1")
