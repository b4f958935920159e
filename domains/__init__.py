"""vaekit.domains: domain packages (toy, and the applied domains) plugged into the core.

Domains are looked up by name and imported lazily, so using one never imports another's
dependencies.
"""
from __future__ import annotations

import importlib
from typing import Dict, List

from vaekit.core.errors import ConfigError
from vaekit.core.registry import did_you_mean

from .base import Domain, EvalContext, Metric

# name -> module defining a `DOMAIN` instance. Adding a domain = one line here.
_DOMAIN_MODULES: Dict[str, str] = {
    "toy": "vaekit.domains.toy.domain",
    "molecules": "vaekit.domains.molecules.domain",
    "anomaly": "vaekit.domains.anomaly.domain",
    "recsys": "vaekit.domains.recsys.domain",
    "text": "vaekit.domains.text.domain",
    "images": "vaekit.domains.images.domain",
}

_CACHE: Dict[str, Domain] = {}


def domain_names() -> List[str]:
    """Names of all known domains."""
    return sorted(_DOMAIN_MODULES)


def get_domain(name: str) -> Domain:
    """The :class:`Domain` registered as ``name`` (imported on first use)."""
    if name not in _DOMAIN_MODULES:
        raise ConfigError(f"domain: unknown domain {name!r}.{did_you_mean(name, _DOMAIN_MODULES)} "
                          f"Valid: {', '.join(domain_names())}.")
    if name not in _CACHE:
        _CACHE[name] = importlib.import_module(_DOMAIN_MODULES[name]).DOMAIN
    return _CACHE[name]


__all__ = ["Domain", "EvalContext", "Metric", "get_domain", "domain_names"]
