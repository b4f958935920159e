"""Vocabulary: special ids, ordering, encode/decode, JSON round trip, errors."""
from __future__ import annotations

import json

import pytest
import torch

from vaekit.core.errors import DataValidationError
from vaekit.core.vocab import SPECIALS, Vocabulary


def test_specials_have_the_fixed_ids_used_by_the_toy_data():
    v = Vocabulary(["a"])
    assert v.to_list()[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"] == list(SPECIALS)
    assert (v.pad_id, v.bos_id, v.eos_id, v.unk_id) == (0, 1, 2, 3)
    assert len(v) == 5


def test_build_orders_by_count_then_alphabetically_and_respects_min_freq():
    v = Vocabulary.build([["C", "C", "O", "N"], ["C", "O", "Br"], ["Br", "Z"]], min_freq=2)
    # counts: C 3, Br 2, O 2, N 1, Z 1 -> N and Z dropped; ties alphabetical
    assert v.to_list()[4:] == ["C", "Br", "O"]
    assert "N" not in v and "C" in v
    # the order of the data does not change the ids
    assert Vocabulary.build([["Br", "Z"], ["C", "O", "Br"], ["N", "O", "C", "C"]], min_freq=2) == v


def test_encode_appends_eos_and_maps_unknown_tokens_to_unk():
    v = Vocabulary(["C", "O"])
    assert v.encode(["C", "O", "Xx"]) == [4, 5, 3, 2]
    assert v.encode(["C"], add_eos=False) == [4]


def test_decode_stops_at_eos_and_skips_pad_and_bos():
    v = Vocabulary(["C", "O"])
    assert v.decode([1, 4, 0, 5, 2, 4, 4]) == ["C", "O"]
    assert v.decode(torch.tensor([4, 3, 5])) == ["C", "<unk>", "O"]
    assert v.decode(v.encode(["O", "C", "C"])) == ["O", "C", "C"]


def test_decode_rejects_ids_outside_the_vocabulary():
    with pytest.raises(DataValidationError, match=r"id must be in \[0, 6\); got 9"):
        Vocabulary(["C", "O"]).decode([4, 9])


def test_to_list_from_list_round_trip_through_json():
    v = Vocabulary.build([["[nH]", "c", "Cl", "%10"]])
    w = Vocabulary.from_list(json.loads(json.dumps(v.to_list())))
    assert w == v and w.encode(["Cl", "%10"]) == v.encode(["Cl", "%10"])


def test_from_list_requires_the_specials_first():
    with pytest.raises(DataValidationError, match="must start with the special tokens"):
        Vocabulary.from_list(["C", "<pad>", "<bos>", "<eos>", "<unk>"])


def test_duplicate_or_special_tokens_are_rejected():
    with pytest.raises(DataValidationError, match="'C' appears twice"):
        Vocabulary(["C", "O", "C"])
    with pytest.raises(DataValidationError, match="is a special token"):
        Vocabulary(["<eos>"])
    with pytest.raises(DataValidationError, match="min_freq"):
        Vocabulary.build([["C"]], min_freq=0)


def test_build_ignores_special_tokens_in_the_data():
    assert Vocabulary.build([["C", "<unk>", "<eos>"]]).to_list()[4:] == ["C"]
