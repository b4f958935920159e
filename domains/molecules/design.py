"""Design tools on a trained molecule VAE: sample, sample at target properties, interpolate,
explore a neighbourhood, optimise a property in latent space, draw grids.

Every function takes the trained :class:`~vaekit.core.vae.VAE` and its
:class:`~vaekit.core.types.DataInfo` (``vaekit.pipelines.load_run`` returns both) and works in SMILES:

>>> cfg, domain, model, info, _ = load_run("runs/molecules-default")    # doctest: +SKIP
>>> design.sample(model, info, 10, seed=0)                               # doctest: +SKIP
>>> design.interpolate(model, info, "c1ccccc1O", "CCN(CC)CC", steps=8)  # doctest: +SKIP
>>> design.neighbourhood(model, info, "CC(=O)Oc1ccccc1C(=O)O", n=20)     # doctest: +SKIP
>>> design.optimize_property(model, info, "qed", n_starts=16)            # doctest: +SKIP

(the last needs a model trained with a property head).

Generated molecules are returned as :class:`Candidate` rows (SMILES, validity, properties,
similarity to a reference) so a chemist sees what the model proposed and how good it is.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from vaekit.core.checkpoint import atomic_path
from vaekit.core.errors import ConfigError, DataValidationError
from vaekit.core.types import DataInfo
from vaekit.core.vae import VAE

from vaekit.core.types import Batch
from vaekit.core.vocab import Vocabulary

from ..seeding import eval_mode
from .datasets import MoleculeCollate, decode_tokens
from .limits import check_smiles_length, parsable_length, shown_smiles
from .properties import PROPERTY_NAMES, smiles_properties
from .tokenizers import get_tokenizer


@dataclass
class Candidate:
    """One proposed molecule.

    Attributes
    ----------
    smiles : str
        Canonical SMILES when valid, else the raw decoded string.
    valid : bool
    properties : dict
        ``logp``, ``qed``, ``sa``, ``mw`` (RDKit) of a valid molecule.
    similarity : float, optional
        Tanimoto similarity (Morgan radius 2, 2048 bits) to the reference molecule, if any.
    score : float, optional
        The tool's own score (e.g. the predicted property during optimisation).
    """

    smiles: str
    valid: bool
    properties: Dict[str, float] = field(default_factory=dict)
    similarity: Optional[float] = None
    score: Optional[float] = None

    def to_dict(self) -> dict:
        return asdict(self)


def _device(model: VAE) -> torch.device:
    return next(model.parameters()).device


def _fingerprint(mol):
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048).GetFingerprint(mol)


def candidates(smiles: Sequence[str], reference: Optional[str] = None,
               scores: Optional[Sequence[float]] = None) -> List[Candidate]:
    """Wrap decoded strings as :class:`Candidate` rows (canonicalised, with properties)."""
    from rdkit import Chem, DataStructs
    from rdkit.rdBase import BlockLogs

    with BlockLogs():  # invalid decodes are expected; they are marked valid=False
        ref_fp = None
        if reference is not None:
            check_smiles_length(reference, "reference")
            ref = Chem.MolFromSmiles(reference)
            if ref is None:
                raise DataValidationError(f"reference: {shown_smiles(reference)} is not a valid SMILES.")
            ref_fp = _fingerprint(ref)
        out = []
        for i, s in enumerate(smiles):
            m = Chem.MolFromSmiles(s) if s and parsable_length(s) else None  # too long: invalid, never parsed
            score = None if scores is None else float(scores[i])
            if m is None:
                out.append(Candidate(s, False, score=score))
                continue
            can = Chem.MolToSmiles(m)
            props = dict(zip(PROPERTY_NAMES, smiles_properties([can], PROPERTY_NAMES)[0].tolist()))
            sim = float(DataStructs.TanimotoSimilarity(ref_fp, _fingerprint(m))) if ref_fp is not None else None
            out.append(Candidate(can, True, props, sim, score))
        return out


def smiles_to_batch(smiles: Sequence[str], info: DataInfo) -> Batch:
    """Encode SMILES the way the model's training data was encoded: a :class:`Batch` with
    tokens ``x`` ``(n, T)``, ``mask`` and, for graph models, ``inputs`` (a PyG batch).

    Raises :class:`DataValidationError` naming the SMILES that RDKit cannot parse, or that is
    longer than the model's ``max_len``. Tokens unseen in training map to ``<unk>``.
    """
    from rdkit import Chem
    from rdkit.rdBase import BlockLogs

    vocab = Vocabulary.from_list(info.extra["vocab"])
    tokenizer = get_tokenizer(info.extra["tokenizer"])
    graphs = info.extra.get("representation") == "graph"
    items = []
    canonicalize, isomeric = info.extra.get("canonicalize", True), info.extra.get("isomeric", True)
    with BlockLogs():  # the error below names the bad SMILES
        for i, s in enumerate(smiles):
            check_smiles_length(s, f"smiles[{i}]")
            mol = Chem.MolFromSmiles(s) if s else None
            if mol is None:
                raise DataValidationError(f"smiles[{i}]: {shown_smiles(s)} is not a valid SMILES (RDKit cannot parse it). "
                                          f"Check it with rdkit.Chem.MolFromSmiles.")
            can = Chem.MolToSmiles(mol, isomericSmiles=isomeric) if canonicalize else s.strip()
            ids = vocab.encode(tokenizer.tokenize(can))
            if len(ids) > info.shape[0]:
                raise DataValidationError(f"smiles[{i}]: {shown_smiles(s)} has {len(ids)} tokens with <eos>, more than the "
                                          f"model's max_len={info.shape[0]}. Use a smaller molecule.")
            graph = None
            if graphs:
                from .graphs import mol_to_graph

                graph = mol_to_graph(mol)
            items.append((i, torch.as_tensor(ids, dtype=torch.long), None, None, graph))
    if not items:
        raise DataValidationError("smiles: empty list; pass at least one SMILES.")
    return MoleculeCollate(vocab.pad_id, graphs=graphs)(items)


def _cond_tensor(info: DataInfo, targets: Optional[Dict[str, float]], n: int, device) -> Optional[torch.Tensor]:
    """Standardised condition rows ``(n, k)`` for property targets ``{name: value}``."""
    spec = info.extra.get("condition") or {}
    names = spec.get("names") or []
    if not names:
        if targets:
            raise ConfigError(f"targets: this model is not property-conditional; got {targets}. Train a cVAE "
                              f"(data.condition: [logp, ...]) to sample at target properties.")
        return None
    targets = dict(targets or {})
    unknown = sorted(set(targets) - set(names))
    if unknown:
        raise ConfigError(f"targets: the model is conditioned on {names}; got unknown {unknown}.")
    missing = [k for k in names if k not in targets]
    if missing:
        raise ConfigError(f"targets: give a value for every condition the model was trained on: missing {missing} "
                          f"(e.g. {', '.join(f'{k}={m:.2f}' for k, m in zip(names, spec['mean']))}).")
    row = [(float(targets[k]) - spec["mean"][j]) / spec["std"][j] for j, k in enumerate(names)]
    return torch.tensor(row, dtype=torch.float32, device=device).expand(n, -1).contiguous()


@torch.no_grad()
def sample(model: VAE, info: DataInfo, n: int, targets: Optional[Dict[str, float]] = None, seed: int = 0,
           sample_x: bool = True) -> List[Candidate]:
    """``n`` molecules from the prior; at ``targets`` (e.g. ``{"logp": 2.5}``) for a cVAE.

    ``sample_x`` samples the decoder's tokens (as MOSES does); False decodes greedily.
    """
    if n < 1:
        raise ConfigError(f"n: must be >= 1; got {n}.")
    dev = _device(model)
    cond = _cond_tensor(info, targets, n, dev)
    if model.conditional and cond is None:
        raise ConfigError("targets: this is a conditional model; pass target properties, e.g. {'logp': 2.5}.")
    g = torch.Generator(device=dev).manual_seed(seed)
    x = model.sample(n, cond=cond, generator=g, sample_x=sample_x)
    return candidates(decode_tokens(x, info))


def _embed(model: VAE, info: DataInfo, smiles: Sequence[str], cond=None) -> torch.Tensor:
    batch = smiles_to_batch(list(smiles), info).to(_device(model))
    return model.embed(batch.encoder_input, cond, batch.mask)


def _slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation: stays at the typical radius of a Gaussian prior, where linear
    interpolation passes through the low-norm centre no code of the data lives at (White 2016,
    "Sampling Generative Networks")."""
    an, bn = a / a.norm(), b / b.norm()
    omega = torch.arccos((an * bn).sum().clamp(-1 + 1e-7, 1 - 1e-7))
    if float(omega) < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


