"""``vaekit runs``: the past runs under a folder, one line each with their key metrics.

A run is a folder holding ``config.yaml`` (what ``vaekit train`` writes); its numbers come from
``eval.json`` (``vaekit evaluate``) or else ``diagnostics.json`` (the end of training, on the
validation split), and its progress from ``metrics.jsonl``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from vaekit.core.errors import ConfigError
from vaekit.core.yamlio import load_yaml

#: Folder depth searched below the root (runs/<name>, runs/study-x/runs/<variant>, ...).
MAX_DEPTH = 4


def _read_json(path: Path) -> Optional[Dict[str, Any]]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _last_step(run_dir: Path) -> Optional[int]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return None
    step = None
    for line in path.read_text().splitlines()[-50:]:
        try:
            step = json.loads(line).get("step", step)
        except json.JSONDecodeError:
            continue
    return step


def _key_metric(domain: str, res: Dict[str, Any]) -> str:
    """``key=value`` of the domain's headline metric (its ``domain.yaml`` demo metric), if present."""
    from vaekit.domains.entries import domain_entries

    entry = domain_entries().get(domain)
    key = entry.demo.metric[0] if entry is not None and entry.demo is not None else None
    if key is not None and isinstance(res.get(key), (int, float)):
        return f"{key}={res[key]:.4g}"
    return ""


def find_runs(root: str | Path = "runs") -> List[Dict[str, Any]]:
    """Every run below ``root`` (newest first) with its key numbers.

    Returns
    -------
    list of dict
        ``run_dir``, ``config`` (``domain:name``), ``step``, ``split``, ``rate``, ``nll``,
        ``active_units``, ``key_metric``, ``evaluated`` and ``modified`` (a local time).
    """
    root = Path(root)
    found = []
    for cfg_file in sorted(root.glob("**/config.yaml")):
        run_dir = cfg_file.parent
        if len(run_dir.relative_to(root).parts) > MAX_DEPTH:
            continue
        try:
            cfg = load_yaml(cfg_file) or {}
        except ConfigError:  # not a readable run config: not listed
            continue
        if not isinstance(cfg, dict) or "domain" not in cfg:
            continue
        ev = _read_json(run_dir / "eval.json")
        res = ev or _read_json(run_dir / "diagnostics.json") or {}
        mtime = max(p.stat().st_mtime for p in run_dir.iterdir())
        found.append({
            "run_dir": str(run_dir), "config": f"{cfg['domain']}:{cfg.get('name', 'run')}",
            "step": res.get("step") if ev else _last_step(run_dir), "split": res.get("split", "-"),
            "rate": res.get("rate"), "nll": res.get("nll_iw", -res["elbo"] if "elbo" in res else None),
            "active_units": (f"{res['active_units']}/{res['n_units']}" if "active_units" in res else "-"),
            "key_metric": _key_metric(cfg["domain"], res), "evaluated": ev is not None,
            "modified": time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime)), "_mtime": mtime})
    found.sort(key=lambda r: r["_mtime"], reverse=True)
    for r in found:
        del r["_mtime"]
    return found


def format_runs(rows: List[Dict[str, Any]]) -> str:
    """A plain-text table of :func:`find_runs`' rows."""
    if not rows:
        return "no runs found\n"
    head = ["modified", "run", "config", "step", "split", "rate", "NLL", "active", "key metric"]

    def num(v):
        return "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))

    table = [head] + [[r["modified"], r["run_dir"], r["config"], num(r["step"]),
                       r["split"] + ("" if r["evaluated"] else " (train)"), num(r["rate"]), num(r["nll"]),
                       r["active_units"], r["key_metric"]] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n" for row in table)
