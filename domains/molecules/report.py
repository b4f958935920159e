"""The molecules domain's view in the run report (``report.html``).

Two sections, both built from the samples the evaluation already drew:

* **Generated molecules**: the MOSES sample-quality numbers (validity, uniqueness, novelty),
  a grid of the first valid prior samples drawn by RDKit with their QED, logP and SA, and a
  table of the same molecules with every property of :mod:`.properties`;
* **Property distributions**: histograms of QED, logP, SA and MW of the valid generated
  molecules against the evaluated split, beside the Wasserstein-1 distances MOSES reports.

The samples are the ones :class:`~.evaluation.MosesSampleMetrics` scored (the context's
``"generated_smiles"`` cache), so the pictures show exactly the molecules behind the numbers
and the report costs no extra decoding.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..base import EvalContext
from ..report_parts import Section, figure, figures_or_note, paragraph, plotting, png_image, table
from .properties import compute_properties

#: Molecules drawn in the grid (and listed in its table).
GRID_MOLECULES = 24
GRID_PER_ROW = 6
GRID_CELL = 200
#: Molecules of the evaluated split whose properties are histogrammed: enough for a smooth
#: histogram, few enough that a 176k-molecule MOSES test set costs seconds, not minutes.
REFERENCE_MOLECULES = 2000
#: Invalid decodes quoted in the text, so a reader sees how the decoder fails, each cut to
#: ``INVALID_CHARS`` characters (an untrained decoder emits strings as long as ``max_len``).
INVALID_EXAMPLES = 3
INVALID_CHARS = 40

# The sample-quality numbers of MosesSampleMetrics shown beside the grid: (key, meaning).
_QUALITY = [
    ("valid", "fraction of samples RDKit parses and sanitises"),
    ("unique@1000", "distinct fraction of the first 1000 valid samples (all of them when fewer)"),
    ("unique@10000", "distinct fraction of the first 10000 valid samples (all of them when fewer)"),
    ("novelty", "fraction of distinct valid samples not in the training set"),
    ("intdiv1", "internal diversity (1 - mean Tanimoto similarity)"),
    ("filters", "fraction passing the MOSES medicinal-chemistry filters"),
]
# The properties of .properties in the order they are shown (legend, table, histograms): (name, label).
_PROPERTIES = [("qed", "QED"), ("logp", "logP"), ("sa", "SA"), ("mw", "MW")]


def parse_molecules(smiles: Sequence[Optional[str]]) -> Tuple[List[Tuple[str, Any]], List[str]]:
    """Split generated strings into valid molecules and invalid strings.

    Validity is MOSES's (:func:`.metrics.get_mol`: parsed and sanitised), so the counts here
    agree with the ``valid`` metric.

    Parameters
    ----------
    smiles : sequence of str or None
        Decoded strings in generation order (``None`` and ``""`` are invalid).

    Returns
    -------
    valid : list of (str, rdkit.Chem.Mol)
        Canonical SMILES and molecule of each valid string, in order (duplicates kept).
    invalid : list of str
        The invalid strings, in order (``None`` as ``""``).
    """
    from rdkit import Chem
    from rdkit.rdBase import BlockLogs

    from .moses import get_mol

    valid, invalid = [], []
    with BlockLogs():  # invalid decodes are expected and counted; RDKit need not log each one
        for s in smiles:
            mol = get_mol(s)
            if mol is None:
                invalid.append(s or "")
            else:
                valid.append((Chem.MolToSmiles(mol), mol))
    return valid, invalid


def grid_png(mols: Sequence[Any], legends: Sequence[str], per_row: int = GRID_PER_ROW,
             cell: int = GRID_CELL) -> bytes:
    """PNG bytes of molecules drawn in a grid by RDKit's Cairo drawer.

    The Cairo drawer returns the PNG directly, so no PIL round trip is needed (the same
    drawer as :func:`.design.grid_image`, which writes files instead).
    """
    from rdkit.Chem import Draw

    rows = math.ceil(len(mols) / per_row)
    drawer = Draw.rdMolDraw2D.MolDraw2DCairo(cell * min(per_row, len(mols)), cell * rows, cell, cell)
    drawer.DrawMolecules(list(mols), legends=list(legends))
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def _legend(i: int, props: Dict[str, float]) -> str:
    """``#i QED q logP l SA s``: short enough for one line under a 200-pixel cell."""
    return f"#{i} QED {props['qed']:.2f} logP {props['logp']:.1f} SA {props['sa']:.1f}"


def _invalid_note(n_total: int, invalid: Sequence[str]) -> str:
    """How many strings were invalid and left out, with a few quoted examples."""
    if not invalid:
        return f"All {n_total} generated strings are valid molecules."
    examples = ", ".join(repr(s) if len(s) <= INVALID_CHARS else repr(s[:INVALID_CHARS]) + "..."
                         for s in invalid[:INVALID_EXAMPLES])
    return (f"{len(invalid)} of {n_total} generated strings are invalid (RDKit cannot parse or sanitise them) "
            f"and are left out of the grid and the histograms; e.g. {examples}.")


