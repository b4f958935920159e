"""Checkpoints, the component registry, derived seeds and the generic datasets / collates."""
import random

import numpy as np
import pytest
import torch

from vaekit.core.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint
from vaekit.core.data import ArrayDataset, PadCollate, SequenceDataset, collate_arrays
from vaekit.core.errors import CheckpointError, ConfigError, DataValidationError
from vaekit.core.registry import Registry, did_you_mean
from vaekit.core.seed import derive_seed, seed_everything


# ----------------------------------------------------------------------------- checkpoints
def _state():
    torch.manual_seed(0)
    return {"model": torch.nn.Linear(3, 2).state_dict(), "step": 7, "config": {"lr": 1e-3, "dims": [4, 2]},
            "rng": torch.get_rng_state()}


def test_save_checkpoint_is_atomic_and_loads_weights_only(tmp_path):
    path = tmp_path / "ckpt" / "last.pt"  # parent directory is created
    state = _state()
    assert save_checkpoint(path, state) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.pt"]  # no temp file left
    raw = torch.load(path, weights_only=True)
    assert raw["format_version"] == FORMAT_VERSION
    assert raw["step"] == 7 and raw["config"] == {"lr": 1e-3, "dims": [4, 2]}
    for k, v in state["model"].items():
        assert torch.equal(raw["model"][k], v)
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["rng"], state["rng"])
    assert "format_version" not in state  # the caller's dict is not modified


def test_save_checkpoint_overwrites_in_place(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"model": {}, "step": 1})
    save_checkpoint(path, {"model": {}, "step": 2})
    assert load_checkpoint(path)["step"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_failed_save_keeps_old_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"model": {}, "step": 1})
    with pytest.raises(Exception):
        save_checkpoint(path, {"model": {}, "bad": lambda: None})  # lambdas cannot be pickled
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    assert load_checkpoint(path)["step"] == 1


def test_load_missing_checkpoint_names_path(tmp_path):
    path = tmp_path / "nope.pt"
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    assert str(path) in str(exc.value)
    assert "not found" in str(exc.value)


def test_load_corrupt_checkpoint_names_path(tmp_path):
    path = tmp_path / "last.pt"
    path.write_bytes(b"\x00garbage\xff" * 20)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    assert str(path) in str(exc.value)
    assert "corrupt" in str(exc.value)


def test_load_truncated_checkpoint_is_checkpoint_error(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, _state())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot read"):
        load_checkpoint(path)


def test_load_checkpoint_with_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "obj": random.Random(0)}, path)  # not loadable with weights_only=True
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("payload", [{"step": 3}, [1, 2, 3], torch.zeros(2)])
def test_load_non_vaekit_checkpoint_names_path(tmp_path, payload):
    path = tmp_path / "other.pt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    assert str(path) in str(exc.value)
    assert "'model'" in str(exc.value)


def test_load_checkpoint_from_newer_format_is_refused(tmp_path):
    path = tmp_path / "new.pt"
    torch.save({"model": {}, "format_version": FORMAT_VERSION + 1}, path)
    with pytest.raises(CheckpointError, match="newer vaekit"):
        load_checkpoint(path)


# ----------------------------------------------------------------------------- registry
REG = Registry("widget")


@REG.register("box")
class Box:
    def __init__(self, width, in_dim, height=1.0, *, color="red"):
        self.width, self.in_dim, self.height, self.color = width, in_dim, height, color


@REG.register("flexible")
def make_flexible(size=1, **kwargs):
    return {"size": size, **kwargs}


@REG.register("picky")
class Picky:
    def __init__(self, width=1):
        if width < 0:
            raise ValueError("width must be >= 0")
        self.width = width


@REG.register("bare")
class Bare(torch.nn.Module):
    pass


def test_registry_build_wires_and_passes_user_params():
    box = REG.build("box", {"width": 2, "color": "blue"}, where="model.box", wired={"in_dim": 5, "other": 9})
    assert (box.width, box.in_dim, box.height, box.color) == (2, 5, 1.0, "blue")
    assert REG.names() == ["bare", "box", "flexible", "picky"]
    assert "box" in REG and "crate" not in REG


def test_registry_rejects_unknown_param_with_suggestion_and_user_options():
    with pytest.raises(ConfigError) as exc:
        REG.build("box", {"width": 2, "heigth": 3}, where="model.box", wired={"in_dim": 5})
    msg = str(exc.value)
    assert msg.startswith("model.box.params.heigth: unknown argument of widget 'box'.")
    assert "Did you mean 'height'?" in msg
    assert "Valid: color, height, width." in msg  # the wired in_dim is not offered


def test_registry_rejects_missing_required_param():
    with pytest.raises(ConfigError) as exc:
        REG.build("box", {}, where="model.box", wired={"in_dim": 5})
    msg = str(exc.value)
    assert "model.box.params: widget 'box' needs width" in msg
    assert "Add 'width'" in msg


