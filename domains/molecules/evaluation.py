"""The molecules domain's metrics as run by ``vaekit evaluate``.

* :class:`MosesSampleMetrics`: ``eval.n_samples`` molecules from the prior, scored with
  :func:`~vaekit.domains.molecules.moses.moses_metrics` against the training set (novelty)
  and the evaluated split (FCD, SNN, Frag, Scaf, property W1).
* :class:`ReconstructionAccuracy`: the JT-VAE protocol (Jin et al. 2018, sec. 4.1): each
  molecule is encoded ``recon_encodings`` times (``z ~ q(z|x)``), each code decoded
  ``recon_decodings`` times (sampling the decoder); the score is the fraction of decodes whose
  canonical SMILES equals the input's. ``recon_acc/greedy`` decodes the posterior mean greedily.
* :class:`PropertyPrediction`: error of the property head (models with a ``property`` entry in ``model.terms``).
* :class:`ConditionalControl`: for property-conditional models, how close the generated
  molecules' properties come to the requested ones, beside the same error with the requests
  shuffled (what ignoring the condition would score).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np
import torch

from vaekit.core.distributions import rsample

from ..base import EvalContext, Metric


@dataclass(frozen=True)
class MoleculesEvalOptions:
    """``eval.options`` for ``domain: molecules``.

    Attributes
    ----------
    recon_molecules : int
        Molecules of the split used by the reconstruction protocol (JT-VAE used 5000; each
        costs ``recon_encodings * recon_decodings`` decodes). 0 skips it.
    recon_encodings, recon_decodings : int
    fcd : bool
        Compute FCD (ChemNet activations of every molecule; the slowest metric on CPU).
    n_jobs : int
        Processes for the per-molecule RDKit work in the MOSES metrics.
    """

    recon_molecules: int = 100
    recon_encodings: int = 10
    recon_decodings: int = 10
    fcd: bool = True
    n_jobs: int = 1

    def validate(self, path: str = "eval.options") -> None:
        from vaekit.core.errors import ConfigError

        for name in ("recon_encodings", "recon_decodings", "n_jobs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{path}.{name}: must be >= 1; got {getattr(self, name)!r}.")
        if self.recon_molecules < 0:
            raise ConfigError(f"{path}.recon_molecules: must be >= 0 (0 skips reconstruction); "
                              f"got {self.recon_molecules!r}.")


def canonical(smiles: str) -> Optional[str]:
    """RDKit canonical SMILES, or None when it does not parse."""
    from rdkit import Chem
    from rdkit.rdBase import BlockLogs

    with BlockLogs():  # invalid decodes are expected and counted
        m = Chem.MolFromSmiles(smiles) if smiles else None
    return Chem.MolToSmiles(m) if m is not None else None


def sample_conditions(ctx: EvalContext, n: int, generator: torch.Generator) -> Optional[torch.Tensor]:
    """``n`` condition rows drawn from the evaluated split (so generated and reference
    molecules share the property distribution), or None for an unconditional model."""
    if not ctx.model.conditional:
        return None
    conds = torch.cat([b.cond for b in ctx.batches()]).to(ctx.device)
    idx = torch.randint(0, conds.shape[0], (n,), generator=generator, device="cpu")
    return conds[idx.to(conds.device)]


def generate_smiles(ctx: EvalContext, n: int, cond: Optional[torch.Tensor] = None,
                    generator: Optional[torch.Generator] = None) -> List[str]:
    """``n`` SMILES from the prior, sampling the decoder (as MOSES samples its models)."""
    from .datasets import decode_tokens

    out: List[str] = []
    bs = ctx.batch_size
    for i in range(0, n, bs):
        m = min(bs, n - i)
        c = None if cond is None else cond[i:i + m]
        x = ctx.model.sample(m, cond=c, generator=generator, sample_x=True)
        out.extend(decode_tokens(x, ctx.data.info))
    return out


class MosesSampleMetrics(Metric):
    """MOSES metrics of ``eval.n_samples`` prior samples (see :mod:`.metrics`)."""

    name = "moses"
    higher_is_better = {"valid": True, "unique@1000": True, "unique@10000": True, "novelty": True,
                        "intdiv1": True, "intdiv2": True, "filters": True, "fcd/test": False, "snn/test": True,
                        "frag/test": True, "scaf/test": True, "logp_w1": False, "sa_w1": False, "qed_w1": False,
                        "mw_w1": False}
    needs = ("model", "data", "samples")

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        from .moses import moses_metrics

        opts = ctx.options_as(MoleculesEvalOptions)
        g = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
        cond = sample_conditions(ctx, ctx.n_samples, torch.Generator().manual_seed(ctx.seed))
        gen = ctx.cached("generated_smiles", lambda: generate_smiles(ctx, ctx.n_samples, cond, g))
        res = moses_metrics(gen, ctx.data.train.smiles, test=ctx.dataset.smiles, n_jobs=opts.n_jobs,
                            device=str(ctx.device))
        if not opts.fcd:
            res.pop("fcd/test", None)
        return {k: float(v) for k, v in res.items() if k in self.higher_is_better}


class ReconstructionAccuracy(Metric):
    """JT-VAE reconstruction protocol (see module docstring)."""

    name = "recon_acc"
    higher_is_better = True

    @torch.no_grad()
    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        from .datasets import decode_tokens

        opts = ctx.options_as(MoleculesEvalOptions)
        if opts.recon_molecules == 0:
            return {}
        model, info = ctx.model, ctx.data.info
        g = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
        hits = greedy_hits = total = 0
        for b in ctx.batches():
            if total >= opts.recon_molecules:
                break
            b = b.slice(slice(0, opts.recon_molecules - total))
            # Targets from the split's SMILES, not from b.x: tokens unknown to the vocabulary
            # make a molecule impossible to reconstruct, and that must count as a miss.
            target = [canonical(ctx.dataset.smiles[int(i)]) for i in b.index]
            greedy = decode_tokens(model.reconstruct(b.encoder_input, b.cond, b.mask), info)
            greedy_hits += _matches(greedy, target)
            q = model.encode(b.encoder_input, b.cond, b.mask)
            for _ in range(opts.recon_encodings):
                z = rsample(q, generator=g)
                for _ in range(opts.recon_decodings):
                    hits += _matches(decode_tokens(model.generate(z, b.cond, generator=g, sample_x=True), info), target)
            total += len(b)
        per = opts.recon_encodings * opts.recon_decodings
        return {"recon_acc": hits / (total * per), "recon_acc/greedy": greedy_hits / total,
                "recon_acc/n_molecules": float(total)}


def _matches(smiles: List[str], target: List[Optional[str]]) -> int:
    return sum(t is not None and canonical(s) == t for s, t in zip(smiles, target))


class PropertyPrediction(Metric):
    """Mean absolute error and R^2 of the property head on the split, in property units."""

    name = "prop"
    higher_is_better = True

    @torch.no_grad()
    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        head = ctx.model.term("property")
        props = ctx.data.info.extra.get("properties") or {}
        if head is None or not props.get("names"):
            return {}
        z, y = ctx.embeddings()
        pred = head(z.to(ctx.device)).float().cpu().numpy()
        y = y.float().numpy()
        mean, std = np.asarray(props["mean"]), np.asarray(props["std"])
        pred, y = pred * std + mean, y * std + mean
        out = {}
        for j, name in enumerate(props["names"]):
            ok = ~np.isnan(y[:, j])
            err = pred[ok, j] - y[ok, j]
            out[f"prop_mae/{name}"] = float(np.abs(err).mean())
            var = float(((y[ok, j] - y[ok, j].mean()) ** 2).mean())
            out[f"prop_r2/{name}"] = 1.0 - float((err ** 2).mean()) / var if var > 0 else float("nan")
        return out

    def direction(self, key: str) -> str:
        return "lower" if key.startswith("prop_mae") else "higher"


class ConditionalControl(Metric):
    """How well a property-conditional model hits requested properties.

    One molecule is generated for each condition row of the split; for every condition
    property ``p``: ``cond_mae/p`` is the mean absolute error between requested and
    achieved values (valid molecules only), ``cond_mae/p/shuffled`` the same error against
    the requests in random order (what a model that ignores ``p`` would score), and
    ``cond_corr/p`` the Pearson correlation of requested and achieved values.
    """

    name = "cond"
    higher_is_better = True

    @torch.no_grad()
    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        from .properties import PROPERTY_NAMES, smiles_properties

        spec = ctx.data.info.extra.get("condition") or {}
        names = spec.get("names") or []
        if not ctx.model.conditional or not names or any(n not in PROPERTY_NAMES for n in names):
            return {}  # only computable properties can be measured on generated molecules
        conds = torch.cat([b.cond for b in ctx.batches()])[: ctx.n_samples].to(ctx.device)
        g = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
        smiles = generate_smiles(ctx, conds.shape[0], conds, g)
        achieved = smiles_properties(smiles, names)
        requested = conds.float().cpu().numpy() * np.asarray(spec["std"]) + np.asarray(spec["mean"])
        ok = ~np.isnan(achieved).any(1)
        rng = np.random.default_rng(ctx.seed)
        out = {"cond_valid": float(ok.mean())}
        for j, name in enumerate(names):
            a, r = achieved[ok, j], requested[ok, j]
            if len(a) < 2:  # too few valid molecules to measure control (cond_valid says so)
                out.update({f"cond_mae/{name}": float("nan"), f"cond_mae/{name}/shuffled": float("nan"),
                            f"cond_corr/{name}": float("nan")})
                continue
            out[f"cond_mae/{name}"] = float(np.abs(a - r).mean())
            out[f"cond_mae/{name}/shuffled"] = float(np.abs(a - rng.permutation(r)).mean())
            out[f"cond_corr/{name}"] = float(np.corrcoef(a, r)[0, 1])
        return out

    def direction(self, key: str) -> str:
        return "lower" if key.startswith("cond_mae") else "higher"


__all__ = ["MoleculesEvalOptions", "MosesSampleMetrics", "ReconstructionAccuracy", "PropertyPrediction",
           "ConditionalControl", "generate_smiles", "canonical"]
