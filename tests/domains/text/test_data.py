"""Tests for vaekit.domains.text.io and .tokens: readers, tokenisation, vocabulary, encoding, errors."""
import gzip
import warnings
from pathlib import Path

import pytest

from vaekit.core.errors import ConfigError, DataValidationError
from vaekit.core.vocab import UNK_ID, Vocabulary
from vaekit.domains.text.io import read_labelled, read_ptb, read_references, read_sentences, yelp_paths
from vaekit.domains.text.tokens import build_vocab, check_labels, encode_sentences, tokenize

SHARED = Path("/work/shared/data/text")
PTB_TRAIN = SHARED / "ptb" / "ptb.train.txt.gz"
YELP = SHARED / "yelp"


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- read_sentences / tokenize
def test_read_sentences_strips_and_lowercases(tmp_path):
    p = _write(tmp_path / "s.txt", "The food was Great .  \nI loved it !\n")
    assert read_sentences(p) == ["The food was Great .", "I loved it !"]
    assert read_sentences(p, lowercase=True) == ["the food was great .", "i loved it !"]


def test_read_sentences_gzip_and_no_suffix(tmp_path):
    p = tmp_path / "s.txt.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write("a b\nc\n")
    assert read_sentences(p) == ["a b", "c"]
    q = _write(tmp_path / "sentiment.train", "x y\n")
    assert read_sentences(q) == ["x y"]


def test_read_sentences_blank_lines_warn_once_with_count(tmp_path):
    p = _write(tmp_path / "s.txt", "a\n\n   \nb\n\n")
    with pytest.warns(UserWarning, match=r"skipped 3 blank line\(s\) of 5") as rec:
        assert read_sentences(p) == ["a", "b"]
    assert len(rec) == 1


def test_read_sentences_empty_file_and_missing_file(tmp_path):
    p = _write(tmp_path / "empty.txt", "\n \n")
    with pytest.raises(DataValidationError, match="empty.txt.*at least one sentence"):
        read_sentences(p)
    with pytest.raises(DataValidationError, match="file not found"):
        read_sentences(tmp_path / "nope.txt")


def test_tokenize():
    assert tokenize("  It 's GOOD .\t!") == ["It", "'s", "GOOD", ".", "!"]
    assert tokenize("It 's GOOD", lowercase=True) == ["it", "'s", "good"]
    assert tokenize("") == []


# ---------------------------------------------------------------- vocabulary and encoding
def test_build_vocab_order_min_freq_max_size():
    sents = ["b a a", "c a b", "d"]
    v = build_vocab(sents)
    assert v.to_list()[4:] == ["a", "b", "c", "d"]  # a:3, b:2, then ties alphabetical
    assert build_vocab(sents, min_freq=2).to_list()[4:] == ["a", "b"]
    assert build_vocab(sents, max_size=3).to_list()[4:] == ["a", "b", "c"]
    assert len(build_vocab(sents, max_size=100)) == 8
    with pytest.raises(ConfigError, match="max_size"):
        build_vocab(sents, max_size=0)


def test_build_vocab_lowercase_and_roundtrip():
    sents = ["The cat sat", "the Dog sat"]
    v = build_vocab(sents, lowercase=True)
    assert "The" not in v and "the" in v
    ids = encode_sentences(sents, v, max_len=10, lowercase=True)
    assert [" ".join(v.decode(i)) for i in ids] == ["the cat sat", "the dog sat"]
    assert Vocabulary.from_list(v.to_list()) == v
    # without lowercase at encode time the capitalised words are unknown
    assert encode_sentences(["The Dog"], v, max_len=5) == [[UNK_ID, UNK_ID]]


def test_encode_unknown_and_literal_unk_no_bos_eos():
    v = build_vocab(["a b <unk> a"])
    assert "<unk>" not in v.to_list()[4:]
    ids = encode_sentences(["a <unk> zzz b"], v, max_len=10)
    assert ids == [[v.token_to_id("a"), UNK_ID, UNK_ID, v.token_to_id("b")]]
    assert v.decode(ids[0]) == ["a", "<unk>", "<unk>", "b"]


