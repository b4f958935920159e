"""Deprecated module path: the molecule data code now lives in :mod:`.io` (file readers),
:mod:`.cleaning` (parse, canonicalise, tokenise, featurise), :mod:`.splits` (random and scaffold
splits), :mod:`.datasets` (datasets, collate, :func:`decode_tokens`) and :mod:`.loading` (the
``data`` section and :func:`load_molecules`). These re-exports keep
``vaekit.domains.molecules.data`` importable while the other modules move to the new homes;
they are to be removed.
"""
from .datasets import MoleculeCollate, MoleculeDataset, decode_tokens
from .io import MoleculeTable, read_molecule_file
from .loading import DEFAULT_DATA, MoleculesDataConfig, default_data_path, load_molecules
from .splits import random_split, scaffold_split

__all__ = ["MoleculesDataConfig", "MoleculeTable", "MoleculeDataset", "MoleculeCollate", "read_molecule_file",
           "load_molecules", "decode_tokens", "random_split", "scaffold_split", "default_data_path", "DEFAULT_DATA"]
