"""``vaekit demo``: the whole toolkit on every domain's embedded default, in one command.

Each domain's packaged ``default`` config (generated or bundled data, nothing downloaded) is
trained into ``OUT/<domain>``, evaluated, and summarised by its key metric beside the
baseline the domain runs side by side (kNN on the raw input, PyOD detectors, EASE, copying
the input); ``OUT/report.html`` gathers the summary and every run's report in one page.

Interrupting (Ctrl-C) keeps the checkpoint of the run in progress; running the same command
again resumes it and skips the domains already done.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from vaekit.core.errors import ConfigError
from vaekit.domains.entries import DemoSpec, domain_entries
from vaekit.domains.report_parts import Section, esc, fmt, paragraph, table

from .config import load_config
from .report import read_run_sections, write_html, write_run_report
from .runlock import run_lock
from .runs import _err, evaluation, train_run


#: One domain of the demo: the ``demo:`` block of its ``domain.yaml`` (``domain``, ``metric``,
#: ``baseline``, ``overrides``; see :class:`~vaekit.domains.entries.DemoSpec`).
DemoEntry = DemoSpec


def demo_entries() -> List[DemoEntry]:
    """The demo's rows: every discovered domain that declares a ``demo:`` block, in order."""
    return [e.demo for e in domain_entries().values() if e.demo is not None]


DEMO: List[DemoEntry] = demo_entries()


def _baseline(entry: DemoEntry, res: Dict[str, Any]) -> Tuple[str, Optional[float], str]:
    """``(label, value, rank)`` of the entry's baseline in ``res``: value ``None`` when it reports
    none; with a family of baselines (``prefix*suffix``; higher is better, as for the best one
    shown) ``rank`` is vaekit's place among them and itself, e.g. ``"1 of 5"`` (ties count
    half, as in ADBench's ranks), else ``"-"``."""
    if len(entry.baseline) == 2:
        key, label = entry.baseline
        return label, res.get(key), "-"
    if len(entry.baseline) == 3:
        prefix, suffix, label = entry.baseline
        found = {k[len(prefix):-len(suffix)]: v for k, v in res.items()
                 if k.startswith(prefix) and k.endswith(suffix) and isinstance(v, (int, float))}
        if found:
            name = max(found, key=found.get)
            ours = res.get(entry.metric[0])
            rank = "-"
            if isinstance(ours, (int, float)):
                place = 1 + sum(v > ours for v in found.values()) + 0.5 * sum(v == ours for v in found.values())
                rank = f"{place:g} of {len(found) + 1}"
            return f"{label} ({name})", found[name], rank
    return "-", None, "-"


def _done(run_dir: Path) -> bool:
    """Evaluated after its last checkpoint: nothing left to do for this domain."""
    last = run_dir / "checkpoints" / "last.pt"
    rep = run_dir / "report.json"
    return last.is_file() and rep.is_file() and (run_dir / "eval.json").is_file() \
        and rep.stat().st_mtime >= last.stat().st_mtime


def _entries(domains: Optional[Sequence[str]]) -> List[DemoEntry]:
    if not domains:
        return list(DEMO)
    known = {e.domain: e for e in DEMO}
    bad = [d for d in domains if d not in known]
    if bad:
        raise ConfigError(f"--domain: unknown demo domain(s) {bad}; valid: {', '.join(known)}.")
    return [known[d] for d in domains]


def run_demo(domains: Optional[Sequence[str]] = None, out_dir: str | Path = "runs/demo", *, fresh: bool = False,
             progress: bool = True, log: Callable[[str], None] = _err) -> Dict[str, Any]:
    """Train, evaluate and report every (or the named) domain's default config.

    Returns
    -------
    dict
        ``rows`` (one summary per domain: metric, value, baseline, vaekit's rank among a family
        of baselines, rate, active units, seconds),
        ``table`` (Markdown) and ``report`` (the path of the combined ``report.html``).
    """
    out = Path(out_dir)
    entries = _entries(domains)
    rows, pages = [], []
    for i, e in enumerate(entries):
        run_dir = out / e.domain
        spec = f"{e.domain}:default"
        sets = list(e.overrides) + ([] if progress else ["train.progress=false"])
        t0 = time.time()
        if fresh or not _done(run_dir):
            log(f"vaekit demo [{i + 1}/{len(entries)}] {spec}: training -> {run_dir}")
            with run_lock(run_dir):  # one writer from training to report (the calls below re-enter it)
                summary = train_run(load_config(spec, sets), run_dir, resume="never" if fresh else "auto", log=log)
                log(f"vaekit demo [{i + 1}/{len(entries)}] {spec}: evaluating")
                res, ctx, domain = evaluation(run_dir, tracking_from_config=True)
                write_run_report(run_dir, res, ctx, domain)
            train_s = summary.get("elapsed_s")
        else:
            log(f"vaekit demo [{i + 1}/{len(entries)}] {spec}: already done in {run_dir} (skipped)")
            res = json.loads((run_dir / "eval.json").read_text())
            train_s = None
        if e.metric[0] not in res:  # say so rather than print a silent "-"
            log(f"vaekit demo: {spec}'s evaluation has no key {e.metric[0]!r} (its keys: "
                f"{', '.join(k for k in res if isinstance(res[k], (int, float)))[:300]}); the table shows '-'.")
        b_label, b_value, b_rank = _baseline(e, res)
        rows.append({"domain": e.domain, "config": spec, "metric": e.metric[1], "value": res.get(e.metric[0]),
                     "baseline": b_label, "baseline_value": b_value, "rank": b_rank, "rate": res.get("rate"),
                     "active_units": f"{res.get('active_units')}/{res.get('n_units')}",
                     "collapse": res.get("collapse"), "train_s": train_s, "wall_s": time.time() - t0,
                     "run_dir": str(run_dir)})
        pages.append((e, run_dir))
    header = ["domain", "key metric", "vaekit", "baseline", "baseline value", "rank", "rate (nats)", "active units",
              "time"]
    cells = [[r["domain"], r["metric"], r["value"], r["baseline"], r["baseline_value"], r["rank"], r["rate"],
              r["active_units"], f"{r['wall_s']:.0f} s" if r["train_s"] is not None else "done before"]
             for r in rows]
    md = "| " + " | ".join(header) + " |\n|" + " --- |" * len(header) + "\n" + "".join(
        "| " + " | ".join(fmt(c) for c in row) + " |\n" for row in cells)
    sections = [Section("Summary", table(header, cells) + paragraph(
        "Each domain's embedded default trained on CPU; the baseline runs on the same split. "
        "Details of every run follow; each run also has its own report.html."))]
    for e, run_dir in pages:
        link = f'<p><a href="{esc(e.domain)}/report.html">{esc(run_dir)}/report.html</a></p>'
        sections.append(Section(f"{e.domain}: {e.domain}:default", link))
        sections.extend(Section(f"{e.domain} - {s.title}", s.body) for s in read_run_sections(run_dir))
    report = write_html(out / "report.html", "vaekit demo", sections,
                        f"{len(rows)} domain(s), runs in {out}.")
    return {"rows": rows, "table": md, "report": str(report)}