def test_encode_control_literals_become_unk():
    v = build_vocab(["a"])
    with pytest.warns(UserWarning, match=r"mapped 2 literal"):
        assert encode_sentences(["a <eos> <pad>"], v, max_len=5) == [[v.token_to_id("a"), UNK_ID, UNK_ID]]


def test_encode_long_truncate_counts_once():
    v = build_vocab(["a b c d e"])
    sents = ["a b c d e", "a b", "e d c"]
    with pytest.warns(UserWarning, match=r"truncated 2 of 3 sentence\(s\).*max_len=2.*longest 5") as rec:
        ids = encode_sentences(sents, v, max_len=2, where="train.txt")
    assert len(rec) == 1 and "train.txt" in str(rec[0].message)
    assert [len(i) for i in ids] == [2, 2, 2]
    assert v.decode(ids[0]) == ["a", "b"]


def test_encode_long_error_names_line_and_length():
    v = build_vocab(["a b c d e"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataValidationError, match=r"train.txt, line 3.*max_len=3.*'5 tokens'"):
            encode_sentences(["a", "a b", "a b c d e", "a b c d"], v, max_len=3, on_long="error", where="train.txt")


def test_encode_bad_arguments():
    v = build_vocab(["a"])
    with pytest.raises(ConfigError, match="Did you mean 'truncate'"):
        encode_sentences(["a"], v, max_len=3, on_long="truncat")
    with pytest.raises(ConfigError, match="max_len"):
        encode_sentences(["a"], v, max_len=0)
    with pytest.raises(ConfigError, match="Vocabulary"):
        encode_sentences(["a"], ["a"], max_len=3)


# ---------------------------------------------------------------- labelled data
def test_read_labelled_per_file_suffix_list_mapping_and_pattern(tmp_path):
    p0 = _write(tmp_path / "sentiment.train.0", "bad food .\nawful\n")
    p1 = _write(tmp_path / "sentiment.train.1", "Great food !\n")
    s, y = read_labelled([p0, p1])
    assert s == ["bad food .", "awful", "Great food !"] and y == ["0", "0", "1"]
    s2, y2 = read_labelled({"neg": p0, "pos": p1}, lowercase=True)
    assert s2[-1] == "great food !" and y2 == ["neg", "neg", "pos"]
    s3, y3 = read_labelled(str(tmp_path / "sentiment.train.*"))
    assert (s3, y3) == (s, y)


def test_read_labelled_per_file_errors(tmp_path):
    with pytest.raises(DataValidationError, match="pattern must match"):
        read_labelled(str(tmp_path / "nothing.*"))
    nosuffix = _write(tmp_path / "plain", "a\n")
    with pytest.raises(DataValidationError, match="last suffix must be its label"):
        read_labelled([nosuffix])
    empty = _write(tmp_path / "sentiment.dev.1", "\n")
    with pytest.raises(DataValidationError, match="sentiment.dev.1"):
        read_labelled([empty])


def test_read_labelled_csv_detects_columns(tmp_path):
    p = _write(tmp_path / "d.csv", 'id,Sentence,Sentiment\n1,"Good , very good",1\n2,NA is fine,0\n')
    s, y = read_labelled(p)
    assert s == ["Good , very good", "NA is fine"] and y == ["1", "0"]


def test_read_labelled_tsv_named_columns_keeps_quotes(tmp_path):
    p = _write(tmp_path / "d.tsv", 'review\tstars\tlabel\nhe said " hi "\t5\tpos\nIt \'s OK\t3\tneg\n')
    s, y = read_labelled(p, label_column="stars", text_column="review", lowercase=True)
    assert s == ['he said " hi "', "it 's ok"] and y == ["5", "3"]


@pytest.mark.parametrize("text, kwargs, match", [
    ("text,label\na,1\n", {"label_column": "lable"},
     r"label column 'lable'.*\['text', 'label'\].*Did you mean 'label'"),
    ("body,label\na,1\n", {}, r"no text column found.*\['body', 'label'\]"),
    ("text,label\na,1\nb,\n,0\nc,\n", {}, r"needs a text.*\[3\]"),  # missing values name their rows
    ("text,label\na,1\nb,\nc,\n", {}, r"needs a label.*\[2, 3\]"),
])
def test_read_labelled_bad_columns_and_values(tmp_path, text, kwargs, match):
    p = _write(tmp_path / "d.csv", text)
    with pytest.raises(DataValidationError, match=match):
        read_labelled(p, **kwargs)


def test_check_labels():
    check_labels(["0", "1", "1"], {"0", "1"}, where="train")
    with pytest.raises(DataValidationError, match=r"train: labels must be in \['0', '1'\].*'2': 2.*'x': 1"):
        check_labels(["0", "2", "x", "2"], ["0", "1"], where="train")


# ---------------------------------------------------------------- references / yelp layout
def test_read_references(tmp_path):
    p = _write(tmp_path / "reference.0", "bad food .\tGood food.\n\nslow service\tQuick service\n")
    with pytest.warns(UserWarning, match="skipped 1 blank"):
        src, ref = read_references(p)
    assert src == ["bad food .", "slow service"] and ref == ["Good food.", "Quick service"]
    bad = _write(tmp_path / "reference.1", "a\tb\nno tab here\n")
    with pytest.raises(DataValidationError, match=r"reference.1, line 2.*source<TAB>rewrite"):
        read_references(bad)
    half = _write(tmp_path / "reference.2", "a\t \n")
    with pytest.raises(DataValidationError, match=r"line 1: the reference must not be empty"):
        read_references(half)


def test_yelp_paths_layout_and_errors(tmp_path):
    for lab in "01":
        _write(tmp_path / f"shen2017.sentiment.dev.{lab}", "x\n")
    paths = yelp_paths(tmp_path, "dev")
    assert paths == {"0": tmp_path / "shen2017.sentiment.dev.0", "1": tmp_path / "shen2017.sentiment.dev.1"}
    assert read_labelled(paths) == (["x", "x"], ["0", "1"])
    with pytest.raises(DataValidationError, match=r"split 'train'.*\['dev'\]"):
        yelp_paths(tmp_path, "train")
    with pytest.raises(ConfigError, match="Did you mean 'li2018'"):
        yelp_paths(tmp_path, "dev", source="li2019")


# ---------------------------------------------------------------- shared data (skipped when absent)
@pytest.mark.skipif(not PTB_TRAIN.is_file(), reason="shared PTB data not present")
def test_ptb_train_counts_and_unk():
    sents = read_ptb(PTB_TRAIN)
    assert len(sents) == 42068
    n_words = sum(len(tokenize(s)) for s in sents)
    assert n_words == 887521 and n_words + len(sents) == 929589  # + one <eos> per line
    v = build_vocab(sents)
    # the standard 10,000-type vocabulary = 9,998 words + <unk> + <eos>; + <pad>, <bos> here
    assert len(v) == 10000 + 2
    ids = encode_sentences(sents[:200], v, max_len=100)
    n_unk_text = sum(s.split().count("<unk>") for s in sents[:200])
    assert n_unk_text > 0 and sum(i.count(UNK_ID) for i in ids) == n_unk_text


@pytest.mark.skipif(not (YELP / "li2018.reference.0").is_file(), reason="shared Yelp data not present")
def test_yelp_shared_files():
    s, y = read_labelled(yelp_paths(YELP, "test", source="li2018"))
    assert len(s) == 1000 and y.count("0") == 500 and y.count("1") == 500
    src, ref = read_references(YELP / "li2018.reference.0")
    assert len(src) == len(ref) == 500
