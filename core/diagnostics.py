"""What a latent stores and how its geometry looks, for any model and any domain.

:func:`diagnose` passes a data split through a trained :class:`~vaekit.core.vae.VAE` and
reports, in nats per example unless stated:

* ``rate`` (= ``kl``): ``E_x KL(q(z|x) || p(z))``, and ``kl_per_dim`` per latent unit;
* ``distortion``: ``E_x E_q[-log p(x|z)]``; ``elbo = -(rate + distortion)``
  (Alemi et al. 2018, "Fixing a Broken ELBO");
* ``active_units``: units ``u`` with ``Var_x(E_q[u|x]) > 0.01`` (Burda et al. 2016, sec. 5.2);
* ``posterior_variance``: ``E_x Var_q[u|x]`` per unit (the variance profile);
* the aggregate posterior ``q(z) = E_x q(z|x)``: its covariance
  ``Cov_x(E_q[z|x]) + E_x Cov_q[z|x]``, eigen-spectrum, ``participation_ratio``
  ``(sum l)^2 / sum l^2`` (from 1 for a line up to D for a sphere), ``isotropy`` = PR / D and
  ``condition_number``;
* ``mutual_info``: ``I(x; z)`` under the encoder's joint, estimated as
  ``E[log q(z|x) - log q(z)]`` with ``q(z)`` the minibatch mixture of posteriors
  (Hoffman & Johnson 2016; the estimator of He et al. 2019); it is at most ``log N``;
* ``collapse``: ``"full"`` (no active unit), ``"partial"`` (some inactive) or ``"none"``;
  ``warnings`` holds the full-collapse message with advice (also emitted as a
  :class:`PosteriorCollapseWarning`), ``notes`` the partial-collapse remark.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Dict, Iterable, List, Optional

import torch
from torch import Tensor

from .distributions import concat, log_prob_per_example, needs_inversion, rsample
from .objectives import iwae_nll
from .types import Batch

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. 2016


class PosteriorCollapseWarning(UserWarning):
    """The posterior carries (almost) no information about the input."""


def _spectrum_stats(cov: Tensor) -> Dict[str, Any]:
    eig = torch.linalg.eigvalsh(cov.double()).clamp(min=0.0).flip(0)  # descending
    total = float(eig.sum())
    d = int(eig.numel())
    if total <= 0:
        return dict(spectrum=eig.tolist(), participation_ratio=0.0, isotropy=0.0, condition_number=float("inf"))
    pr = total ** 2 / float((eig ** 2).sum())
    lmin = float(eig[-1])
    return dict(spectrum=eig.tolist(), participation_ratio=pr, isotropy=pr / d,
                condition_number=(float(eig[0]) / lmin) if lmin > 1e-12 * float(eig[0]) else float("inf"))


FLOW_MI_EXAMPLES = 256
"""Cap on the examples of the MI estimate for flow posteriors: each ``log q(z_i|x_j)`` inverts
the flow (``D`` sequential passes), so the cost is ``N^2 D`` network passes."""


@torch.no_grad()
def mutual_information(model, batches: Iterable[Batch], max_examples: int = 1000, device="cpu",
                       generator: Optional[torch.Generator] = None) -> float:
    """Estimate ``I(x; z)`` in nats on up to ``max_examples`` examples (see module docstring).

    Flow posteriors use at most :data:`FLOW_MI_EXAMPLES` examples; planar and radial flows,
    which have no closed-form inverse, give ``nan``.
    """
    qs: List[Any] = []
    n = 0
    for batch in batches:
        batch = batch.to(device)
        q = model.encode(batch.encoder_input, batch.cond, batch.mask)
        if needs_inversion(q):  # each cross density inverts the flow
            max_examples = min(max_examples, FLOW_MI_EXAMPLES)
        qs.append(q)
        n += len(batch)
        if n >= max_examples:
            break
    if n < 2:
        return float("nan")
    q = concat(qs, max_examples)
    n = q.batch_shape[0]
    z = rsample(q, generator=generator)
    try:
        log_q_own = log_prob_per_example(q, z)  # (N,)
        agg = []
        step = max(1, int(2 ** 24 // max(1, n * int(torch.tensor(q.batch_shape[1:] + q.event_shape).prod()))))
        for i in range(0, n, step):
            zi = z[i:i + step]
            cross = log_prob_per_example(q, zi.unsqueeze(1))  # (chunk, N): log q(z_i | x_j)
            agg.append(torch.logsumexp(cross, dim=1) - math.log(n))
    except NotImplementedError:  # a flow without a closed-form inverse
        return float("nan")
    return float((log_q_own - torch.cat(agg)).mean())


IW_ROWS_PER_PASS = 1024
"""Importance-sampled rows (samples x examples) per forward pass of the IW NLL, unless the
decoder sets its own ``iw_rows_per_pass``."""


@torch.no_grad()
def diagnose(model, batches: Iterable[Batch], *, device: str | torch.device = "cpu", iw_samples: int = 0,
             mi_examples: int = 1000, seed: int = 0, warn: bool = True) -> Dict[str, Any]:
    """Diagnostics of ``model`` on ``batches`` (a DataLoader or a list of :class:`Batch`).

    Parameters
    ----------
    model : VAE
    batches : iterable of Batch
        Re-iterable if ``mi_examples > 0`` (it is iterated twice).
    device : str or torch.device
    iw_samples : int
        If > 0, also report ``nll_iw``: the importance-weighted NLL with this many samples.
    mi_examples : int
        Examples used by the mutual-information estimate (0 disables it; cost ~ N^2 D).
    seed : int
        Seeds the sampling so a diagnosis is reproducible.
    warn : bool
        Emit a :class:`PosteriorCollapseWarning` on full collapse.

    Returns
    -------
    dict
        JSON-serialisable; keys listed in the module docstring.
    """
    was_training = model.training
    model.eval()
    fork_devices = [torch.device(device).index or 0] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(seed)
        res = _diagnose(model, batches, device, iw_samples, mi_examples, seed)
    model.train(was_training)
    if warn and res["collapse"] == "full":
        warnings.warn(res["warnings"][0], PosteriorCollapseWarning, stacklevel=3)
    return res


def _diagnose(model, batches, device, iw_samples, mi_examples, seed) -> Dict[str, Any]:
    n = 0
    recon_sum = 0.0
    kl_sum: Optional[Tensor] = None
    iw_sum = 0.0
    tok_sum = 0.0
    mean_sum = mean_sq = var_sum = None  # per (U, E)
    flat_sum = flat_outer = cond_cov_sum = None
    kl_analytic = True
    iw_rows = getattr(model.decoder, "iw_rows_per_pass", None) or IW_ROWS_PER_PASS
    for batch in batches:
        batch = batch.to(device)
        out = model(batch)
        b = len(batch)
        n += b
        recon_sum += float(out.recon_nll.double().sum())
        kl = out.kl.double().sum(0)
        kl_sum = kl if kl_sum is None else kl_sum + kl
        kl_analytic = kl_analytic and out.kl_is_analytic
        if out.n_tokens is not None:
            tok_sum += float(out.n_tokens.double().sum())
        m, v = model.head.unit_moments(out.posterior)  # (B, U, E)
        m, v = m.double(), v.double()
        mean_sum = m.sum(0) if mean_sum is None else mean_sum + m.sum(0)
        mean_sq = (m ** 2).sum(0) if mean_sq is None else mean_sq + (m ** 2).sum(0)
        var_sum = v.sum(0) if var_sum is None else var_sum + v.sum(0)
        flat = m.reshape(b, -1)
        outer = flat.T @ flat
        if m.shape[-1] == 1:
            cc = torch.diag(v.reshape(b, -1).sum(0))
        else:  # categorical: Cov[onehot | x] = diag(p) - p p^T within each group
            g, c = m.shape[1], m.shape[2]
            cc = torch.zeros(g * c, g * c, dtype=torch.float64, device=m.device)
            for gi in range(g):
                p = m[:, gi, :]
                blk = torch.diag(p.sum(0)) - p.T @ p
                cc[gi * c:(gi + 1) * c, gi * c:(gi + 1) * c] = blk
        flat_sum = flat.sum(0) if flat_sum is None else flat_sum + flat.sum(0)
        flat_outer = outer if flat_outer is None else flat_outer + outer
        cond_cov_sum = cc if cond_cov_sum is None else cond_cov_sum + cc
        if iw_samples > 0:
            # Bound rows per pass (samples x examples), not samples alone: a 512-sentence batch
            # times 100 samples of 10k-word logits would not fit in memory.
            chunk = max(1, min(iw_samples, iw_rows // b))
            iw_sum += float(iwae_nll(model, batch, k=iw_samples, chunk=chunk).double().sum())
    if n == 0:
        from .errors import DataValidationError

        raise DataValidationError("diagnose: the data split is empty; got 0 examples. Pass a non-empty split.")
    rate_per_unit = (kl_sum / n)
    rate = float(rate_per_unit.sum())
    distortion = recon_sum / n
    au_var = (mean_sq / n - (mean_sum / n) ** 2).clamp(min=0).sum(-1)  # (U,)
    active = int((au_var > ACTIVE_UNIT_THRESHOLD).sum())
    n_units = int(au_var.numel())
    mu = flat_sum / n
    agg_cov = flat_outer / n - torch.outer(mu, mu) + cond_cov_sum / n
    res: Dict[str, Any] = dict(
        n_examples=n, rate=rate, kl=rate, distortion=distortion, elbo=-(rate + distortion),
        kl_per_dim=rate_per_unit.tolist(), kl_is_analytic=kl_analytic,
        active_units=active, n_units=n_units, active_unit_variance=au_var.tolist(),
        posterior_variance=(var_sum / n).sum(-1).tolist(),
    )
    res.update(_spectrum_stats(agg_cov))
    if tok_sum > 0:
        res["n_tokens"] = tok_sum
        res["distortion_per_token"] = recon_sum / tok_sum
    if iw_samples > 0:
        res["nll_iw"] = iw_sum / n
        res["iw_samples"] = iw_samples
        if tok_sum > 0:
            per_token = iw_sum / tok_sum  # an untrained model can exceed exp's float range
            res["ppl_iw"] = math.exp(per_token) if per_token < 700 else float("inf")
    if mi_examples > 0:
        g = torch.Generator(device=torch.device(device)).manual_seed(seed)
        res["mutual_info"] = mutual_information(model, batches, mi_examples, device, g)
    res["collapse"], msgs = _collapse(active, n_units, rate)
    res["warnings"] = msgs if res["collapse"] == "full" else []
    res["notes"] = msgs if res["collapse"] == "partial" else []
    return res


def _collapse(active: int, n_units: int, rate: float):
    if active == 0:
        return "full", [
            f"posterior collapse: none of the {n_units} latent units is active (rate {rate:.4f} nats); the "
            f"decoder ignores z. Try KL annealing (objective.beta: {{kind: linear, start: 0, end: 1, steps: N}} "
            f"or kind: cyclical), free bits (objective.free_bits: 0.1-0.5), word dropout for sequence "
            f"decoders (model.decoder.params.word_dropout), or a weaker decoder."]
    if active < n_units:
        return "partial", [f"partial collapse: {active} of {n_units} latent units are active; the others "
                           f"carry no information (often harmless: the model prunes what it does not need)."]
    return "none", []


def summary_line(d: Dict[str, Any]) -> str:
    """One-line human summary of :func:`diagnose`'s output."""
    s = (f"rate {d['rate']:.3f} nats | distortion {d['distortion']:.3f} | ELBO {d['elbo']:.3f} | "
         f"active units {d['active_units']}/{d['n_units']} | isotropy {d['isotropy']:.3f} "
         f"(PR {d['participation_ratio']:.2f})")
    if "mutual_info" in d:
        s += f" | MI {d['mutual_info']:.3f}"
    if "nll_iw" in d:
        s += f" | NLL(IW k={d['iw_samples']}) {d['nll_iw']:.3f}"
    return s
