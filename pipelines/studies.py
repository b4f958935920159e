"""Studies of what a design choice does to the latent: sweeps and the reconstruction-loss study.

* :func:`sweep` -- ``vaekit sweep CONFIG --set objective.beta=0.1,0.3,1,3``: one run per value
  (the product over every comma-separated override), each trained and evaluated; a table of
  rate, distortion, NLL, active units and isotropy, and the rate-distortion curve
  (Alemi et al. 2018, "Fixing a Broken ELBO").
* :func:`study_losses` -- ``vaekit study losses CONFIG``: the same data and model trained with
  the pointwise likelihood alone, + a perceptual term, + an adversarial term, and + both; rate,
  distortion, the per-dimension posterior-variance profile, active units and the isotropy of
  the aggregate posterior (participation ratio, condition number), to check the claims of
  Strano et al. 2026 ("How Neural Losses Shape VAE Latents": neural losses lower the rate and
  spread posterior variance evenly), whichever way they come out.

Each study writes ``study.json``, ``table.md``, ``table.csv`` and ``report.md`` with its plots
(PNG, when matplotlib is installed) into its output folder; runs live in ``runs/`` below it, so
an interrupted study resumes where it stopped.
"""
from __future__ import annotations

import csv
import itertools
import json
import math
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import yaml

from vaekit.core.checkpoint import atomic_path
from vaekit.core.config import to_dict
from vaekit.core.errors import ConfigError

from .config import load_config
from .runlock import run_lock
from .runs import _err, evaluate_run, jsonable, train_run

# Columns of every study table: (key in evaluate_run's result, header, format).
COLUMNS = [("rate", "rate (KL)", "{:.2f}"), ("distortion", "distortion", "{:.2f}"), ("elbo", "ELBO", "{:.2f}"),
           ("nll_iw", "NLL (IW)", "{:.2f}"), ("active_units", "active units", "{}"),
           ("participation_ratio", "PR", "{:.2f}"), ("isotropy", "isotropy (PR/D)", "{:.3f}"),
           ("condition_number", "cond. number", "{:.1f}"), ("var_cv", "post. var CV", "{:.3f}"),
           ("mutual_info", "MI", "{:.2f}")]


def split_values(value: str) -> List[str]:
    """Split an override's value at top-level commas: ``"0.1,1"`` -> two values, while
    ``"[64,64]"`` or ``"{a: 1, b: 2}"`` stay one."""
    parts, depth, cur, quote = [], 0, "", None
    for ch in value:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += ch
    parts.append(cur.strip())
    return parts


def expand_overrides(overrides: Sequence[str]) -> Tuple[List[str], List[Tuple[str, List[str]]]]:
    """``(fixed overrides, [(key, values)] swept)``."""
    fixed, axes = [], []
    for o in overrides:
        if "=" not in o:
            raise ConfigError(f"--set {o!r}: overrides are KEY=VALUE (a sweep: KEY=V1,V2,...); got no '='.")
        key, value = o.split("=", 1)
        vals = split_values(value)
        if len(vals) > 1:
            if any(v == "" for v in vals):
                raise ConfigError(f"--set {o!r}: an empty value in the list; write KEY=V1,V2,...")
            axes.append((key, vals))
        else:
            fixed.append(o)
    return fixed, axes


def _slug(text: str) -> str:
    """A run's folder name: one path component ('.', '..' and '' become 'run')."""
    s = re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text)[:120]
    return s if s.strip(".") else "run"


def _posterior_variance_cv(res: Dict[str, Any]) -> float:
    """Coefficient of variation of the per-unit posterior variance (0: spread evenly)."""
    v = [float(x) for x in res.get("posterior_variance", [])]
    if len(v) < 2:
        return float("nan")
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / len(v))
    return sd / m if m > 0 else float("nan")


def _run_one(spec: str, overrides: List[str], run_dir: Path, resume: str, iw_samples: Optional[int],
             log: Callable[[str], None]) -> Dict[str, Any]:
    cfg = load_config(spec, overrides)
    with run_lock(run_dir):  # one writer from training to report (train_run and evaluate_run re-enter it)
        train_run(cfg, run_dir, resume=resume, log=log)
        # the config.yaml just written is the user's own: its tracking destination is theirs
        res = evaluate_run(run_dir, iw_samples=iw_samples, tracking_from_config=True)
    res["var_cv"] = _posterior_variance_cv(res)
    return res


