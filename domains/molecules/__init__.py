"""vaekit.domains.molecules: design drug-like molecules with SMILES/SELFIES and graph VAEs.

* data: :mod:`.io` (SMILES/CSV/SDF readers), :mod:`.cleaning` (parse, canonicalise, tokenise),
  :mod:`.tokenizers`, :mod:`.graphs` (PyG graphs), :mod:`.splits` (random, scaffold),
  :mod:`.datasets` (datasets, collate, decoding) and :mod:`.loading` (the ``data`` section);
* models: core's GRU VAE on tokens, the ``graph`` encoder (:mod:`.models`), property-
  conditional cVAEs and a property head on the latent (configs ``molecules:*``);
* metrics: :func:`moses_metrics` (the :mod:`.moses` subpackage: MOSES, natively on RDKit) and the run metrics
  (:mod:`.evaluation`);
* design tools: :mod:`.design` (sample, targets, interpolate, neighbourhood, optimise, grids).

Names are imported lazily so that ``import vaekit.domains.molecules`` stays cheap.
"""
from __future__ import annotations

from ..lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "moses_metrics": ".moses",
    "load_molecules": ".loading",
    "MoleculesDataConfig": ".loading",
    "decode_tokens": ".datasets",
    "read_molecule_file": ".io",
    "scaffold_split": ".splits",
    "get_tokenizer": ".tokenizers",
    "smiles_to_graph": ".graphs",
    "compute_properties": ".properties",
    "smiles_properties": ".properties",
    "design": None,
    "moses": None,
})
