"""Molecule data: readers, cleaning with counted skips, splits, standardisation, batches, decoding."""
from __future__ import annotations

import gzip
import json
import re
import warnings

import numpy as np
import pytest

pytest.importorskip("rdkit")
pytest.importorskip("pandas")
pytest.importorskip("selfies")
pytest.importorskip("torch_geometric")

import pandas as pd  # noqa: E402
import torch  # noqa: E402
from rdkit import Chem  # noqa: E402
from rdkit.Chem.Scaffolds import MurckoScaffold  # noqa: E402
from torch_geometric.data import Batch as GraphBatch  # noqa: E402

from vaekit.core.config import from_dict  # noqa: E402
from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.core.types import Batch, DataInfo  # noqa: E402
from vaekit.domains.molecules.datasets import decode_tokens  # noqa: E402
from vaekit.domains.molecules.io import read_molecule_file  # noqa: E402
from vaekit.domains.molecules.loading import MoleculesDataConfig, default_data_path, load_molecules  # noqa: E402
from vaekit.domains.molecules.splits import scaffold_split  # noqa: E402
from vaekit.domains.molecules.graphs import feature_cardinalities, mol_to_graph, smiles_to_graph  # noqa: E402
from vaekit.domains.molecules.properties import smiles_properties  # noqa: E402

RINGS = ["c1ccccc1", "C1CCCCC1", "c1ccncc1", "C1CCNCC1", "c1ccc2ccccc2c1", "c1ccoc1", "C1CCOC1", "c1ccsc1",
         "C1CCC(=O)C1", "c1cn[nH]c1"]
SUBS = ["C", "O", "N", "Cl", "CC", "OC", "NC(=O)", "FC(F)(F)"]
MOLS = [s + r for r in RINGS for s in SUBS]  # 80 molecules, 10 scaffolds
CANON = [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in MOLS]


def _cfg(path, **kw):
    kw.setdefault("val_fraction", 0.2)
    kw.setdefault("test_fraction", 0.2)
    return MoleculesDataConfig(path=str(path), **kw)


def _quiet_load(cfg, seed=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_molecules(cfg, seed)


def _all_smiles(bundle):
    return bundle.train.smiles + bundle.val.smiles + bundle.test.smiles


@pytest.fixture
def smi_file(tmp_path):
    p = tmp_path / "mols.smi"
    p.write_text("".join(f"{s}\tid{i}\n" for i, s in enumerate(MOLS)))
    return p


# ---------------------------------------------------------------- readers
def test_smi_with_ids(smi_file):
    t = read_molecule_file(smi_file)
    assert list(t.smiles) == MOLS and t.columns["name"][3] == "id3" and t.rows[0] == 1
    b = load_molecules(_cfg(smi_file))
    assert sorted(_all_smiles(b)) == sorted(CANON)


def test_smi_without_ids_with_header_and_blank_lines(tmp_path):
    p = tmp_path / "mols.txt"
    p.write_text("SMILES\n" + "\n".join(MOLS[:10]) + "\n\n" + "\n".join(MOLS[10:]) + "\n")
    t = read_molecule_file(p)
    assert list(t.smiles) == MOLS and "name" not in t.columns
    assert t.rows[0] == 2 and t.rows[10] == 13  # line numbers (header on 1, blank line 12)


def test_csv_with_custom_column_and_csv_gz(tmp_path):
    df = pd.DataFrame({"id": range(len(MOLS)), "structure": MOLS, "act": np.arange(len(MOLS)) * 0.5})
    df.to_csv(tmp_path / "m.csv", index=False)
    b = load_molecules(_cfg(tmp_path / "m.csv", smiles_column="structure", properties=("act",)))
    assert sorted(_all_smiles(b)) == sorted(CANON)
    by_smiles = dict(zip(CANON, df["act"]))
    assert all(by_smiles[s] == v for s, v in zip(b.train.smiles, b.train.y_raw[:, 0]))
    # auto-detected column, any case, gzipped
    df.rename(columns={"structure": "SMILES"}).to_csv(tmp_path / "m.csv.gz", index=False, compression="gzip")
    b2 = load_molecules(_cfg(tmp_path / "m.csv.gz"))
    assert sorted(_all_smiles(b2)) == sorted(CANON)


def test_tsv(tmp_path):
    pd.DataFrame({"Smiles": MOLS}).to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    assert list(read_molecule_file(tmp_path / "m.tsv").smiles) == MOLS


def _write_sdf(path, smiles, with_prop=True):
    handle = gzip.open(path, "wt") if str(path).endswith(".gz") else open(path, "w")
    with handle:
        w = Chem.SDWriter(handle)
        for i, s in enumerate(smiles):
            m = Chem.MolFromSmiles(s)
            m.SetProp("_Name", f"mol{i}")
            if with_prop:
                m.SetProp("pIC50", str(5 + i / 10))
                m.SetProp("label", "active" if i % 2 else "inactive")
            w.write(m)
        w.close()


@pytest.mark.parametrize("name", ["m.sdf", "m.sdf.gz"])
def test_sdf_with_properties_as_columns(tmp_path, name):
    _write_sdf(tmp_path / name, MOLS)
    t = read_molecule_file(tmp_path / name)
    assert t.unit == "record" and t.columns["name"][2] == "mol2"
    assert [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in t.smiles] == CANON
    b = load_molecules(_cfg(tmp_path / name, properties=("pIC50",), condition=("logp",)))
    raw = dict(zip(CANON, 5 + np.arange(len(MOLS)) / 10))
    assert np.allclose(b.train.y_raw[:, 0], [raw[s] for s in b.train.smiles])
    with pytest.raises(DataValidationError, match=r"column 'label' \(data.properties\) must be numeric; got "
                                                  r"'inactive' at record 1"):
        load_molecules(_cfg(tmp_path / name, properties=("label",)))


# ---------------------------------------------------------------- skipped rows and errors
def test_invalid_rows_are_skipped_with_a_count_and_a_warning(tmp_path):
    p = tmp_path / "bad.smi"
    lines = MOLS[:30] + ["C1CC", "not_a_smiles"] + MOLS[30:] + ["c1cccc1"]
    p.write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning) as rec:
        b = load_molecules(_cfg(p))
    msgs = [str(w.message) for w in rec if "unparsable" in str(w.message)]
    assert len(msgs) == 1
    assert "skipped 3 of 83 molecules (unparsable SMILES)" in msgs[0]
    assert "line 31 'C1CC'" in msgs[0] and "line 32 'not_a_smiles'" in msgs[0] and str(p) in msgs[0]
    assert len(_all_smiles(b)) == 80


