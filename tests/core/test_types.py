"""Typed containers (Batch, DataInfo) and the condition embedder."""
import json

import pytest
import torch

from vaekit.core import Batch, ConditionEmbedder, DataInfo
from vaekit.core.errors import ConfigError, DataValidationError


def test_batch_len_slice_and_to():
    b = Batch(x=torch.arange(12.0).reshape(4, 3), cond=torch.tensor([0, 1, 2, 3]), index=torch.arange(4))
    assert len(b) == 4
    s = b.slice(slice(1, 3))
    assert len(s) == 2
    assert s.x.tolist() == [[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]
    assert s.cond.tolist() == [1, 2] and s.index.tolist() == [1, 2]
    assert s.mask is None and s.y is None
    moved = b.to("cpu")
    assert moved is not b and torch.equal(moved.x, b.x) and moved.mask is None


class _Graphs:
    """Stand-in for a PyG Batch: sliceable to a list, re-batched by from_data_list, movable."""

    def __init__(self, items):
        self.items, self.device = list(items), "cpu"

    @property
    def num_graphs(self):
        return len(self.items)

    def __getitem__(self, sl):
        return self.items[sl]

    @classmethod
    def from_data_list(cls, items):
        return cls(items)

    def to(self, device, non_blocking=False):
        out = _Graphs(self.items)
        out.device = str(device)
        return out


def test_batch_inputs_are_the_encoder_input_and_follow_slice_and_to():
    b = Batch(x=torch.zeros(4, 3, dtype=torch.long), inputs=_Graphs("abcd"))
    assert b.encoder_input is b.inputs
    part = b.slice(slice(1, 3))
    assert isinstance(part.inputs, _Graphs) and part.inputs.items == ["b", "c"] and len(part) == 2
    assert b.to("meta").inputs.device == "meta"
    plain = Batch(x=torch.ones(2, 2))
    assert plain.encoder_input is plain.x


def test_data_info_dims_and_condition_flags():
    assert DataInfo(kind="image", shape=(1, 28, 28)).x_dim == 784
    assert DataInfo(kind="vector", shape=(5,)).x_dim == 5
    assert not DataInfo(kind="vector", shape=(5,)).has_cond
    assert DataInfo(kind="vector", shape=(5,), cond_dim=2).has_cond
    assert DataInfo(kind="vector", shape=(5,), n_cond_classes=3).has_cond


def test_data_info_round_trips_through_json():
    info = DataInfo(kind="sequence", shape=(12,), vocab_size=30, pad_id=0, bos_id=1, eos_id=2, unk_id=3,
                    likelihood="categorical", n_train=100, extra={"vocab": ["<pad>", "a"]})
    d = json.loads(json.dumps(info.to_dict()))
    assert d["shape"] == [12]
    back = DataInfo.from_dict(d)
    assert back == info
    assert isinstance(back.shape, tuple)


def test_condition_embedder_float_and_class_conditions():
    torch.manual_seed(0)
    emb = ConditionEmbedder(cond_dim=2, embed_dim=4)
    assert emb(torch.randn(3, 2)).shape == (3, 4)
    one = ConditionEmbedder(cond_dim=1, embed_dim=4)
    assert one(torch.randn(3)).shape == (3, 4)  # (B,) accepted for a single float feature
    cls = ConditionEmbedder(n_classes=5, embed_dim=4)
    out = cls(torch.tensor([0, 4, 0]))
    assert out.shape == (3, 4)
    assert torch.equal(out[0], out[2])


@pytest.mark.parametrize("kwargs", [dict(), dict(cond_dim=2, n_classes=3)])
def test_condition_embedder_needs_exactly_one_kind(kwargs):
    with pytest.raises(ConfigError, match="exactly one"):
        ConditionEmbedder(**kwargs)


def test_condition_embedder_rejects_bad_inputs():
    with pytest.raises(DataValidationError, match=r"\(B, 2\)"):
        ConditionEmbedder(cond_dim=2)(torch.randn(3, 3))
    with pytest.raises(DataValidationError, match=r"\[0, 5\)"):
        ConditionEmbedder(n_classes=5)(torch.tensor([-1, 2]))
    with pytest.raises(DataValidationError, match="long class ids"):
        ConditionEmbedder(n_classes=5)(torch.tensor([[1], [2]]))
