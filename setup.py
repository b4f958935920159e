"""Packaging that follows the tree, so adding a domain edits no shared file.

pyproject.toml holds the static metadata. This file adds what is discovered:

* ``packages``: every folder with an ``__init__.py`` under ``core/``, ``domains/`` and
  ``pipelines/``, installed as ``vaekit.core``, ``vaekit.domains.*`` and ``vaekit.pipelines``
  (the layout keeps them at the repository root, mapped by pyproject's ``package-dir``;
  ``vaekit`` is a namespace package);
* ``extras_require``: one extra per domain, from the ``pip:`` list of its
  ``domains/<name>/domain.yaml`` entry, plus ``report``, ``tracking``, ``dev`` and ``all``
  (every domain's and the report's and tracking's requirements).

``tests/test_packaging.py`` imports this module (``setup()`` runs only as a script, which is how
setuptools' build backend executes it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent
TOP = {"core": "vaekit.core", "domains": "vaekit.domains", "pipelines": "vaekit.pipelines"}
EXTRAS = {
    "report": ["matplotlib>=3.7"],
    "tracking": ["tensorboard>=2.14", "mlflow>=2.9"],
    "dev": ["pytest>=7.4", "pytest-timeout>=2.2"],
}


def package_dirs() -> Dict[str, str]:
    """Import name -> folder (relative to the repository root) of every package."""
    found = {}
    for top, name in TOP.items():
        for init in sorted((ROOT / top).rglob("__init__.py")):
            rel = init.parent.relative_to(ROOT / top)
            if "__pycache__" not in rel.parts:
                found[".".join([name, *rel.parts])] = str(init.parent.relative_to(ROOT))
    return found


def domain_extras() -> Dict[str, List[str]]:
    """``{domain: pip requirements}`` from every ``domains/*/domain.yaml`` that lists some."""
    import yaml

    out = {}
    for entry in sorted((ROOT / "domains").glob("*/domain.yaml")):
        pip = (yaml.safe_load(entry.read_text()) or {}).get("pip") or []
        if pip:
            out[entry.parent.name] = [str(r) for r in pip]
    return out


def extras() -> Dict[str, List[str]]:
    """Every pip extra: the domains', ``report``, ``tracking``, ``dev`` and ``all``."""
    dom = domain_extras()
    everything = sorted({r for reqs in list(dom.values()) + [EXTRAS["report"], EXTRAS["tracking"]] for r in reqs})
    return {**dom, **EXTRAS, "all": everything}


if __name__ == "__main__":
    from setuptools import setup

    setup(packages=list(package_dirs()), extras_require=extras())
