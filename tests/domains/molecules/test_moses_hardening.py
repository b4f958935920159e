"""MOSES metrics under hostile or malformed input (issue 19 items 1, 6, 8): statistics files that
would run code when unpickled, ChemNet activations that kept 180 kB per molecule, and entries
that are not SMILES strings."""
from __future__ import annotations

import collections
import importlib
import os
import pickle
import weakref
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")

from vaekit.core.errors import DataValidationError  # noqa: E402
from vaekit.domains.molecules import moses as M  # noqa: E402

# the package's name ``fcd`` is the metric function, so the module is imported by its path
fcd_module = importlib.import_module("vaekit.domains.molecules.moses.fcd")

MOSES_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "molecules" / "moses"
SMILES = ["CCO", "CCN", "c1ccccc1", "CC(=O)O", "C1CCCCC1", "CCOC(=O)c1ccccc1", "O=C(O)c1ccccc1O",
          "CN1CCC[C@H]1c1cccnc1", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "COc1ccc2[nH]cc(CCN)c2c1"]


# ----------------------------------------------------------------------------- item 1: statistics files

class _Payload:
    """Unpickles as ``call(*args)``: what a crafted statistics file would run on np.load."""

    def __init__(self, call, args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


def _write_stats(path: Path, stats: dict, protocol: int = 3, numpy1_names: bool = False) -> Path:
    """An ``.npz`` with one member ``stats.npy``: a pickled 0-d object array holding ``stats``,
    as ``np.savez(path, stats=np.array(stats, dtype=object))`` writes it; ``numpy1_names``
    spells the globals as numpy 1.x did (MOSES's published files)."""
    import zipfile

    arr = np.empty((), dtype=object)
    arr[()] = stats
    payload = pickle.dumps(arr, protocol=protocol)
    if numpy1_names:
        payload = payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": ()})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("stats.npy", buf.getvalue() + payload)
    return path


def _moses_like_stats(rng: np.random.Generator) -> dict:
    n = 7
    return {
        "FCD": {"mu": rng.normal(size=512).astype(np.float32), "sigma": rng.normal(size=(512, 512))},
        "SNN": {"fps": (rng.random((n, 1024)) < 0.05).astype(np.uint8)},
        "Frag": {"frag": collections.Counter({"[1*]C([6*])=O": 3, "[4*]CCO": 1})},
        "Scaf": {"scaf": collections.Counter({"c1ccc(C2CC2)cc1": 2})},
        **{key: {"values": list(map(float, rng.normal(size=n)))} for key in ("logP", "SA", "QED", "weight")},
    }


def _assert_same(a: M.ReferenceStats, b: M.ReferenceStats) -> None:
    for name in ("fcd_mu", "fcd_sigma", "fps"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert getattr(a, name).dtype == getattr(b, name).dtype
    assert a.frag == b.frag and a.scaf == b.scaf
    assert sorted(a.props) == sorted(b.props)
    for name in a.props:
        np.testing.assert_array_equal(a.props[name], b.props[name])


@pytest.mark.parametrize("kind", ["os.system", "builtins.exec"])
def test_statistics_file_whose_pickle_runs_code_is_refused_before_running_it(tmp_path, kind):
    marker = tmp_path / "pwned"
    if kind == "os.system":
        payload = _Payload(os.system, (f"touch {marker}",))
        forbidden = f"{os.system.__module__}.system"
    else:
        payload = _Payload(exec, (f"open({str(marker)!r}, 'w').write('x')",))
        forbidden = "builtins.exec"
    stats = _moses_like_stats(np.random.default_rng(0))
    stats["FCD"]["mu"] = payload
    path = _write_stats(tmp_path / "test_stats.npz", stats, protocol=2)
    try:
        M.ReferenceStats.from_moses(path)
        msg = None
    except DataValidationError as exc:
        msg = str(exc)
    assert not marker.exists(), "the pickled payload ran"
    assert msg is not None, "the crafted file loaded without an error"
    assert str(path) in msg and "stats.npy" in msg and forbidden in msg
    assert "download" in msg.lower() and "ReferenceStats.from_smiles" in msg
    # and through moses_metrics, which the benchmark protocol calls with the file's path
    with pytest.raises(DataValidationError, match="stats.npy"):
        M.moses_metrics(SMILES, SMILES, test_stats=path)
    assert not marker.exists()


def test_benchmark_protocol_reads_the_statistics_before_the_training_set(tmp_path):
    """``molecules:moses`` refuses a crafted statistics file in its data step, before the
    canonical training set is built and before any model is trained or sampled."""
    from vaekit.domains.molecules import protocol as P

    marker = tmp_path / "pwned"
    stats = _moses_like_stats(np.random.default_rng(0))
    stats["FCD"]["mu"] = _Payload(os.system, (f"touch {marker}",))
    _write_stats(tmp_path / "test_stats.npz", stats, protocol=2)
    _write_stats(tmp_path / "test_scaffolds_stats.npz", _moses_like_stats(np.random.default_rng(1)))
    missing_train = tmp_path / "no-train.csv.gz"  # reading it would raise a different error
    options = {"data": str(tmp_path), "train": str(missing_train), "cache_dir": str(tmp_path / "cache"),
               "n_jobs": 1}
    with pytest.raises(DataValidationError, match="stats.npy"):
        P._load(0, options)
    assert not marker.exists() and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("protocol, numpy1_names", [(2, True), (2, False), (3, False), (4, False)])
def test_statistics_file_of_the_moses_structure_loads_as_np_load_allow_pickle(tmp_path, protocol, numpy1_names):
    stats = _moses_like_stats(np.random.default_rng(1))
    path = _write_stats(tmp_path / "test_stats.npz", stats, protocol=protocol, numpy1_names=numpy1_names)
    safe = M.ReferenceStats.from_moses(path)
    with np.load(path, allow_pickle=True) as z:
        trusted = M.ReferenceStats.from_moses(z["stats"].item())
    _assert_same(safe, trusted)
    assert not safe.missing()


def test_reference_stats_save_then_load_round_trips(tmp_path):
    ref = M.ReferenceStats.from_moses(_moses_like_stats(np.random.default_rng(2)))
    ref.save(tmp_path / "ref.npz")
    _assert_same(M.ReferenceStats.from_moses(tmp_path / "ref.npz"), ref)


def test_not_a_zip_or_without_stats_member_is_a_clear_error(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataValidationError, match="must be a .npz"):
        M.ReferenceStats.from_moses(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(DataValidationError, match="holds the key 'stats'"):
        M.ReferenceStats.from_moses(tmp_path / "other.npz")


@pytest.mark.slow
@pytest.mark.skipif(not (MOSES_DIR / "test_stats.npz").is_file(), reason="MOSES statistics not under ../shared")
@pytest.mark.parametrize("name", ["test_stats.npz", "test_scaffolds_stats.npz"])
def test_moses_published_statistics_load_with_the_restricted_unpickler(name):
    import warnings

    safe = M.ReferenceStats.from_moses(MOSES_DIR / name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy.core names under numpy 2
        with np.load(MOSES_DIR / name, allow_pickle=True) as z:
            trusted = M.ReferenceStats.from_moses(z["stats"].item())
    _assert_same(safe, trusted)
    assert safe.fps.shape[1] == 1024 and len(safe.fps) > 170_000


# ----------------------------------------------------------------------------- item 6: ChemNet memory

def test_chemnet_activations_equal_fcd_torch_get_predictions():
    pytest.importorskip("fcd_torch")
    smiles = SMILES * 2
    got = M.chemnet_activations(smiles, batch_size=8)  # 3 batches, the last one short
    want = fcd_module._chemnet("cpu", 8).get_predictions(smiles)
    assert got.dtype == np.float32 and got.shape == (len(smiles), 512)
    np.testing.assert_array_equal(got, want)


def test_chemnet_activations_keep_no_batch_output_storage_alive(monkeypatch):
    """ChemNet's output is the last LSTM step, a view of the whole ``(batch, 88, 512)`` sequence;
    keeping each batch's ``.numpy()`` (as ``fcd_torch`` does) kept that storage for every batch
    (32 GB for the 176k-molecule MOSES test set). At most the current batch may be alive."""
    fcd_torch = pytest.importorskip("fcd_torch")
    import torch

    buffers = []
    alive_at_call = []

    class SequenceModel(torch.nn.Module):
        def forward(self, x):  # x (batch, 35, 350)
            alive_at_call.append(sum(r() is not None for r in buffers))
            seq = np.zeros((len(x), 88, 512), dtype=np.float32)
            seq[:, -1, :] = x.sum((1, 2))[:, None].numpy()
            buffers.append(weakref.ref(seq))
            return torch.from_numpy(seq)[:, -1]

    real = fcd_module._chemnet("cpu", 4)
    fake = fcd_torch.FCD.__new__(fcd_torch.FCD)
    fake.__dict__.update(real.__dict__, model=SequenceModel())
    monkeypatch.setattr(fcd_module, "_chemnet", lambda device, batch_size: fake)
    acts = M.chemnet_activations(SMILES * 2, batch_size=4)
    assert acts.shape == (20, 512)
    assert len(alive_at_call) == 5
    assert max(alive_at_call) <= 1, f"earlier batches' outputs were still alive: {alive_at_call}"


@pytest.mark.slow
def test_moses_metrics_with_references_equals_the_one_shot_fcd_torch_path():
    """Every metric of moses_metrics on small sets equals the values computed with fcd_torch's
    own FCD pipeline (precalc + distance), the path before the streaming fix."""
    pytest.importorskip("fcd_torch")
    gen = SMILES[:6] + ["CCCCO", "c1ccncc1", "CC(N)C(=O)O"]
    res = M.moses_metrics(gen, SMILES[5:], test=SMILES, test_scaffolds=SMILES[::-1], n_jobs=1)
    chemnet = fcd_module._chemnet("cpu", 512)
    canon = M.remove_invalid(gen)
    want = chemnet.metric(chemnet.precalc(SMILES), chemnet.precalc(canon))
    assert res["fcd/test"] == pytest.approx(float(want), rel=1e-9, abs=1e-9)


# ----------------------------------------------------------------------------- item 8: non-string entries

def test_non_string_generated_entry_is_a_clear_error_naming_its_index():
    with pytest.raises(DataValidationError) as err:
        M.moses_metrics([None, 3], ["CCO"])
    msg = str(err.value)
    assert msg.startswith("moses_metrics: generated[1]:") and "got 3 of type int" in msg
    assert "None" in msg and "Pass the SMILES as str" in msg


def test_none_in_generated_counts_as_an_invalid_molecule():
    with pytest.warns(UserWarning, match="unique@"):
        res = M.moses_metrics(["CCO", None, "CCN", None], ["CCO"])
    assert res["valid"] == pytest.approx(0.5)
    assert M.fraction_valid(["CCO", None]) == pytest.approx(0.5)
    assert M.remove_invalid(["CCO", None]) == ["CCO"]


@pytest.mark.parametrize("arg", ["train", "test", "test_scaffolds"])
@pytest.mark.parametrize("bad", [None, b"CCO", 3.5])
def test_non_string_in_train_or_reference_is_a_clear_error(arg, bad):
    kwargs = {"train": ["CCO", "CCN"]}
    kwargs[arg] = ["CCO", "CCN", bad]
    with pytest.raises(DataValidationError) as err:
        M.moses_metrics(["CCO", "CCN"], **kwargs)
    msg = str(err.value)
    assert msg.startswith(f"moses_metrics: {arg}[2]:") and f"of type {type(bad).__name__}" in msg
    assert "missing rows dropped" in msg


@pytest.mark.parametrize("arg", ["generated", "train", "test"])
def test_too_long_smiles_is_refused_before_rdkit_and_shown_cut(arg):
    long = "C" * 2500
    lists = {"generated": ["CCO", "CCN"], "train": ["CCO"], "test": ["CCO", "CCN"]}
    lists[arg] = lists[arg] + [long]
    with pytest.raises(DataValidationError) as err:
        M.moses_metrics(lists["generated"], lists["train"], test=lists["test"])
    msg = str(err.value)
    assert msg.startswith(f"moses_metrics: {arg}[{len(lists[arg]) - 1}]:") and "at most 2000 characters" in msg
    assert "(2500 characters)" in msg and long not in msg and len(msg) < 400


def test_individual_metrics_reject_non_strings_too():
    with pytest.raises(DataValidationError, match=r"fraction_valid: generated\[0\].*of type int"):
        M.fraction_valid([7])
    with pytest.raises(DataValidationError, match=r"canonical_set: smiles\[1\].*of type NoneType"):
        M.canonical_set(["CCO", None])
    with pytest.raises(DataValidationError, match=r"novelty: train\[0\]"):
        M.novelty(["CCO"], [1.0])


def test_rdkit_molecules_are_still_accepted():
    from rdkit import Chem

    assert M.fraction_valid([Chem.MolFromSmiles("CCO"), "CCN"]) == 1.0