def molecule_grid(valid: Sequence[Tuple[str, Any]], invalid: Sequence[str], limit: int = GRID_MOLECULES) -> str:
    """HTML of the first ``limit`` valid molecules: the invalid count, a grid and a property table.

    Parameters
    ----------
    valid, invalid : list
        What :func:`parse_molecules` returned for the generated strings.
    limit : int
        Valid molecules drawn and listed.
    """
    n_total = len(valid) + len(invalid)
    note = paragraph(_invalid_note(n_total, invalid))
    if not valid:
        return note + paragraph("No valid molecule to draw.")
    shown = valid[:limit]
    names = [n for n, _ in _PROPERTIES]
    rows = [dict(zip(names, p)) for p in compute_properties([m for _, m in shown], names).tolist()]
    png = grid_png([m for _, m in shown], [_legend(i + 1, r) for i, r in enumerate(rows)])
    cap = (f"The first {len(shown)} valid of {n_total} prior samples, in generation order "
           f"(duplicates kept: repeats are a sign of mode collapse).")
    header = ["#", "SMILES (canonical)"] + [label for _, label in _PROPERTIES]
    cells = [[i + 1, s] + [r[n] for n in names] for i, ((s, _), r) in enumerate(zip(shown, rows))]
    body = table(header, cells, digits=3, caption="Properties of the molecules drawn (RDKit; SA 1 = easy to "
                                                  "10 = hard to synthesise; MW in g/mol)")
    return note + png_image(png, "grid of generated molecules", cap) + body


def quality_table(result: Dict[str, Any]) -> str:
    """The sample-quality metrics present in ``result`` (empty string when there are none)."""
    rows = [(k, result[k], why) for k, why in _QUALITY if isinstance(result.get(k), (int, float))]
    return table(["metric", "value", "meaning"], rows, caption="Sample quality (MOSES)") if rows else ""


def property_histograms(generated: Sequence[Any], reference: Sequence[Any], split: str,
                        result: Dict[str, Any]) -> Optional[str]:
    """Density histograms of each property, generated against reference molecules.

    Parameters
    ----------
    generated, reference : sequence of rdkit.Chem.Mol
        Valid molecules (either may be empty).
    split : str
        Name of the reference split, for the legend.
    result : dict
        The evaluation result; its ``<property>_w1`` distances go into the panel titles.

    Returns
    -------
    str or None
        The embedded figure, or ``None`` without matplotlib.
    """
    plt = plotting()
    if plt is None:
        return None
    names = [n for n, _ in _PROPERTIES]
    gen, ref = compute_properties(generated, names), compute_properties(reference, names)
    fig, axes = plt.subplots(1, len(_PROPERTIES), figsize=(3.0 * len(_PROPERTIES), 2.8))
    for j, (ax, (name, label)) in enumerate(zip(axes, _PROPERTIES)):
        # Shared bins, so the two densities are compared bar for bar.
        bins = np.histogram_bin_edges(np.concatenate([gen[:, j], ref[:, j]]), bins=30)
        if len(ref):
            ax.hist(ref[:, j], bins=bins, density=True, alpha=0.5, color="#4c72b0", label=f"{split} split ({len(ref)})")
        if len(gen):
            ax.hist(gen[:, j], bins=bins, density=True, alpha=0.5, color="#c44e52", label=f"generated ({len(gen)})")
        w1 = result.get(f"{name}_w1")
        ax.set_title(label if w1 is None else f"{label} (W1 {w1:.3g})", fontsize=9)
        ax.set_yticks([])
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    cap = (f"{len(generated)} valid generated molecules against {len(reference)} molecules of the {split} "
           f"split (density). W1: the Wasserstein-1 distance of the MOSES metrics, on the whole split.")
    return figure(fig, "property histograms, generated vs reference", cap)


def report_sections(ctx: EvalContext, result: Dict[str, Any]) -> List[Section]:
    """The molecules view of the run report: generated molecules and property distributions.

    Parameters
    ----------
    ctx : EvalContext
        The evaluation's context; its ``"generated_smiles"`` cache (filled by
        :class:`~.evaluation.MosesSampleMetrics`) supplies the samples.
    result : dict
        The flat result of ``vaekit evaluate``.
    """
    smiles = ctx.extra.get("generated_smiles")
    if smiles is None:
        # Only the MOSES metric samples the prior; without its samples there is nothing to show
        # that would match the numbers of this evaluation.
        return [Section("Generated molecules", paragraph("No generated molecules: the MOSES sample metrics "
                                                         "did not run in this evaluation."))]
    valid, invalid = parse_molecules(smiles)
    body = quality_table(result) + molecule_grid(valid, invalid)
    generated = [m for _, m in valid]
    reference = [m for _, m in parse_molecules(list(ctx.dataset.smiles[:REFERENCE_MOLECULES]))[0]]
    hist = figures_or_note([property_histograms(generated, reference, ctx.split, result)])
    return [Section("Generated molecules", body), Section("Property distributions", hist)]


__all__ = ["report_sections", "molecule_grid", "parse_molecules", "grid_png", "quality_table", "property_histograms"]
