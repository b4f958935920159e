"""vaekit.domains: domain packages (toy, and the applied domains) plugged into the core.

Domains are discovered (a folder with a ``domain.yaml`` entry, see :mod:`.entries`), looked
up by name and imported lazily, so using one never imports another's dependencies.
"""
from __future__ import annotations

import importlib
from typing import Dict, List

from vaekit.core.errors import ConfigError
from vaekit.core.registry import did_you_mean

from .base import Domain, EvalContext, Metric
from .entries import DomainEntry, domain_entries

_CACHE: Dict[str, Domain] = {}


def domain_names() -> List[str]:
    """Names of all discovered domains (folders with a ``domain.yaml``, and plug-ins), in
    their declared order."""
    return list(domain_entries())


def get_domain(name: str) -> Domain:
    """The :class:`Domain` named ``name`` (its ``domain`` module is imported on first use)."""
    entries = domain_entries()
    if name not in entries:
        raise ConfigError(f"domain: unknown domain {name!r}.{did_you_mean(name, list(entries))} "
                          f"Valid: {', '.join(entries)}.")
    if name not in _CACHE:
        module = importlib.import_module(entries[name].module)
        dom = getattr(module, "DOMAIN", None)
        if not isinstance(dom, Domain) or dom.name != name:
            raise ConfigError(f"{entries[name].module}: must define DOMAIN, a Domain named {name!r}; got {dom!r}.")
        _CACHE[name] = dom
    return _CACHE[name]


__all__ = ["Domain", "DomainEntry", "EvalContext", "Metric", "domain_entries", "get_domain", "domain_names"]