@torch.no_grad()
def interpolate(model: VAE, info: DataInfo, start: str, end: str, steps: int = 8, method: str = "slerp",
                targets: Optional[Dict[str, float]] = None) -> List[Candidate]:
    """Decode ``steps`` evenly spaced points between the embeddings of two molecules.

    Returns ``steps`` candidates (greedy decoding), the first and last being the
    reconstructions of ``start`` and ``end``; similarity is to ``start``.
    """
    if steps < 2:
        raise ConfigError(f"steps: an interpolation needs >= 2 points; got {steps}.")
    if method not in ("slerp", "linear"):
        raise ConfigError(f"method: 'slerp' or 'linear'; got {method!r}.")
    dev = _device(model)
    cond2 = _cond_tensor(info, targets, 2, dev)
    z = _embed(model, info, [start, end], cond2)
    ts = np.linspace(0.0, 1.0, steps)
    zs = torch.stack([_slerp(z[0], z[1], float(t)) if method == "slerp" else (1 - t) * z[0] + t * z[1] for t in ts])
    cond = _cond_tensor(info, targets, steps, dev)
    return candidates(decode_tokens(model.generate(zs, cond), info), reference=start)


@torch.no_grad()
def neighbourhood(model: VAE, info: DataInfo, seed_smiles: str, n: int = 20, radius: float = 0.5, seed: int = 0,
                  targets: Optional[Dict[str, float]] = None) -> List[Candidate]:
    """Molecules decoded from ``z = embed(seed) + radius * eps``, ``eps ~ N(0, I)``.

    Returns the distinct valid molecules, most similar to the seed first (Tanimoto,
    Morgan radius 2) -- the "explore around a hit" view of Gomez-Bombarelli et al. 2018.
    """
    if n < 1 or radius < 0:
        raise ConfigError(f"n must be >= 1 and radius >= 0; got n={n}, radius={radius}.")
    dev = _device(model)
    z0 = _embed(model, info, [seed_smiles], _cond_tensor(info, targets, 1, dev))
    g = torch.Generator(device=dev).manual_seed(seed)
    z = z0 + radius * torch.randn((n, z0.shape[1]), generator=g, device=dev)
    out = candidates(decode_tokens(model.generate(z, _cond_tensor(info, targets, n, dev)), info), reference=seed_smiles)
    seen, uniq = set(), []
    for c in out:
        if c.valid and c.smiles not in seen:
            seen.add(c.smiles)
            uniq.append(c)
    return sorted(uniq, key=lambda c: -(c.similarity or 0.0))


