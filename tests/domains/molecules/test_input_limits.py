"""Issue 19 items 3 and 7: hostile molecule files end in a counted skip or one clear error.

A SMILES of tens of thousands of characters crashes RDKit (segfault) or hangs it, so it must be
rejected by its length before any RDKit call; a file that is not UTF-8 text is an error naming
the line, not a ``UnicodeDecodeError`` traceback.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import pytest

pytest.importorskip("rdkit")
pytest.importorskip("pandas")

from rdkit import Chem  # noqa: E402

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.domains.molecules.io import read_molecule_file  # noqa: E402
from vaekit.domains.molecules.loading import MoleculesDataConfig, load_molecules  # noqa: E402
from vaekit.domains.molecules.properties import smiles_properties  # noqa: E402

RINGS = ["c1ccccc1", "C1CCCCC1", "c1ccncc1", "C1CCNCC1", "c1ccoc1", "C1CCOC1", "c1ccsc1", "c1cn[nH]c1"]
MOLS = [s + r for r in RINGS for s in ["C", "O", "N", "CC", "OC", "NC(=O)"]]  # 48 molecules


def _cfg(path, **kw):
    return MoleculesDataConfig(path=str(path), val_fraction=0.2, test_fraction=0.2, **kw)


def test_long_smiles_never_reaches_rdkit_and_is_counted(tmp_path, monkeypatch):
    p = tmp_path / "m.smi"
    p.write_text("\n".join(MOLS[:20] + ["C" * 5000] + MOLS[20:]) + "\n")
    real = Chem.MolFromSmiles
    seen = []

    def guarded(s, *a, **k):  # RDKit must never be handed the long string
        seen.append(len(s))
        assert len(s) <= 2000, f"RDKit got a {len(s)}-character SMILES"
        return real(s, *a, **k)

    monkeypatch.setattr(Chem, "MolFromSmiles", guarded)
    with pytest.warns(UserWarning) as rec:
        b = load_molecules(_cfg(p))
    msg = next(str(w.message) for w in rec if "max_smiles_chars" in str(w.message))
    assert "skipped 1 of 49 molecules (longer than max_smiles_chars=2000 characters)" in msg
    assert "line 21" in msg and "(5000 characters)" in msg and "data.max_smiles_chars" in msg
    assert "C" * 81 not in msg  # the SMILES is shown by its first 80 characters only
    assert len(b.train.smiles) + len(b.val.smiles) + len(b.test.smiles) == 48 and max(seen) < 100


def test_max_smiles_chars_is_a_checked_config_key(tmp_path):
    p = tmp_path / "m.smi"
    p.write_text("\n".join(MOLS) + "\n")
    with pytest.warns(UserWarning, match=r"skipped \d+ of 48 molecules \(longer than max_smiles_chars=12"):
        load_molecules(_cfg(p, max_smiles_chars=12))
    for bad in (0, 20_000, "2000", True):
        with pytest.raises(ConfigError, match=r"data\.max_smiles_chars: must be an integer in \[1, 10000\]"):
            MoleculesDataConfig(max_smiles_chars=bad).validate()


@pytest.mark.parametrize("n", [20_000])
def test_20000_character_smiles_file_loads_in_a_subprocess(tmp_path, n):
    # Before the fix this process died with SIGSEGV inside RDKit's canonicalisation.
    p = tmp_path / "m.smi"
    p.write_text("\n".join(MOLS + ["C" * n]) + "\n")
    code = textwrap.dedent(f"""
        import warnings
        from vaekit.domains.molecules.loading import MoleculesDataConfig, load_molecules
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            b = load_molecules(MoleculesDataConfig(path={str(p)!r}, val_fraction=0.2, test_fraction=0.2))
        print(len(b.train.smiles) + len(b.val.smiles) + len(b.test.smiles))
        print(any("max_smiles_chars" in str(x.message) for x in w))
    """)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    assert r.stdout.split() == ["48", "True"]


def test_api_entry_points_reject_or_invalidate_long_smiles():
    from vaekit.domains.molecules.graphs import smiles_to_graph

    with pytest.raises(DataValidationError, match=r"SMILES: a SMILES must have at most 2000 characters .*"
                                                  r"\(30000 characters\)"):
        smiles_to_graph("C" * 30_000)
    rows = smiles_properties(["CCO", "C" * 30_000])
    assert not any(v != v for v in rows[0]) and all(v != v for v in rows[1])  # the long one is a NaN row


def test_random_bytes_smi_is_one_clear_error(tmp_path):
    p = tmp_path / "noise.smi"
    p.write_bytes(b"CCO\nc1ccccc1\n" + bytes(range(128, 256)) * 4 + b"\nCCN\n")
    with pytest.raises(DataValidationError) as e:
        read_molecule_file(p)
    msg = str(e.value)
    assert f"{p}, line 3: the file must be UTF-8 text" in msg
    assert "undecodable byte 0x80 at byte offset 13" in msg and "UTF-8" in msg


def test_corrupt_gz_smi_is_one_clear_error(tmp_path):
    p = tmp_path / "m.smi.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(64))
    with pytest.raises(DataValidationError, match=r"m\.smi\.gz, line 1: the file must be readable gzip-compressed"):
        read_molecule_file(p)


def test_latin1_smi_names_are_reported_not_garbled(tmp_path):
    p = tmp_path / "m.smi"
    p.write_bytes("CCO\tethanol\nCCN\tamin\xe9\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"line 2: the file must be UTF-8 text; got 'undecodable byte 0xe9"):
        read_molecule_file(p)
    p.write_bytes("\ufeffCCO\tethanol\n".encode("utf-8"))  # a UTF-8 BOM is not part of the first SMILES
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert list(read_molecule_file(p).smiles) == ["CCO"]