def test_too_long_molecules_are_skipped_with_a_warning(tmp_path):
    p = tmp_path / "m.smi"
    p.write_text("\n".join(MOLS + ["C" * 50]) + "\n")
    with pytest.warns(UserWarning, match=r"skipped 1 of 81 molecules \(longer than max_len=25 .*line 81"):
        b = load_molecules(_cfg(p, max_len=25))
    assert max(len(s) for s in b.train.seqs) <= 25 and len(_all_smiles(b)) == 80


def test_empty_file(tmp_path):
    for name in ("e.smi", "e.csv"):
        (tmp_path / name).write_text("")
        with pytest.raises(DataValidationError, match=r"e\.(smi|csv).*empty"):
            load_molecules(_cfg(tmp_path / name))
    (tmp_path / "h.csv").write_text("smiles,x\n")
    with pytest.raises(DataValidationError, match="no molecules"):
        load_molecules(_cfg(tmp_path / "h.csv"))


def test_missing_file(tmp_path):
    with pytest.raises(DataValidationError, match=r"data.path .*nope.smi.*file not found.*Fix the path"):
        load_molecules(_cfg(tmp_path / "nope.smi"))
    # every file is checked before the (slower) reading starts
    with pytest.raises(DataValidationError, match=r"data.test_path .*gone.csv.*file not found"):
        load_molecules(MoleculesDataConfig(path=None, test_path=str(tmp_path / "gone.csv")))


