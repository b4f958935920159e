"""Domain discovery: a domain is its folder plus one declarative entry, ``domain.yaml``.

Every package folder ``domains/<name>/`` that holds a ``domain.yaml`` and a ``domain.py``
(defining ``DOMAIN``, a :class:`~vaekit.domains.base.Domain`) is a domain; nothing else lists
the domains. A third-party package adds one the same way and declares its package in the
``vaekit.domains`` entry-point group (``[project.entry-points."vaekit.domains"]
mydomain = "mypkg.mydomain"``). The entry is plain data, read without importing the domain
(so listing domains never imports their heavy dependencies)::

    name: recsys                       # must equal the folder name
    summary: recommendation from implicit feedback
    order: 4                           # position in listings and in `vaekit demo`
    pip: ["scipy>=1.10", "pandas>=2.0"]   # the pip extra `vaekit[recsys]` (read by setup.py)
    requires: [scipy, pandas]          # modules checked before the domain is used
    demo:                              # optional: the domain's row in `vaekit demo`
      metric: {key: rank/ndcg@100, label: NDCG@100}
      baseline: {key: baseline/ease_ndcg@100, label: EASE}
      overrides: []                    # --set overrides that keep the demo short
    smoke: [data.synthetic_users=300]  # --set overrides shrinking a packaged config to seconds
    needs_data: [ml100k]               # packaged configs that read the data root (slow tests only)
    sample_file: recs.csv              # a file name in the domain's sample format (contract check)

``baseline`` is either ``{key, label}`` (one result key) or ``{prefix, suffix, label}`` (the
best of every ``prefix*suffix`` key, e.g. the best PyOD detector).
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple


from vaekit.core.errors import ConfigError
from vaekit.core.yamlio import load_yaml

ENTRY_FILE = "domain.yaml"
ENTRY_POINT_GROUP = "vaekit.domains"
_KEYS = {"name", "summary", "order", "pip", "demo", "smoke", "needs_data", "sample_file", "requires"}


@dataclass(frozen=True)
class DemoSpec:
    """A domain's row in ``vaekit demo`` (``vaekit.pipelines.demo.DemoEntry``).

    Attributes
    ----------
    domain : str
    metric : (key, label)
        The key metric in :func:`~vaekit.pipelines.runs.evaluate_run`'s result.
    baseline : (key, label) or (prefix, suffix, label)
        The baseline's key, or every key ``prefix*suffix`` of which the best is shown.
    overrides : tuple of str
        ``--set`` overrides that keep the whole demo near 10 minutes on 2 CPU cores.
    """

    domain: str
    metric: Tuple[str, str]
    baseline: Tuple[str, ...] = ()
    overrides: Tuple[str, ...] = ()


@dataclass(frozen=True)
class DomainEntry:
    """A domain's declarative entry (its ``domain.yaml``), see the module docstring.

    Attributes
    ----------
    name : str
    package : str
        Import name of the domain's package (its ``domain`` module defines ``DOMAIN``).
    folder : Path
    summary : str
    order : int
    pip : tuple of str
        Requirements of the domain's pip extra.
    requires : tuple of str
        Modules the domain imports; a missing one raises
        :class:`~vaekit.core.errors.MissingDependencyError` naming ``pip install 'vaekit[<name>]'``.
    demo : DemoSpec, optional
    smoke : tuple of str
    needs_data : tuple of str
        Packaged config names (without the domain prefix) that read the benchmark data root.
    sample_file : str
        A file name in the domain's usual sample format (``save_samples``), for the contract check.
    """

    name: str
    package: str
    folder: Path
    summary: str = ""
    order: int = 100
    pip: Tuple[str, ...] = ()
    requires: Tuple[str, ...] = ()
    demo: Optional[DemoSpec] = None
    smoke: Tuple[str, ...] = ()
    needs_data: Tuple[str, ...] = field(default_factory=tuple)
    sample_file: str = "samples.csv"

    @property
    def module(self) -> str:
        return f"{self.package}.domain"


def _strings(raw: Any, where: str) -> Tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise ConfigError(f"{where}: must be a list of strings; got {raw!r}. Write e.g. [a, b].")
    return tuple(raw)


def _pair(raw: Any, keys: Tuple[str, ...], where: str) -> Tuple[str, ...]:
    if not isinstance(raw, dict) or set(raw) != set(keys):
        raise ConfigError(f"{where}: must be a mapping with exactly the keys {', '.join(keys)}; got {raw!r}.")
    return tuple(str(raw[k]) for k in keys)


def _demo(raw: Any, domain: str, where: str) -> Optional[DemoSpec]:
    if raw is None:
        return None
    if not isinstance(raw, dict) or "metric" not in raw or set(raw) - {"metric", "baseline", "overrides"}:
        raise ConfigError(f"{where}: a mapping with metric (and optionally baseline, overrides); got {raw!r}.")
    baseline: Tuple[str, ...] = ()
    b = raw.get("baseline")
    if b is not None:
        baseline = _pair(b, ("key", "label") if isinstance(b, dict) and "key" in b else ("prefix", "suffix", "label"),
                         f"{where}.baseline")
    return DemoSpec(domain, _pair(raw["metric"], ("key", "label"), f"{where}.metric"), baseline,
                    _strings(raw.get("overrides"), f"{where}.overrides"))


def read_entry(folder: Path, package: str) -> DomainEntry:
    """Parse ``folder/domain.yaml`` (the domain whose import name is ``package``).

    Raises
    ------
    ConfigError
        Naming the file and key when the entry is malformed.
    """
    path = Path(folder) / ENTRY_FILE
    where = str(path)
    raw = load_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a domain entry is a mapping (name, summary, ...); got {type(raw).__name__}.")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; valid: {', '.join(sorted(_KEYS))}.")
    name = raw.get("name")
    if name != Path(folder).name:
        raise ConfigError(f"{where}.name: must equal the folder name {Path(folder).name!r}; got {name!r}.")
    order = raw.get("order", 100)
    if not isinstance(order, int):
        raise ConfigError(f"{where}.order: an integer; got {order!r}.")
    return DomainEntry(name=name, package=package, folder=Path(folder), summary=str(raw.get("summary", "")),
                       order=order, pip=_strings(raw.get("pip"), f"{where}.pip"),
                       requires=_strings(raw.get("requires"), f"{where}.requires"),
                       demo=_demo(raw.get("demo"), name, f"{where}.demo"),
                       smoke=_strings(raw.get("smoke"), f"{where}.smoke"),
                       needs_data=_strings(raw.get("needs_data"), f"{where}.needs_data"),
                       sample_file=str(raw.get("sample_file", "samples.csv")))


def _builtin() -> List[DomainEntry]:
    here = Path(__file__).resolve().parent
    pkg = __name__.rsplit(".", 1)[0]
    return [read_entry(f.parent, f"{pkg}.{f.parent.name}") for f in sorted(here.glob(f"*/{ENTRY_FILE}"))
            if (f.parent / "domain.py").is_file()]


def _plugins() -> List[DomainEntry]:
    """Domains of other installed packages (entry-point group ``vaekit.domains``)."""
    from importlib.metadata import entry_points

    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = importlib.util.find_spec(ep.value)
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(f"entry point {ENTRY_POINT_GROUP}:{ep.name}: {ep.value!r} is not an importable "
                              f"package; it must name a package holding domain.yaml and domain.py.")
        found.append(read_entry(Path(list(spec.submodule_search_locations)[0]), ep.value))
    return found


_ENTRIES: Optional[Dict[str, DomainEntry]] = None


def domain_entries() -> Dict[str, DomainEntry]:
    """Every discovered domain's entry by name, in ``order`` (then name)."""
    global _ENTRIES
    if _ENTRIES is None:
        found: Dict[str, DomainEntry] = {}
        for e in _builtin() + _plugins():
            if e.name in found:
                raise ConfigError(f"domain {e.name!r} is declared twice: {found[e.name].folder} and {e.folder}. "
                                  f"Rename one of them.")
            found[e.name] = e
        _ENTRIES = dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))
    return _ENTRIES


__all__ = ["DomainEntry", "DemoSpec", "domain_entries", "read_entry", "ENTRY_FILE", "ENTRY_POINT_GROUP"]
