"""SMILES <-> token lists, for sequence encoders and decoders.

Two tokenizers share one interface (``name``, ``tokenize(smiles) -> list[str]``,
``detokenize(tokens) -> smiles``):

* ``smiles`` (:class:`SmilesTokenizer`): the regular expression of Schwaller et al. (2019),
  "Molecular Transformer", ACS Cent. Sci. 5, 1572: bracket atoms (``[nH]``, ``[C@@H]``,
  ``[O-]``) are one token, ``Cl`` and ``Br`` are one token, ring-bond labels ``%10``..``%99``
  are one token, every other character (bonds, branches, ring digits, ``/``, ``\\``, the
  ``->``/``<-`` of RDKit's dative bonds) is its own token. Tokenising is lossless:
  ``"".join(tokenize(s)) == s``.
* ``selfies`` (:class:`SelfiesTokenizer`): SELFIES (Krenn et al. 2020, Mach. Learn.: Sci.
  Technol. 1, 045024) symbols from the ``selfies`` package; every token string decodes to a
  valid molecule, and ``detokenize`` returns a (non-canonical) SMILES.
"""
from __future__ import annotations

import re
from typing import Dict, List, Sequence

from vaekit.core.errors import ConfigError, DataValidationError, require

# Schwaller et al. 2019 (Molecular Transformer), SMI_REGEX_PATTERN, plus "<": RDKit's canonical
# SMILES write dative bonds as "->" / "<-", and the original pattern has ">" (for reactions)
# but not "<". Order matters: "Br?" and "Cl?" come before the single letters
# so "Cl" is one token, and "%[0-9]{2}" before the single digits so "%10" is one label.
SMILES_REGEX = (r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>|<|\*|\$|"
                r"\%[0-9]{2}|[0-9])")
_SMILES_RE = re.compile(SMILES_REGEX)


class Tokenizer:
    """Interface: ``name``, :meth:`tokenize`, :meth:`detokenize`."""

    name: str = ""

    def tokenize(self, smiles: str) -> List[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def detokenize(self, tokens: Sequence[str]) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class SmilesTokenizer(Tokenizer):
    """Regex SMILES tokenizer (Schwaller et al. 2019); lossless."""

    name = "smiles"

    def tokenize(self, smiles: str) -> List[str]:
        """Tokens of ``smiles`` whose concatenation is ``smiles``.

        Raises
        ------
        DataValidationError
            If a character is not covered by the regex (e.g. an element outside brackets that
            is not in SMILES' organic subset), naming the SMILES and the position.
        """
        tokens: List[str] = _SMILES_RE.findall(smiles)
        # The matches are ordered, non-overlapping substrings, so they cover the whole string
        # exactly when their concatenation equals it (the fast path for valid SMILES).
        if "".join(tokens) == smiles:
            return tokens
        pos = 0  # slow path: find the first position no match starts at, for the message
        for m in _SMILES_RE.finditer(smiles):
            if m.start() != pos:
                break
            pos = m.end()
        raise DataValidationError(
            f"SMILES {smiles!r}: the SMILES tokenizer (Schwaller et al. 2019 regex) cannot read position {pos} "
            f"(character {smiles[pos]!r}); only bracket atoms, the organic subset B C N O P S F Cl Br I, "
            f"aromatic b c n o s p, bonds, branches, ring digits and %NN are allowed. Put other elements in "
            f"brackets (e.g. [Se]) or drop the molecule.")

    def detokenize(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)


class SelfiesTokenizer(Tokenizer):
    """SMILES -> SELFIES symbols (``sf.encoder`` then ``sf.split_selfies``) and back."""

    name = "selfies"

    def __init__(self):
        self._sf = require("selfies", "molecules")

    def tokenize(self, smiles: str) -> List[str]:
        """SELFIES symbols of ``smiles`` (e.g. ``['[C]', '[=O]']``).

        Raises
        ------
        DataValidationError
            If ``selfies`` cannot encode the molecule (unparsable SMILES, or a valence above
            SELFIES' semantic constraints, e.g. pentavalent carbon).
        """
        try:
            encoded = self._sf.encoder(smiles)
        except self._sf.EncoderError as exc:
            first = str(exc).strip().splitlines()[0]
            raise DataValidationError(f"SMILES {smiles!r}: SELFIES cannot encode it ({first}). Drop the molecule or "
                                      f"use representation 'smiles'.") from exc
        if encoded is None:  # selfies < 2 returned None instead of raising
            raise DataValidationError(f"SMILES {smiles!r}: SELFIES cannot encode it. Drop the molecule or use "
                                      f"representation 'smiles'.")
        return list(self._sf.split_selfies(encoded))

    def detokenize(self, tokens: Sequence[str]) -> str:
        """SMILES of the SELFIES symbols ``tokens`` (not canonical; canonicalise with RDKit if needed)."""
        try:
            return self._sf.decoder("".join(tokens))
        except self._sf.DecoderError as exc:
            first = str(exc).strip().splitlines()[0]
            raise DataValidationError(f"SELFIES {''.join(tokens)!r}: cannot be decoded ({first}). "
                                      f"Only SELFIES symbols such as '[C]' or '[=O]' decode.") from exc


_TOKENIZERS: Dict[str, type] = {"smiles": SmilesTokenizer, "selfies": SelfiesTokenizer}


def get_tokenizer(name: str) -> Tokenizer:
    """The tokenizer called ``name`` (``"smiles"`` or ``"selfies"``)."""
    if name not in _TOKENIZERS:
        from vaekit.core.registry import did_you_mean

        raise ConfigError(f"tokenizer: unknown name {name!r}; valid: {', '.join(_TOKENIZERS)}."
                          f"{did_you_mean(str(name), list(_TOKENIZERS))}")
    return _TOKENIZERS[name]()


__all__ = ["SMILES_REGEX", "Tokenizer", "SmilesTokenizer", "SelfiesTokenizer", "get_tokenizer"]