def test_missing_column_lists_the_columns(tmp_path):
    pd.DataFrame({"mol": MOLS, "y": 1.0}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(DataValidationError, match=r"no SMILES column.*\['mol', 'y'\].*data.smiles_column"):
        load_molecules(_cfg(tmp_path / "m.csv"))
    with pytest.raises(DataValidationError, match=r"no column 'smi' .*\['mol', 'y'\]"):
        load_molecules(_cfg(tmp_path / "m.csv", smiles_column="smi"))


def test_unknown_or_non_numeric_property(tmp_path):
    df = pd.DataFrame({"smiles": MOLS, "tag": ["x"] * len(MOLS)})
    df.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(DataValidationError, match=r"column 'tag' \(data.condition\) must be numeric; got 'x' at row 1"):
        load_molecules(_cfg(tmp_path / "m.csv", condition=("tag",)))
    with pytest.raises(DataValidationError, match=r"'potency' is neither a computed property .*columns: \['tag'\]"):
        load_molecules(_cfg(tmp_path / "m.csv", properties=("potency",)))


def test_all_invalid_input(tmp_path):
    (tmp_path / "bad.smi").write_text("C1CC\nxyz\n")
    with pytest.warns(UserWarning), pytest.raises(DataValidationError, match=r"no valid molecules: all 2"):
        load_molecules(_cfg(tmp_path / "bad.smi"))


def test_config_validation_and_strict_parsing():
    cfg = from_dict(MoleculesDataConfig, {"properties": ["logp"], "representation": "graph"}, "data")
    assert cfg.properties == ("logp",)
    with pytest.raises(ConfigError, match="data.representation: must be one of"):
        from_dict(MoleculesDataConfig, {"representation": "smile"}, "data")
    with pytest.raises(ConfigError, match=r"data.val_fraction \+ data.test_fraction: must be < 1"):
        MoleculesDataConfig(val_fraction=0.5, test_fraction=0.5).validate()
    with pytest.raises(ConfigError, match=r"data.max_len: must be an integer >= 2"):
        MoleculesDataConfig(max_len=1).validate()
    with pytest.raises(ConfigError, match=r"data.condition: names must be unique"):
        MoleculesDataConfig(condition=("logp", "logp")).validate()
    with pytest.raises(ConfigError, match="isomeric"):
        MoleculesDataConfig(canonicalize=False, isomeric=False).validate()
    with pytest.raises(ConfigError, match="unknown key"):
        from_dict(MoleculesDataConfig, {"max_length": 10}, "data")


# ---------------------------------------------------------------- splits
@pytest.mark.filterwarnings("ignore:.*training vocabulary")
def test_scaffold_split_keeps_each_scaffold_in_one_split(smi_file):
    b = load_molecules(_cfg(smi_file, split="scaffold"), seed=3)

    def scaffolds(ds):
        return {MurckoScaffold.MurckoScaffoldSmiles(smiles=s) for s in ds.smiles}

    tr, va, te = scaffolds(b.train), scaffolds(b.val), scaffolds(b.test)
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert len(va) and len(te)
    again = load_molecules(_cfg(smi_file, split="scaffold"), seed=3)
    assert again.test.smiles == b.test.smiles  # deterministic given the seed


def test_scaffold_split_balanced_puts_big_groups_in_train():
    scaf = ["big"] * 50 + [f"s{i}" for i in range(50)]
    tr, va, te = scaffold_split(scaf, 20, 20, np.random.default_rng(0))
    assert set(range(50)) <= set(tr.tolist())
    assert len(va) == 20 and len(te) == 20 and len(tr) == 60


def test_random_split_seeded_and_disjoint(smi_file):
    a, b = load_molecules(_cfg(smi_file), seed=1), load_molecules(_cfg(smi_file), seed=2)
    assert len(a.train) == 48 and len(a.val) == 16 and len(a.test) == 16
    assert not set(a.train.smiles) & set(a.test.smiles)
    assert a.test.smiles != b.test.smiles
    assert load_molecules(_cfg(smi_file, data_seed=7), seed=1).test.smiles == \
        load_molecules(_cfg(smi_file, data_seed=7), seed=2).test.smiles


@pytest.mark.filterwarnings("ignore:.*training vocabulary")
def test_explicit_split_files_and_max_molecules(tmp_path, smi_file):
    (tmp_path / "test.smi").write_text("\n".join(MOLS[:5] + ["CCCCBr"]) + "\n")
    b = load_molecules(_cfg(smi_file, test_path=str(tmp_path / "test.smi"), max_molecules=50))
    assert len(b.train) + len(b.val) == 50 and len(b.val) == 10
    assert b.test.smiles[-1] == "CCCCBr"
    both = load_molecules(_cfg(smi_file, val_path=str(tmp_path / "test.smi"), test_path=str(tmp_path / "test.smi")))
    assert len(both.train) == 80 and len(both.val) == 6


def test_val_tokens_missing_from_the_training_vocabulary_warn(tmp_path, smi_file):
    (tmp_path / "val.smi").write_text("C[Se]C\nCCO\n")
    with pytest.warns(UserWarning, match=r"1 tokens in 1 of 2 val molecules .*<unk> \(e.g. \['\[Se\]'\]\)"):
        b = load_molecules(_cfg(smi_file, val_path=str(tmp_path / "val.smi")))
    assert b.info.unk_id in b.val.seqs[0].tolist()


# ---------------------------------------------------------------- properties and conditions
def test_properties_and_conditions_standardised_with_train_statistics(smi_file):
    b = load_molecules(_cfg(smi_file, properties=("logp", "mw"), condition=("qed",)))
    info = b.info
    assert info.y_dim == 2 and info.cond_dim == 1
    mean, std = np.asarray(info.extra["properties"]["mean"]), np.asarray(info.extra["properties"]["std"])
    assert np.allclose(mean, b.train.y_raw.mean(0)) and np.allclose(std, b.train.y_raw.std(0))
    assert np.allclose(b.train.y.numpy().mean(0), 0, atol=1e-5)
    # val is standardised with the *train* statistics, not its own
    assert np.allclose(b.val.y.numpy(), (b.val.y_raw - mean) / std, atol=1e-5)
    assert not np.allclose(b.val.y.numpy().mean(0), 0, atol=1e-3)
    assert np.allclose(b.val.y_raw, smiles_properties(b.val.smiles, ["logp", "mw"]))
    cm, cs = info.extra["condition"]["mean"][0], info.extra["condition"]["std"][0]
    assert np.allclose(b.test.cond.numpy()[:, 0], (b.test.cond_raw[:, 0] - cm) / cs, atol=1e-5)
    batch = b.collate([b.val[i] for i in range(5)])
    assert batch.y.shape == (5, 2) and batch.cond.shape == (5, 1) and batch.y.dtype == torch.float32


def test_missing_property_values_stay_nan_but_missing_conditions_are_skipped(tmp_path):
    vals = [float(i) for i in range(len(MOLS))]
    vals[3] = np.nan
    pd.DataFrame({"smiles": MOLS, "act": vals}).to_csv(tmp_path / "m.csv", index=False)
    b = load_molecules(_cfg(tmp_path / "m.csv", properties=("act",)))
    assert np.isnan(np.concatenate([b.train.y_raw, b.val.y_raw, b.test.y_raw])).sum() == 1
    with pytest.warns(UserWarning, match=r"skipped 1 of 80 molecules \(missing condition value \(act\)\): row 4"):
        b = load_molecules(_cfg(tmp_path / "m.csv", condition=("act",)))
    assert len(_all_smiles(b)) == 79


# ---------------------------------------------------------------- batches and graphs
def test_sequence_batches_end_with_eos_and_info_is_json(smi_file):
    b = load_molecules(_cfg(smi_file))
    batch = b.collate([b.train[i] for i in range(6)])
    assert isinstance(batch, Batch) and batch.x.dtype == torch.long and batch.mask.shape == batch.x.shape
    lengths = batch.mask.sum(1)
    assert (batch.x[torch.arange(6), lengths - 1] == b.info.eos_id).all()
    assert (batch.x[:, 0] != b.info.bos_id).all()  # the decoder prepends <bos> itself
    assert batch.inputs is None and batch.encoder_input is batch.x
    info = DataInfo.from_dict(json.loads(json.dumps(b.info.to_dict())))
    assert info.kind == "sequence" and info.likelihood == "categorical" and info.shape == (100,)
    assert info.extra["vocab"][:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert info.vocab_size == len(info.extra["vocab"])


def test_graph_batches(smi_file):
    b = load_molecules(_cfg(smi_file, representation="graph", properties=("logp",)))
    assert b.info.extra["graph"] == feature_cardinalities()
    items = [b.train[i] for i in range(7)]
    batch = b.collate(items)
    g = batch.inputs
    assert g.num_graphs == 7 == batch.x.shape[0]
    n_atoms = [Chem.MolFromSmiles(s).GetNumAtoms() for s in b.train.smiles[:7]]
    assert g.x.shape == (sum(n_atoms), 9) and g.edge_attr.shape == (g.edge_index.shape[1], 3)
    assert g.batch.bincount().tolist() == n_atoms
    card = torch.tensor(b.info.extra["graph"]["atom_cardinalities"])
    assert (g.x >= 0).all() and (g.x < card).all()
    # the decoder target is still the SMILES tokens
    assert decode_tokens(batch.x, b.info) == b.train.smiles[:7]
    part = batch.slice(slice(2, 5))
    # (core re-batches with type(inputs).from_data_list, which PyG names "DataDataBatch": still a PyG Batch)
    assert isinstance(part.inputs, GraphBatch) and part.inputs.num_graphs == 3 == len(part)
    assert torch.equal(part.inputs.batch, torch.repeat_interleave(torch.arange(3), torch.tensor(n_atoms[2:5])))
    assert part.inputs.x.shape[0] == sum(n_atoms[2:5]) and torch.equal(part.y, batch.y[2:5])
    moved = batch.to("cpu")
    assert moved.inputs.num_graphs == 7
    # graphs are precomputed once per dataset, not per batch
    assert b.train[0][4] is b.train[0][4]


def test_graph_features_match_pyg_from_rdmol():
    from torch_geometric.utils import from_rdmol

    for s in CANON[::7] + ["C[C@@H](N)C(=O)[O-]", "F/C=C/F", "[Na+].[Cl-]", "C"]:
        mine, ref = smiles_to_graph(s), from_rdmol(Chem.MolFromSmiles(s))
        for key in ("x", "edge_index", "edge_attr"):
            assert torch.equal(mine[key], ref[key]), (s, key)
    with pytest.raises(DataValidationError, match="cannot parse"):
        smiles_to_graph("C1CC")
    # a value outside PyG's categories is an error naming the atom, not a bare ValueError
    with pytest.raises(DataValidationError, match=r"formal_charge must be in \[-5, 6\]; got 7"):
        mol_to_graph(Chem.MolFromSmiles("[C+7]", sanitize=False))


# ---------------------------------------------------------------- decoding and the default data
@pytest.mark.parametrize("rep", ["smiles", "selfies"])
def test_decode_tokens_round_trip(smi_file, rep):
    b = load_molecules(_cfg(smi_file, representation=rep, split="scaffold"))
    batch = b.collate([b.train[i] for i in range(len(b.train))])
    out = decode_tokens(batch.x, b.info)
    if rep == "smiles":
        assert out == b.train.smiles
    else:
        assert [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in out] == b.train.smiles
    assert decode_tokens([[b.info.bos_id, b.info.unk_id, b.info.eos_id]], b.info) == (["<unk>"] if rep == "smiles"
                                                                                        else [""])


def test_isomeric_false_removes_stereo(tmp_path):
    (tmp_path / "s.smi").write_text("\n".join(["C[C@@H](N)C(=O)O", "F/C=C/F"] * 10) + "\n")
    b = load_molecules(_cfg(tmp_path / "s.smi", isomeric=False))
    assert not any(c in s for s in _all_smiles(b) for c in "@/\\")
    assert b.info.extra["isomeric"] is False and b.info.extra["canonicalize"] is True


def test_default_data_is_rdkit_nci_first_5k():
    path = default_data_path()
    n_lines = sum(1 for line in path.read_text().splitlines() if line.strip())
    with pytest.warns(UserWarning) as rec:
        b = load_molecules(MoleculesDataConfig(), seed=0)
    skipped = sum(int(m.group(1)) for w in rec for m in [re.search(r"skipped (\d+) of", str(w.message))] if m)
    n = len(b.train) + len(b.val) + len(b.test)
    assert n_lines == 4999 and 0 < skipped < 50  # the file holds 4999 molecules (not 5000)
    assert n == n_lines - skipped and b.info.n_train == len(b.train)
    assert decode_tokens(b.collate([b.train[i] for i in range(200)]).x, b.info) == b.train.smiles[:200]


@pytest.mark.filterwarnings("ignore:.*training vocabulary")
def test_worker_processes_give_the_same_data(smi_file, monkeypatch):
    import vaekit.domains.molecules.cleaning as cleaning

    monkeypatch.setattr(cleaning, "_MIN_ROWS_FOR_POOL", 0)  # use the pool even for this small file
    (smi_file.parent / "more.smi").write_text("\n".join(MOLS + ["C1CC", "C" * 120]) + "\n")
    cfg = dict(path=str(smi_file.parent / "more.smi"), representation="graph", properties=("logp",), split="scaffold",
               val_fraction=0.2, test_fraction=0.2)
    with pytest.warns(UserWarning) as rec_a:
        a = load_molecules(MoleculesDataConfig(**cfg), seed=0)
    with pytest.warns(UserWarning) as rec_b:
        b = load_molecules(MoleculesDataConfig(num_workers=2, **cfg), seed=0)
    assert [str(w.message) for w in rec_a] == [str(w.message) for w in rec_b]
    assert a.train.smiles == b.train.smiles and a.test.smiles == b.test.smiles and len(a.train) > 40
    assert a.info.to_dict() == b.info.to_dict()
    assert all(torch.equal(g.x, h.x) and torch.equal(g.edge_index, h.edge_index)
               for g, h in zip(a.train.graphs, b.train.graphs))
    assert np.array_equal(a.val.y_raw, b.val.y_raw)
