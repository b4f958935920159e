"""The run report: one self-contained static ``report.html`` per run.

``vaekit evaluate RUN`` writes ``RUN/report.html``: the key metrics, the training curves (from
``metrics.jsonl``), the diagnostics every vaekit model shares (rate, distortion, KL per
dimension, active units, posterior-variance profile, isotropy of the aggregate posterior,
collapse warnings), a 2-D projection of the latent space coloured by label or property, and
the domain's own view (:meth:`vaekit.domains.base.Domain.report_sections`). Figures are PNGs
embedded as data URIs, so the file needs nothing beside it; without matplotlib the report
keeps every number and says where its figures would be.

The page marks on load how many of its images decoded (``<body data-images-ok="k/n">``), which
the browser test reads from headless Chromium.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from vaekit.core.checkpoint import atomic_path
from vaekit.domains.report_parts import (Section, curve_figure, esc, figure, figures_or_note, fmt, paragraph,
                                         plotting, table)

#: Points drawn in the latent projection (the first N of the evaluated split).
LATENT_POINTS = 3000
#: Labels with at most this many distinct integer values are coloured as classes.
MAX_CLASSES = 20

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;
color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:1.6em}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f4f4f4}caption{text-align:left;font-weight:600;padding:.2em 0}
figure{display:inline-block;margin:.4em 1em .4em 0;vertical-align:top}figure img{max-width:100%;
border:1px solid #eee}figcaption{font-size:.85em;color:#555;max-width:520px}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.4em .8em}.ok{color:#2a7d2a}
.meta{color:#666;font-size:.9em}
"""