def optimize_property(model: VAE, info: DataInfo, prop: str, n_starts: int = 16, steps: int = 100, lr: float = 0.05,
                      maximize: bool = True, prior_weight: float = 0.1, start_smiles: Optional[Sequence[str]] = None,
                      seed: int = 0, decode_every: int = 10) -> List[Candidate]:
    """Gradient ascent on the property head's prediction in latent space.

    Starting points are the embeddings of ``start_smiles`` or ``n_starts`` prior draws. Each
    step maximises ``f(z) - prior_weight * |z|^2 / 2`` (``f``: predicted standardised
    property, negated when minimising); the prior term keeps ``z`` where the decoder was
    trained (Gomez-Bombarelli et al. 2018, sec. 2.3, constrain the search the same way).
    Every ``decode_every`` steps the codes are decoded; all distinct valid molecules met on
    the way are returned, best true (RDKit) property first, with the predicted value as
    ``score``.
    """
    head = model.term("property")
    props = info.extra.get("properties") or {}
    names = props.get("names") or []
    if head is None or prop not in names:
        raise ConfigError(f"prop: optimising needs a model trained with a property term (model.terms) on data.properties "
                          f"including {prop!r}; this model predicts {names or 'nothing'}.")
    if steps < 1 or lr <= 0 or decode_every < 1:
        raise ConfigError(f"steps, lr and decode_every must be positive; got {steps}, {lr}, {decode_every}.")
    j = names.index(prop)
    sign = 1.0 if maximize else -1.0
    dev = _device(model)
    if model.conditional:
        raise ConfigError("optimize_property: use an unconditional model with a property head; a cVAE is steered "
                          "with sample(..., targets=...) instead.")
    if start_smiles:
        z = _embed(model, info, list(start_smiles)).detach().clone()
    else:
        g = torch.Generator(device=dev).manual_seed(seed)
        z = model.sample_prior(n_starts, generator=g)
    z.requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    found: Dict[str, float] = {}
    with eval_mode(model):  # dropout off while z is optimised; the model's mode is restored after
        for step in range(steps + 1):
            if step % decode_every == 0 or step == steps:
                with torch.no_grad():
                    pred = head(z)[:, j] * props["std"][j] + props["mean"][j]
                    for s, p in zip(decode_tokens(model.generate(z.detach()), info), pred.tolist()):
                        found.setdefault(s, p)
            if step == steps:
                break
            opt.zero_grad()
            objective = sign * head(z)[:, j] - prior_weight * 0.5 * z.pow(2).sum(1)
            (-objective.sum()).backward()
            opt.step()
    smiles = list(found)
    out = [c for c in candidates(smiles, scores=[found[s] for s in smiles]) if c.valid]
    uniq = {c.smiles: c for c in out}
    return sorted(uniq.values(), key=lambda c: -sign * c.properties[prop])


