"""Lazy package attributes: a domain package names its public objects without importing them.

``import vaekit.domains.molecules`` must stay cheap (no RDKit, no torch_geometric) until a name
is used, so each domain ``__init__`` maps names to the submodule that defines them (PEP 562
module ``__getattr__``)::

    __getattr__, __all__ = lazy_exports(__name__, {".loading": ["load_molecules"]}, submodules=["design"])
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple


def lazy_exports(package: str, names: Dict[str, Sequence[str]],
                 submodules: Sequence[str] = ()) -> Tuple[Callable[[str], Any], List[str]]:
    """A module ``__getattr__`` importing each name from its submodule on first use, and ``__all__``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : dict of str -> sequence of str
        Relative submodule (``".io"``) -> the public names it defines.
    submodules : sequence of str
        Submodules that are public names themselves (``"design"`` is ``package.design``).

    Returns
    -------
    getattr : callable
        To assign to the package's ``__getattr__``.
    all : list of str
        The sorted names, for ``__all__``.

    Raises
    ------
    ValueError
        A name listed twice (two homes for one name).
    """
    home: Dict[str, Optional[str]] = {name: None for name in submodules}
    for module, exported in names.items():
        for name in exported:
            if name in home:
                raise ValueError(f"lazy_exports({package!r}): {name!r} is listed twice; give it one home.")
            home[name] = module

    def __getattr__(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = home[name]
        if module is None:
            return importlib.import_module(f".{name}", package)
        return getattr(importlib.import_module(module, package), name)

    return __getattr__, sorted(home)


__all__ = ["lazy_exports"]
