"""SMILES regex and SELFIES tokenizers: lossless round trips on tricky SMILES, clear errors."""
from __future__ import annotations

import pytest

pytest.importorskip("rdkit")
pytest.importorskip("selfies")

from rdkit import Chem  # noqa: E402

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.domains.molecules.tokenizers import SelfiesTokenizer, SmilesTokenizer, get_tokenizer  # noqa: E402

TRICKY = [
    "ClC(Br)CBr",                         # two-letter atoms
    "CCl",
    "c1cc[nH]c1",                         # bracket aromatic atom
    "C[C@@H](N)C(=O)[O-]",                # chirality, charge
    "C[C@H](O)c1ccccc1",
    "F/C=C/F", "F/C=C\\Cl",               # stereo bonds
    "C[N+](C)(C)C", "[Na+].[Cl-]",       # charges, dot
    "C12CC3CC4CC5CC6CC7CC8CC9CC%10CC%11C1C2C3C4C5C6C7C8C9%10%11",  # %10 ring labels
    "[2H]C([2H])([2H])O", "[Se]1C=CC=C1", "N#Cc1ccccc1", "O=S(=O)(O)O", "*C",
]


@pytest.mark.parametrize("smi", TRICKY)
def test_smiles_tokenizer_is_lossless(smi):
    toks = SmilesTokenizer().tokenize(smi)
    assert "".join(toks) == smi
    assert SmilesTokenizer().detokenize(toks) == smi


def test_smiles_tokens_are_chemically_meaningful():
    tok = SmilesTokenizer().tokenize
    assert tok("ClCBr") == ["Cl", "C", "Br"]
    assert tok("c1cc[nH]c1") == ["c", "1", "c", "c", "[nH]", "c", "1"]
    assert tok("C[C@@H](N)C(=O)[O-]") == ["C", "[C@@H]", "(", "N", ")", "C", "(", "=", "O", ")", "[O-]"]
    assert tok("C%10CC%10") == ["C", "%10", "C", "C", "%10"]
    assert tok("F/C=C\\F") == ["F", "/", "C", "=", "C", "\\", "F"]
    # "Cl" is chlorine, never C followed by l; an aromatic "c" followed by "l" does not exist
    assert tok("CCl") == ["C", "Cl"]


def test_smiles_tokenizer_names_the_uncovered_position():
    with pytest.raises(DataValidationError, match=r"'CCXC'.*position 2 \(character 'X'\)"):
        SmilesTokenizer().tokenize("CCXC")


def test_rdkit_dative_bonds_tokenise():
    smi = Chem.MolToSmiles(Chem.MolFromSmiles("[NH3]->[Fe+2]<-[NH3]"))
    assert "".join(SmilesTokenizer().tokenize(smi)) == smi


def _canon(s):
    return Chem.MolToSmiles(Chem.MolFromSmiles(s))


@pytest.mark.parametrize("smi", ["c1cc[nH]c1", "C[C@@H](N)C(=O)[O-]", "F/C=C/F", "ClC(Br)CBr",
                                 "C1CCC2CC3CCC4CC5CCC6CC7CCC8CC9CCC%10CCC1C2C3C4C5C6C7C8C9%10"])
def test_selfies_round_trip_gives_the_same_canonical_smiles(smi):
    t = SelfiesTokenizer()
    toks = t.tokenize(smi)
    assert all(x.startswith("[") and x.endswith("]") for x in toks)
    assert _canon(t.detokenize(toks)) == _canon(smi)


def test_selfies_errors_are_data_validation_errors():
    with pytest.raises(DataValidationError, match="SELFIES cannot encode it"):
        SelfiesTokenizer().tokenize("C(C)(C)(C)(C)C")  # pentavalent carbon
    with pytest.raises(DataValidationError, match="cannot be decoded"):
        SelfiesTokenizer().detokenize(["[C]", "<unk>"])


def test_get_tokenizer():
    assert get_tokenizer("smiles").name == "smiles"
    assert get_tokenizer("selfies").name == "selfies"
    with pytest.raises(ConfigError, match="Did you mean 'smiles'"):
        get_tokenizer("smile")
