"""Issue 19, text item 13: one label rule on every split, so a row's fate does not depend on
the split the seed puts it in, and the fixes name ``data.labels``."""
from __future__ import annotations

import pytest

pytest.importorskip("sacrebleu")
pytest.importorskip("sklearn")

from vaekit.core.config import from_dict  # noqa: E402
from vaekit.core.errors import DataValidationError  # noqa: E402
from vaekit.domains.text.loading import TextDataConfig, load_text  # noqa: E402

ROWS = "the soup was great .,1\nthe soup was awful .,0\n" * 50


def _cfg(**kw) -> TextDataConfig:
    return from_dict(TextDataConfig, kw, "data")


def _table(path, body: str):
    path.write_text("text,label\n" + body)
    return str(path)


# ---------------------------------------------------------------------------- item 13: labels
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_stray_label_is_an_error_whichever_split_the_seed_puts_it_in(tmp_path, seed):
    # seed 0 cuts the stray row into val/test, seed 1 leaves it in train: same data, same outcome
    p = _table(tmp_path / "t.csv", ROWS + "a stray row .,2\n")
    with pytest.raises(DataValidationError) as err:
        load_text(_cfg(path=p), seed)
    assert "'2': 1" in str(err.value) and "--set \"data.labels=" in str(err.value)


def test_a_stray_training_label_is_an_error_beside_explicit_evaluation_files(tmp_path):
    p = _table(tmp_path / "t.csv", ROWS + "a stray row .,2\n")
    v = _table(tmp_path / "v.csv", ROWS[:92])
    with pytest.raises(DataValidationError, match=r"data\.path labels.*only.*train.*'2': 1.*data\.labels"):
        load_text(_cfg(path=p, val_path=v, test_fraction=0.0))
    # the same row in the validation file: the same kind of error, naming data.labels too
    p2 = _table(tmp_path / "t2.csv", ROWS)
    v2 = _table(tmp_path / "v2.csv", ROWS[:92] + "a stray row .,2\n")
    with pytest.raises(DataValidationError, match=r"data\.val_path labels.*'2': 1.*data\.labels"):
        load_text(_cfg(path=p2, val_path=v2, test_fraction=0.0))


def test_given_labels_are_enforced_on_every_split_and_named_in_the_fix(tmp_path):
    p = _table(tmp_path / "t.csv", ROWS + "a stray row .,2\n")
    for seed in (0, 1):
        with pytest.raises(DataValidationError, match=r"data\.labels.*'2': 1.*add .* to data\.labels"):
            load_text(_cfg(path=p, labels=["0", "1"]), seed)
    # declared, the third label is a class wherever its row lands
    for seed in (0, 1):
        b = load_text(_cfg(path=p, labels=["0", "1", "2"]), seed)
        assert b.info.extra["labels"] == ["0", "1", "2"] and b.info.n_cond_classes == 3


def test_real_classes_are_still_inferred(tmp_path):
    p = _table(tmp_path / "t.csv", "the soup was great .,a\nthe soup was awful .,b\nthe soup was fine .,c\n" * 40)
    b = load_text(_cfg(path=p))
    assert b.info.extra["labels"] == ["a", "b", "c"]
    # a one-direction test file (only negatives to restyle) is fine: the classes occur in val
    t = _table(tmp_path / "test.csv", "the soup was awful .,0\n" * 5)
    b = load_text(_cfg(path=_table(tmp_path / "t2.csv", ROWS), test_path=t))
    assert b.info.extra["labels"] == ["0", "1"] and set(b.test.labels) == {"0"}
