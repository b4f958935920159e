"""Lazy package attributes: a domain package names its public objects without importing them.

``import vaekit.domains.molecules`` must stay cheap (no RDKit, no torch_geometric) until a name
is used, so each domain ``__init__`` maps names to the submodule that defines them (PEP 562
module ``__getattr__``)::

    __getattr__, __all__ = lazy_exports(__name__, {"load_molecules": ".loading", "design": None})
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, List, Optional, Tuple


def lazy_exports(package: str, names: Dict[str, Optional[str]]) -> Tuple[Callable[[str], Any], List[str]]:
    """A module ``__getattr__`` importing each name from its submodule on first use, and ``__all__``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : dict of str -> str or None
        Public name -> the relative submodule that defines it (``".data"``); ``None`` makes
        the name a submodule itself (``"design": None`` is ``package.design``).

    Returns
    -------
    getattr : callable
        To assign to the package's ``__getattr__``.
    all : list of str
        The sorted names, for ``__all__``.
    """
    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = names[name]
        if module is None:
            return importlib.import_module(f".{name}", package)
        return getattr(importlib.import_module(module, package), name)

    return __getattr__, sorted(names)


__all__ = ["lazy_exports"]
