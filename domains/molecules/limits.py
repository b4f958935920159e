"""Input limits every molecule reader and metric applies before any RDKit call.

RDKit's SMILES parser and canonicaliser recurse over the string: a single line of 20,000 ``C``
segfaults ``Chem.MolToSmiles`` (exit 139, nothing printed) and 200,000 ``C`` runs for minutes.
No drug-like molecule comes close (MOSES's longest SMILES has 57 characters, ChEMBL's peptides a
few hundred), so a string longer than the limit is skipped and counted *by its length*, before
RDKit sees it.
"""
from __future__ import annotations

# Default of ``data.max_smiles_chars``: generous for peptides and macrocycles, far below where
# RDKit's recursion becomes a crash or a hang.
MAX_SMILES_CHARS = 2000
# A SMILES quoted in a message or warning is cut to this many characters.
SHOWN_SMILES_CHARS = 80


def shown_smiles(s: object) -> str:
    """``repr`` of a SMILES for a message: at most :data:`SHOWN_SMILES_CHARS` characters, then
    ``... (N characters)``."""
    if isinstance(s, str) and len(s) > SHOWN_SMILES_CHARS:
        return f"{s[:SHOWN_SMILES_CHARS]!r}... ({len(s)} characters)"
    return repr(s)


def parsable_length(s: object, max_chars: int = MAX_SMILES_CHARS) -> bool:
    """Whether ``s`` is a string short enough to hand to RDKit (at most ``max_chars`` characters)."""
    return isinstance(s, str) and len(s.strip()) <= max_chars


def check_smiles_length(s: object, where: str, max_chars: int = MAX_SMILES_CHARS) -> None:
    """Raise :class:`~vaekit.core.errors.DataValidationError` naming ``where`` when ``s`` is a
    string longer than ``max_chars`` (it would crash or hang RDKit)."""
    if isinstance(s, str) and len(s.strip()) > max_chars:
        from vaekit.core.errors import DataValidationError

        raise DataValidationError(f"{where}: a SMILES must have at most {max_chars} characters (RDKit crashes or "
                                  f"hangs on longer strings); got {shown_smiles(s)}. Pass a real molecule's SMILES "
                                  f"(check the input holds one SMILES per line).")
