"""Building blocks of the HTML run report, shared by the pipelines and every domain's view.

A report is a list of :class:`Section` objects; each holds ready HTML (text escaped, images
embedded as base64 PNG data URIs), so the file ``report.html`` is self-contained: it opens
from disk, by mail or in a CI artefact without the run folder beside it.

Domains add their own view by overriding :meth:`vaekit.domains.base.Domain.report_sections`
and composing these helpers; matplotlib (the ``report`` extra) draws the figures, and
:func:`plotting` returns ``None`` without it so a report still lists every number.
"""
from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Sequence


@dataclass
class Section:
    """One titled block of a report.

    Attributes
    ----------
    title : str
        Plain text (escaped on output).
    body : str
        HTML, built with :func:`table`, :func:`figure`, :func:`paragraph`, :func:`png_image`.
    """

    title: str
    body: str


def esc(value: Any) -> str:
    """HTML-escape ``str(value)``."""
    return html.escape(str(value), quote=True)


def fmt(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (ints as they are), anything else as text."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def paragraph(text: str) -> str:
    """``<p>`` of escaped plain text."""
    return f"<p>{esc(text)}</p>"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "", digits: int = 4) -> str:
    """An HTML table; numbers formatted by :func:`fmt`, everything escaped."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(fmt(v, digits))}</td>" for v in r) + "</tr>" for r in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def png_image(png: bytes, alt: str, caption: str = "") -> str:
    """An embedded PNG (``data:`` URI) in a ``<figure>``."""
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{src}" alt="{esc(alt)}">{cap}</figure>'


def plotting():
    """``matplotlib.pyplot`` on the non-interactive Agg backend, or ``None`` if not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def figure(fig, alt: str, caption: str = "") -> str:
    """Render a matplotlib figure to an embedded PNG and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return png_image(buf.getvalue(), alt, caption)


def no_plots_note() -> str:
    """What a report says in place of its figures when matplotlib is missing."""
    return paragraph("(figures need matplotlib: pip install 'vaekit[report]')")


def curve_figure(series: Sequence[tuple], xlabel: str, ylabel: str, title: str, alt: str,
                 caption: str = "", logy: bool = False) -> Optional[str]:
    """Line plot of ``[(label, xs, ys), ...]`` as an embedded figure (``None`` without matplotlib)."""
    plt = plotting()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for label, xs, ys in series:
        ax.plot(list(xs), list(ys), label=label, marker="." if len(list(xs)) <= 30 else None)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return figure(fig, alt, caption)


def figures_or_note(parts: List[Optional[str]]) -> str:
    """Join figure HTML, or the missing-matplotlib note when every part is ``None``."""
    kept = [p for p in parts if p]
    return "".join(kept) if kept else no_plots_note()