_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  document.body.setAttribute("data-images-ok", ok + "/" + imgs.length);
});
"""

# Diagnostics shown in the table: (key, label, what it means).
_DIAGNOSTICS = [
    ("rate", "rate R (nats)", "E_x KL(q(z|x) || p(z)): what the latent stores"),
    ("distortion", "distortion D (nats)", "E_x E_q[-log p(x|z)]"),
    ("elbo", "ELBO", "-(R + D)"),
    ("nll_iw", "NLL (importance-weighted)", "-log p(x) estimated with iw_samples samples (Burda et al. 2016)"),
    ("iw_samples", "IW samples", ""),
    ("mutual_info", "mutual information I(x; z)", "Hoffman & Johnson 2016 estimator"),
    ("active_units", "active units", "Cov_x(E_q[z_d]) > 0.01 (Burda et al. 2016)"),
    ("n_units", "latent units", ""),
    ("participation_ratio", "participation ratio", "(sum l)^2 / sum l^2 of the aggregate-posterior covariance"),
    ("isotropy", "isotropy", "participation ratio / D (1 = isotropic)"),
    ("condition_number", "condition number", "largest / smallest eigenvalue"),
    ("collapse", "posterior collapse", ""),
]


def read_metrics(run_dir: Path) -> List[Dict[str, Any]]:
    """The records of ``metrics.jsonl`` (a torn last line from a killed run is skipped)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _smooth(values: Sequence[float], n_points: int = 400) -> tuple:
    """Bin means of a long train curve, so thousands of noisy steps read as one line."""
    v = np.asarray(values, dtype=float)
    if len(v) <= n_points:
        return np.arange(len(v)), v
    edges = np.linspace(0, len(v), n_points + 1).astype(int)
    return edges[:-1], np.array([v[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])


def training_section(records: List[Dict[str, Any]]) -> Section:
    """Train/validation loss and KL against the step, and every other validation quantity."""
    train = [r for r in records if r.get("split") == "train"]
    val = [r for r in records if r.get("split") == "val"]
    if not train and not val:
        return Section("Training curves", paragraph("No metrics.jsonl records (the run has not trained)."))
    figs = []
    for key, ylabel in (("loss", "loss (nats)"), ("kl", "KL (nats)")):
        series = []
        tr = [(r["step"], r[key]) for r in train if isinstance(r.get(key), (int, float))]
        if tr:
            idx, ys = _smooth([y for _, y in tr])
            series.append(("train", [tr[i][0] for i in idx], ys))
        va = [(r["step"], r[key]) for r in val if isinstance(r.get(key), (int, float))]
        if va:
            series.append(("validation", [s for s, _ in va], [y for _, y in va]))
        if series:
            figs.append(curve_figure(series, "step", ylabel, f"{key} during training", f"{key} curve"))
    extra = sorted({k for r in val for k, v in r.items() if isinstance(v, (int, float))
                    and k not in ("step", "loss", "kl", "recon", "neg_elbo", "elbo")})
    for key in extra[:6]:
        pts = [(r["step"], r[key]) for r in val if isinstance(r.get(key), (int, float))]
        figs.append(curve_figure([("validation", [s for s, _ in pts], [y for _, y in pts])], "step", key,
                                 f"validation {key}", f"validation {key} curve"))
    last = train[-1] if train else {}
    note = paragraph(f"{len(train)} train records, {len(val)} validations; last step {last.get('step', '-')}.")
    return Section("Training curves", note + figures_or_note(figs))


def metrics_section(result: Dict[str, Any]) -> Section:
    """The domain's metrics (every key with a declared direction), baselines included."""
    directions = result.get("metric_directions", {})
    rows = [(k, result[k], "higher" if d == "higher" else "lower") for k, d in directions.items()
            if isinstance(result.get(k), (int, float))]
    if not rows:
        return Section("Domain metrics", paragraph("This domain reports no metrics beyond the diagnostics."))
    return Section("Domain metrics", table(["metric", "value", "better"], rows,
                                           caption=f"{result.get('split', '')} split"))


def diagnostics_section(result: Dict[str, Any]) -> Section:
    """The shared latent diagnostics: table, collapse warnings, KL / variance / spectrum plots."""
    rows = [(label, result[k], why) for k, label, why in _DIAGNOSTICS if k in result and result[k] is not None]
    body = table(["quantity", "value", "meaning"], rows)
    warnings = list(result.get("warnings") or []) + list(result.get("notes") or [])
    if warnings:
        body += "".join(f'<p class="warn">{esc(w)}</p>' for w in warnings)
    elif result.get("collapse") == "none":
        body += '<p class="ok">No posterior collapse: every latent unit carries information.</p>'
    figs: List[Optional[str]] = []
    plt = plotting()
    kl = result.get("kl_per_dim") or []
    if plt is not None and kl:
        fig, ax = plt.subplots(figsize=(5.0, 3.4))
        ax.bar(range(len(kl)), kl, color="#4c72b0")
        ax.set_xlabel("latent unit")
        ax.set_ylabel("KL (nats)")
        ax.set_title("KL per latent unit")
        fig.tight_layout()
        figs.append(figure(fig, "KL per dimension", "Units near 0 are inactive (collapsed)."))
    for key, title, ylabel, cap in (
            ("posterior_variance", "posterior variance per unit (sorted)", "E_x Var_q[z_d|x]",
             "Near 1: the unit follows the prior (unused); small: it encodes the input."),
            ("spectrum", "aggregate-posterior covariance spectrum", "eigenvalue",
             "A flat spectrum is an isotropic latent.")):
        v = sorted((float(x) for x in result.get(key) or []), reverse=True)
        if v and plt is not None:
            figs.append(curve_figure([(key, range(1, len(v) + 1), v)], "rank", ylabel, title, title, cap,
                                     logy=min(v) > 0))
    return Section("Diagnostics of the latent", body + figures_or_note(figs))


def project_2d(z: np.ndarray) -> tuple:
    """PCA to 2-D by SVD of the centred embeddings: ``(N, D) -> (N, 2)`` and the explained-variance ratios."""
    zc = z - z.mean(0, keepdims=True)
    if z.shape[1] == 1:
        return np.concatenate([zc, np.zeros_like(zc)], 1), np.array([1.0, 0.0])
    _, s, vt = np.linalg.svd(zc, full_matrices=False)
    var = s ** 2
    ratio = var[:2] / max(var.sum(), 1e-12)
    return zc @ vt[:2].T, ratio


def _colour_values(y: Optional[np.ndarray], info: Any) -> tuple:
    """``(values, kind, name)``: the labels (``"class"``), a property (``"value"``) or nothing."""
    if y is None:
        return None, None, ""
    y = np.asarray(y)
    if y.ndim == 2 and 1 <= y.shape[1] <= 16:
        names = (getattr(info, "extra", {}) or {}).get("property_names") or []
        return y[:, 0].astype(float), "value", (names[0] if names else "property 0")
    if y.ndim != 1:
        return None, None, ""
    if np.issubdtype(y.dtype, np.integer) or np.all(np.mod(y, 1) == 0):
        if len(np.unique(y)) <= MAX_CLASSES:
            return y.astype(int), "class", "label"
    return y.astype(float), "value", "target"


def latent_section(ctx: Any) -> Section:
    """A 2-D PCA projection of the posterior means of the evaluated split."""
    z, y = ctx.embeddings()
    z = z[:LATENT_POINTS].numpy().astype(float)
    yv = None if y is None else y[:LATENT_POINTS].numpy()
    if z.shape[0] < 2:
        return Section("Latent space", paragraph("Fewer than two examples: nothing to project."))
    xy, ratio = project_2d(z)
    vals, kind, name = _colour_values(yv, ctx.data.info)
    plt = plotting()
    if plt is None:
        return Section("Latent space", paragraph(f"PCA of {len(z)} posterior means; explained variance "
                                                 f"{ratio[0]:.2f} + {ratio[1]:.2f}.") + figures_or_note([]))
    fig, ax = plt.subplots(figsize=(5.4, 4.4))
    if kind == "class":
        for c in np.unique(vals):
            m = vals == c
            ax.scatter(xy[m, 0], xy[m, 1], s=6, alpha=0.7, label=str(c))
        ax.legend(fontsize=7, markerscale=2, title=name, loc="best")
    elif kind == "value":
        sc = ax.scatter(xy[:, 0], xy[:, 1], s=6, alpha=0.7, c=vals, cmap="viridis")
        fig.colorbar(sc, ax=ax, label=name)
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=6, alpha=0.6)
    ax.set_xlabel(f"PC 1 ({100 * ratio[0]:.0f} % of variance)")
    ax.set_ylabel(f"PC 2 ({100 * ratio[1]:.0f} % of variance)")
    ax.set_title("latent space (posterior means, PCA)")
    fig.tight_layout()
    coloured = f", coloured by {name}" if kind else " (the data has no labels)"
    cap = f"{len(z)} examples of the {ctx.split} split{coloured}."
    return Section("Latent space", figure(fig, "latent projection", cap))