def test_registry_rejects_user_param_that_collides_with_wired_one():
    with pytest.raises(ConfigError) as exc:
        REG.build("box", {"width": 2, "in_dim": 3}, where="model.box", wired={"in_dim": 5})
    msg = str(exc.value)
    assert "model.box.params.in_dim" in msg
    assert "wired" in msg and "got 3" in msg
    assert "Remove it from model.box.params" in msg


def test_registry_unknown_kind_has_suggestion_and_valid_names():
    with pytest.raises(ConfigError) as exc:
        REG.build("boxx", {}, where="model.box")
    msg = str(exc.value)
    assert msg.startswith("model.box.kind: unknown widget 'boxx'.")
    assert "Did you mean 'box'?" in msg
    assert "Valid: bare, box, flexible, picky." in msg


def test_registry_kwargs_constructor_accepts_any_param_and_wired_values():
    out = REG.build("flexible", {"size": 3, "anything": 1}, wired={"in_dim": 4})
    assert out == {"size": 3, "anything": 1, "in_dim": 4}


def test_registry_bare_module_takes_no_params():
    assert isinstance(REG.build("bare", {}), Bare)
    with pytest.raises(ConfigError, match=r"params\.x: unknown argument.*Valid: \(none\)"):
        REG.build("bare", {"x": 1})


def test_registry_wraps_constructor_value_errors():
    with pytest.raises(ConfigError, match=r"model\.p\.params: building widget 'picky' failed: width must be >= 0"):
        REG.build("picky", {"width": -1}, where="model.p")


def test_registry_rejects_duplicate_names_but_allows_re_registering_same_object():
    reg = Registry("thing")
    reg.register("a")(Box)
    reg.register("a")(Box)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a")(Picky)


def test_did_you_mean():
    assert did_you_mean("hiden_dims", ["hidden_dims", "latent_dim"]) == " Did you mean 'hidden_dims'?"
    assert did_you_mean("zzz", ["hidden_dims"]) == ""


# ----------------------------------------------------------------------------- seeds
def test_derive_seed_is_deterministic_and_in_range():
    assert derive_seed(1, 2, 3) == derive_seed(1, 2, 3)
    for parts in [(0,), (1, 2, 3), (2 ** 70, -5), (123456789, 10 ** 6, 7)]:
        s = derive_seed(*parts)
        assert isinstance(s, int) and 0 <= s < 2 ** 63
        torch.manual_seed(s)  # usable as a torch seed


def test_derive_seed_changes_when_any_part_changes():
    base = (7, 100, 3)
    seeds = {derive_seed(*base)}
    for i in range(3):
        for delta in (1, -1, 1000):
            parts = list(base)
            parts[i] += delta
            seeds.add(derive_seed(*parts))
    assert len(seeds) == 1 + 9
    assert derive_seed(1, 2) != derive_seed(2, 1)  # order matters
    assert derive_seed(1) != derive_seed(1, 0)  # arity matters
    # No collisions over a small grid of (seed, step, slot).
    grid = {derive_seed(s, t, k) for s in range(4) for t in range(50) for k in range(4)}
    assert len(grid) == 4 * 50 * 4


def test_seed_everything_seeds_python_numpy_and_torch():
    seed_everything(42)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(42)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a
    seed_everything(43)
    assert torch.rand(1).item() != a[2]


# ----------------------------------------------------------------------------- datasets and collates
def test_array_dataset_items_and_collate():
    ds = ArrayDataset(np.arange(12).reshape(4, 3), cond=np.array([0, 1, 2, 1]), y=[1.0, 2.0, 3.0, 4.0])
    assert len(ds) == 4
    assert ds.x.dtype == torch.float32
    assert ds.cond.dtype == torch.long  # integer 1-d conditions are class ids
    batch = collate_arrays([ds[1], ds[3]])
    assert torch.equal(batch.x, torch.tensor([[3.0, 4.0, 5.0], [9.0, 10.0, 11.0]]))
    assert batch.cond.tolist() == [1, 1]
    assert batch.y.tolist() == [2.0, 4.0]
    assert batch.index.tolist() == [1, 3]
    assert batch.mask is None


def test_array_dataset_float_cond_and_no_extras():
    ds = ArrayDataset(np.zeros((2, 2)), cond=np.ones((2, 3)))
    assert ds.cond.dtype == torch.float32 and ds.cond.shape == (2, 3)
    b = collate_arrays([ds[0], ds[1]])
    assert b.y is None
    assert collate_arrays([ArrayDataset(np.zeros((1, 2)))[0]]).cond is None