def grid_image(smiles: Sequence[str], path: str | Path, legends: Optional[Sequence[str]] = None,
               mols_per_row: int = 5, size: int = 250) -> Path:
    """Draw molecules in a grid with RDKit and write ``.svg`` or ``.png`` (by suffix).

    Invalid SMILES are drawn as empty cells with their legend, so the grid keeps its order.
    """
    from rdkit import Chem
    from rdkit.Chem import Draw
    from rdkit.rdBase import BlockLogs

    path = Path(path)
    if path.suffix not in (".svg", ".png"):
        raise ConfigError(f"path: molecule grids are written as .svg or .png; got {path.name!r}.")
    if not smiles:
        raise DataValidationError("smiles: nothing to draw (empty list).")
    with BlockLogs():  # invalid SMILES are expected: drawn as empty cells
        mols = [Chem.MolFromSmiles(s) if s and parsable_length(s) else None for s in smiles]
    mols = [m if m is not None else Chem.Mol() for m in mols]
    legends = list(legends) if legends is not None else list(smiles)
    n_rows = math.ceil(len(mols) / mols_per_row)
    w, h = size * min(mols_per_row, len(mols)), size * n_rows
    if path.suffix == ".svg":
        drawer = Draw.rdMolDraw2D.MolDraw2DSVG(w, h, size, size)
    else:
        drawer = Draw.rdMolDraw2D.MolDraw2DCairo(w, h, size, size)
    drawer.DrawMolecules(mols, legends=legends)
    drawer.FinishDrawing()
    data = drawer.GetDrawingText()
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data)
        else:
            tmp.write_bytes(data)
    return path


__all__ = ["Candidate", "candidates", "smiles_to_batch", "sample", "interpolate", "neighbourhood", "optimize_property", "grid_image"]