def _write_tables(rows: List[Dict[str, Any]], label_keys: List[str], out: Path) -> str:
    cols = [(k, h, f) for k, h, f in COLUMNS if any(k in r["result"] for r in rows)]
    head = "| " + " | ".join(label_keys + [h for _, h, _ in cols]) + " |"
    lines = [head, "|" + " --- |" * (len(label_keys) + len(cols))]
    for r in rows:
        cells = [str(r["labels"][k]) for k in label_keys]
        for k, _, f in cols:
            v = r["result"].get(k)
            cells.append("-" if v is None or (isinstance(v, float) and math.isnan(v)) else f.format(v))
        lines.append("| " + " | ".join(cells) + " |")
    md = "\n".join(lines) + "\n"
    with atomic_path(out / "table.md") as tmp:
        tmp.write_text(md)
    with atomic_path(out / "table.csv") as tmp:
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(label_keys + [k for k, _, _ in cols])
            for r in rows:
                w.writerow([r["labels"][k] for k in label_keys] + [r["result"].get(k) for k, _, _ in cols])
    return md


def _plots(rows: List[Dict[str, Any]], names: List[str], out: Path, curve: bool) -> List[str]:
    """Rate-distortion, posterior-variance profile and aggregate-posterior spectrum plots."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    files = []
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    rates = [r["result"]["rate"] for r in rows]
    dists = [r["result"]["distortion"] for r in rows]
    ax.plot(rates, dists, "-o" if curve else "o")
    for name, x, y in zip(names, rates, dists):
        ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("rate R = KL (nats)")
    ax.set_ylabel("distortion D (nats)")
    ax.set_title("rate-distortion")
    fig.tight_layout()
    files.append(_save(fig, out / "rate_distortion.png", plt))
    for key, title, fname, ylabel in (("posterior_variance", "posterior variance per unit (sorted)",
                                       "variance_profile.png", "E_x Var_q[z_d | x]"),
                                      ("spectrum", "aggregate-posterior covariance spectrum", "spectrum.png",
                                       "eigenvalue")):
        fig, ax = plt.subplots(figsize=(4.5, 3.5))
        for name, r in zip(names, rows):
            v = sorted((float(x) for x in r["result"].get(key, [])), reverse=True)
            if v:
                ax.plot(range(1, len(v) + 1), v, marker=".", label=name)
        ax.set_yscale("log")
        ax.set_xlabel("rank")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=7)
        fig.tight_layout()
        files.append(_save(fig, out / fname, plt))
    return files


def _save(fig, path: Path, plt) -> str:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path.name


def _report(title: str, intro: str, table: str, images: List[str], out: Path) -> Path:
    parts = [f"# {title}\n", intro + "\n", table]
    parts += [f"\n![{Path(p).stem}]({p})\n" for p in images]
    if not images:
        parts.append("\n(plots need matplotlib: pip install 'vaekit[report]')\n")
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text("\n".join(parts))
    return out / "report.md"


def _finish(kind: str, spec: str, rows, label_keys, names, out: Path, intro: str, curve: bool) -> Dict[str, Any]:
    table = _write_tables(rows, label_keys, out)
    images = _plots(rows, names, out, curve)
    report = _report(f"{kind}: {spec}", intro, table, images, out)
    summary = {"kind": kind, "config": spec, "rows": rows, "table": table, "report": str(report),
               "plots": images}
    with atomic_path(out / "study.json") as tmp:
        tmp.write_text(json.dumps(jsonable(summary), indent=1))
    return summary


def sweep(spec: str, overrides: Sequence[str], out_dir: Optional[str | Path] = None, *, resume: str = "auto",
          iw_samples: Optional[int] = None, log: Callable[[str], None] = _err) -> Dict[str, Any]:
    """Train and evaluate one run per combination of the comma-separated override values.

    Parameters
    ----------
    spec : str
        CONFIG (path or ``domain:name``).
    overrides : sequence of str
        ``KEY=VALUE`` (fixed) and ``KEY=V1,V2,...`` (swept) overrides.
    out_dir : path, optional
        Default ``runs/sweep-<domain>-<name>``.
    resume : {"auto", "never"}
    iw_samples : int, optional
        Importance samples of each run's NLL (default: the config's ``eval.iw_samples``).

    Returns
    -------
    dict
        ``rows`` (``labels`` and the evaluation ``result`` of each run), ``table`` (Markdown),
        ``report`` (path) and ``plots``.
    """
    fixed, axes = expand_overrides(overrides)
    if not axes:
        raise ConfigError("vaekit sweep: no override lists a sweep; got only fixed values. Give at least one "
                          "KEY=V1,V2,... (e.g. --set objective.beta=0.1,0.3,1,3).")
    base = load_config(spec, fixed)  # validates the fixed part before any training
    out = Path(out_dir) if out_dir is not None else Path("runs") / f"sweep-{base.domain}-{base.name}"
    keys = [k for k, _ in axes]
    rows, names = [], []
    combos = list(itertools.product(*[v for _, v in axes]))
    for i, combo in enumerate(combos):
        sets = [f"{k}={v}" for k, v in zip(keys, combo)]
        name = ",".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in zip(keys, combo))
        log(f"vaekit sweep: run {i + 1}/{len(combos)}: {' '.join(sets)}")
        res = _run_one(spec, fixed + sets, out / "runs" / _slug(name), resume, iw_samples, log)
        rows.append({"labels": dict(zip(keys, combo)), "run_dir": str(out / "runs" / _slug(name)), "result": res})
        names.append(name)
    intro = (f"Sweep of {', '.join(keys)} over {len(combos)} runs (fixed overrides: {' '.join(fixed) or 'none'}). "
             f"Rate and distortion in nats per example on the {rows[0]['result']['split']} split; NLL by importance "
             f"sampling (k = {rows[0]['result'].get('iw_samples', '-')}).")
    return _finish("sweep", spec, rows, keys, names, out, intro, curve=len(axes) == 1)


LOSS_VARIANTS = ("pointwise", "perceptual", "adversarial", "perceptual+adversarial")


def loss_variant_overrides(variant: str, perceptual_weight: float, adversarial_weight: float,
                           feature_steps: int, base_terms: Sequence[Dict[str, Any]] = ()) -> List[str]:
    """The ``--set`` overrides that turn a config into one variant of the loss study.

    ``base_terms`` are the config's own ``model.terms`` entries (as dicts); they are kept, and
    the variant's ``perceptual`` / ``adversarial`` entries appended.
    """
    if variant not in LOSS_VARIANTS:
        raise ConfigError(f"study losses: unknown variant {variant!r}; valid: {', '.join(LOSS_VARIANTS)}.")
    terms, weights = [dict(t) for t in base_terms if t["kind"] not in ("perceptual", "adversarial")], []
    if "perceptual" in variant:
        terms.append({"kind": "perceptual", "params": {"steps": feature_steps}})
        weights.append(f"perceptual: {perceptual_weight}")
    if "adversarial" in variant:
        terms.append({"kind": "adversarial", "params": {"loss": "hinge"}})
        weights.append(f"adv_gen: {adversarial_weight}")
    if not weights:
        return []
    flow = yaml.safe_dump(terms, default_flow_style=True, width=10_000).strip()
    return [f"model.terms={flow}", "objective.weights={" + ", ".join(weights) + "}"]


def study_losses(spec: str, overrides: Sequence[str] = (), out_dir: Optional[str | Path] = None, *,
                 variants: Sequence[str] = LOSS_VARIANTS, perceptual_weight: float = 100.0,
                 adversarial_weight: float = 5.0, feature_steps: int = 2000, resume: str = "auto",
                 iw_samples: Optional[int] = None, log: Callable[[str], None] = _err) -> Dict[str, Any]:
    """Pointwise vs + perceptual vs + adversarial reconstruction losses on the same data.

    The weights multiply the per-example terms (the perceptual term is a squared distance of
    unit-normalised features, at most 4; the hinge generator term is ``-D(x_hat)``), against a
    pointwise NLL of tens to hundreds of nats, hence defaults of 100 and 5.

    Returns the same structure as :func:`sweep`, one row per variant.
    """
    if any(k in o for o in overrides for k in ("objective.weights", "model.terms", "model.recon_losses")):
        raise ConfigError("study losses: the study sets model.terms and objective.weights itself; remove "
                          "them from --set (use --perceptual-weight / --adversarial-weight).")
    base = load_config(spec, list(overrides))
    base_terms = to_dict(base.model.terms)
    out = Path(out_dir) if out_dir is not None else Path("runs") / f"study-losses-{base.domain}-{base.name}"
    rows = []
    for i, v in enumerate(variants):
        sets = loss_variant_overrides(v, perceptual_weight, adversarial_weight, feature_steps, base_terms)
        log(f"vaekit study losses: variant {i + 1}/{len(variants)}: {v}")
        res = _run_one(spec, list(overrides) + sets, out / "runs" / _slug(v), resume, iw_samples, log)
        rows.append({"labels": {"variant": v}, "run_dir": str(out / "runs" / _slug(v)), "result": res})
    intro = (f"Reconstruction-loss study (Strano et al. 2026): the same data, model and seed with the pointwise "
             f"likelihood alone and with perceptual (weight {perceptual_weight}, a feature network trained by vaekit "
             f"for {feature_steps} steps: a classifier of the labels where the data has them, else an autoencoder's "
             f"encoder) and adversarial (hinge, weight {adversarial_weight}) terms. Distortion is the pointwise NLL "
             f"in nats; isotropy = participation ratio / D of the aggregate posterior's covariance; post. var CV = "
             f"coefficient of variation of the per-unit posterior variance (lower: spread more evenly).")
    return _finish("study losses", spec, rows, ["variant"], list(variants), out, intro, curve=False)