def run_sections(run_dir: Path, result: Dict[str, Any], ctx: Any = None, domain: Any = None) -> List[Section]:
    """Every section of a run's report, in reading order.

    Parameters
    ----------
    run_dir : Path
        The run folder (for ``metrics.jsonl``).
    result : dict
        What :func:`vaekit.pipelines.runs.evaluate_run` returned.
    ctx : EvalContext, optional
        The evaluation context; without it the latent projection and the domain's view are left out.
    domain : Domain, optional
    """
    sections = [metrics_section(result), training_section(read_metrics(run_dir)), diagnostics_section(result)]
    if ctx is not None:
        sections.append(latent_section(ctx))
        if domain is not None:
            sections.extend(domain.report_sections(ctx, result))
    return sections


def render(title: str, sections: List[Section], subtitle: str = "") -> str:
    """The whole HTML page."""
    toc = "".join(f'<li><a href="#s{i}">{esc(s.title)}</a></li>' for i, s in enumerate(sections))
    body = "".join(f'<h2 id="s{i}">{esc(s.title)}</h2>{s.body}' for i, s in enumerate(sections))
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{_CSS}</style><script>{_SCRIPT}</script></head><body>"
            f'<h1>{esc(title)}</h1><p class="meta">{esc(subtitle)} Written by vaekit on {stamp}.</p>'
            f"<ul>{toc}</ul>{body}</body></html>")


def write_html(path: Path, title: str, sections: List[Section], subtitle: str = "") -> Path:
    """Render and write atomically; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(render(title, sections, subtitle), encoding="utf-8")
    return path


def write_run_report(run_dir: str | Path, result: Dict[str, Any], ctx: Any = None, domain: Any = None) -> Path:
    """Write ``RUN/report.html`` and return its path."""
    run_dir = Path(run_dir)
    subtitle = (f"Run {run_dir} | domain {result.get('domain')} | config {result.get('name')} | "
                f"step {fmt(result.get('step'))} | {result.get('split')} split, "
                f"{fmt(result.get('n_examples'))} examples.")
    title = f"vaekit report: {result.get('domain')}:{result.get('name')}"
    sections = run_sections(run_dir, result, ctx, domain)
    # The sections as data too, so a combined page (``vaekit demo``) reuses them without re-evaluating.
    with atomic_path(run_dir / "report.json") as tmp:
        tmp.write_text(json.dumps({"title": title, "subtitle": subtitle,
                                   "sections": [{"title": s.title, "body": s.body} for s in sections]}))
    return write_html(run_dir / "report.html", title, sections, subtitle)


def read_run_sections(run_dir: str | Path) -> List[Section]:
    """The sections :func:`write_run_report` saved in ``RUN/report.json``."""
    data = json.loads((Path(run_dir) / "report.json").read_text())
    return [Section(s["title"], s["body"]) for s in data["sections"]]