def test_array_dataset_rejects_nan_rows_with_count():
    x = np.ones((5, 3))
    x[1, 0] = np.nan
    x[3, :] = np.inf
    x[3, 1] = np.nan
    with pytest.raises(DataValidationError, match="NaN or infinite values in 2 rows") as exc:
        ArrayDataset(x, where="toy.train")
    assert str(exc.value).startswith("toy.train:")


def test_array_dataset_counts_bad_rows_in_images():
    x = np.zeros((4, 1, 2, 2))
    x[2, 0, 1, 1] = np.nan
    with pytest.raises(DataValidationError, match="in 1 rows"):
        ArrayDataset(x)


@pytest.mark.parametrize("kw,name", [(dict(cond=np.zeros((3, 2))), "cond"), (dict(y=np.zeros(5)), "y")])
def test_array_dataset_rejects_mismatched_lengths(kw, name):
    with pytest.raises(DataValidationError, match=f"{name} has {len(next(iter(kw.values())))} rows but there are 4 examples"):
        ArrayDataset(np.zeros((4, 2)), **kw)


def test_array_dataset_rejects_nan_in_float_cond():
    with pytest.raises(DataValidationError, match="cond"):
        ArrayDataset(np.zeros((3, 2)), cond=np.array([[0.0], [np.nan], [1.0]]))


def test_array_dataset_rejects_1d_x():
    with pytest.raises(DataValidationError, match=r"\(N, 1\)"):
        ArrayDataset(np.zeros(4))


def test_pad_collate_pads_and_masks():
    ds = SequenceDataset([[4, 5, 2], [6, 2], [4, 4, 4, 5, 2]], cond=[0, 1, 2])
    batch = PadCollate(pad_id=0)([ds[0], ds[1], ds[2]])
    assert batch.x.tolist() == [[4, 5, 2, 0, 0], [6, 2, 0, 0, 0], [4, 4, 4, 5, 2]]
    assert batch.mask.tolist() == [[True, True, True, False, False],
                                   [True, True, False, False, False],
                                   [True] * 5]
    assert batch.x.dtype == torch.long and batch.mask.dtype == torch.bool
    assert batch.cond.tolist() == [0, 1, 2]
    assert batch.index.tolist() == [0, 1, 2]


def test_pad_collate_uses_pad_id_and_masks_real_pad_valued_tokens():
    ds = SequenceDataset([[7, 7], [3]])
    batch = PadCollate(pad_id=9)([ds[0], ds[1]])
    assert batch.x.tolist() == [[7, 7], [3, 9]]
    assert batch.mask.tolist() == [[True, True], [True, False]]
    # The mask follows lengths, not token values: a real token equal to pad_id stays unmasked.
    ds = SequenceDataset([[9, 2], [3]])
    assert PadCollate(pad_id=9)([ds[0], ds[1]]).mask.tolist() == [[True, True], [True, False]]


def test_sequence_dataset_rejects_mismatched_cond_length():
    with pytest.raises(DataValidationError, match="cond has 2 rows"):
        SequenceDataset([[4, 2], [5, 2], [6, 2]], cond=[0, 1])


def test_sequence_dataset_rejects_empty_sequences():
    with pytest.raises(DataValidationError, match="empty sequences"):
        SequenceDataset([[1, 2], []])


def test_atomic_path_replaces_on_success_and_keeps_the_old_file_on_failure(tmp_path):
    from vaekit.core.checkpoint import atomic_path

    target = tmp_path / "sub" / "out.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted mid-write")
    assert target.read_text() == "first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]  # no temporary file left


def test_sparse_row_dataset_densifies_rows_and_targets_per_batch():
    import scipy.sparse as sp

    from vaekit.core.data import SparseRowDataset, collate_sparse_rows

    x = sp.csr_matrix(np.array([[0, 1, 0, 2], [0, 0, 0, 0], [3, 0, 0, 1]], dtype=np.float64))
    y = sp.csr_matrix(np.array([[1, 0], [0, 1], [0, 0]]))
    ds = SparseRowDataset(x, y)
    b = collate_sparse_rows([ds[2], ds[0], ds[1]])
    assert b.x.dtype == torch.float32 and b.x.tolist() == [[3, 0, 0, 1], [0, 1, 0, 2], [0, 0, 0, 0]]
    assert b.y.tolist() == [[0, 0], [1, 0], [0, 1]] and b.index.tolist() == [2, 0, 1]
    assert collate_sparse_rows([SparseRowDataset(x)[1]]).y is None
    with pytest.raises(DataValidationError, match="scipy.sparse"):
        SparseRowDataset(x.toarray())
    with pytest.raises(DataValidationError, match="one row per example"):
        SparseRowDataset(x, y[:2])
    bad = x.copy()
    bad.data[0] = np.nan
    with pytest.raises(DataValidationError, match="NaN"):
        SparseRowDataset(bad)
