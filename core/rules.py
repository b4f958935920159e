"""Range rules of config values: one check, one message form (key, rule, value, fix).

The ``validate`` methods of the config sections and the component registry's check of
constructor arguments (:mod:`vaekit.core.registry`) call these, so a negative width, a NaN
learning rate or a dropout of 2 is refused when the config is loaded, with the key to set.
"""
from __future__ import annotations

import math
import numbers
import re
from typing import Any

from .errors import ConfigError, fmt_error


def check_number(where: str, value: Any, *, gt: float | None = None, ge: float | None = None,
                 lt: float | None = None, le: float | None = None, integer: bool = False,
                 example: Any = None, fix: str | None = None) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number within the bounds.

    The one range check of config values (the ``validate`` methods of the config sections
    call it), so every such message has the same form: the key, the rule, the value, the fix.

    Parameters
    ----------
    where : str
        The dotted config key, e.g. ``train.lr``.
    value : object
        The value read from the config.
    gt, ge, lt, le : float, optional
        Strict / inclusive lower and upper bounds.
    integer : bool
        Require an int (not a bool).
    example : object, optional
        A valid value shown in the default fix (``--set KEY=EXAMPLE``).
    fix : str, optional
        The fix to print instead of the default one.
    """
    parts = []
    if gt is not None:
        parts.append(f"> {gt:g}")
    if ge is not None:
        parts.append(f">= {ge:g}")
    if lt is not None:
        parts.append(f"< {lt:g}")
    if le is not None:
        parts.append(f"<= {le:g}")
    kind = "an integer" if integer else "a finite number"
    bounds = " and ".join(parts)
    rule = f"must be {bounds} ({kind})" if parts else f"must be {kind}"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and integer:
        ok = isinstance(value, numbers.Integral)
    if ok:
        v = float(value)
        ok = (math.isfinite(v) and (gt is None or v > gt) and (ge is None or v >= ge)
              and (lt is None or v < lt) and (le is None or v <= le))
    if not ok:
        if fix is None:
            fix = f"Set {where} to " + (f"a value {bounds}" if parts else kind) + (
                f", e.g. --set {set_key_of(where)}={example}." if example is not None else ".")
        raise ConfigError(fmt_error(where, rule, value, fix))


def set_key_of(where: str) -> str:
    """The ``--set`` form of a config path: list positions are dotted (``model.terms[0].params``
    -> ``model.terms.0.params``), as :func:`vaekit.core.config.set_key` reads them."""
    return re.sub(r"\[(\d+)\]", r".\1", where)
