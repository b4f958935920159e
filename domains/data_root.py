"""Where the shared benchmark data lives: one setting, read by configs, protocols and tests.

The data root is, in order of precedence:

1. the value set for the current command (``vaekit ... --data-root DIR``, i.e. :func:`using_data_root`);
2. the environment variable ``VAEKIT_DATA_ROOT``;
3. the fallback ``../shared/data`` (relative to the working directory, the layout this
   repository was developed in).

How a config or a benchmark spec refers to a file under the root: a string that starts with
``data_root:`` is the rest of the string under the data root, so in a packaged config::

    data:
      path: data_root:recsys/ml-100k/ml-100k.inter.gz      # -> <root>/recsys/ml-100k/ml-100k.inter.gz
      path: ["data_root:text/yelp/shen2017.sentiment.dev.*"]   # globs and lists too

Any other string is an ordinary path (relative to the working directory), as before. Run
directories and specs written before this setting existed spell the root out as
``../shared/data/...``; such a string is read as a path under the data root too (so with no
setting it is the very same path, and with one it follows the data to its new place).
:func:`resolve_data_paths` applies both rules to a ``data:`` mapping (lists and nested mappings
included); the pipeline calls it before a domain sees its ``DataConfig``, and a benchmark
protocol's options go through :func:`resolve_data_value`.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

#: The environment variable holding the data root.
ENV_VAR = "VAEKIT_DATA_ROOT"
#: The data root when neither ``--data-root`` nor :data:`ENV_VAR` is set.
FALLBACK = "../shared/data"
#: The prefix of a string naming a path under the data root.
PREFIX = "data_root:"
#: How configs written before the setting spelled the data root (read as :data:`PREFIX`).
LEGACY_PREFIX = "../shared/data/"

_current: Optional[str] = None


def data_root() -> Path:
    """The data root now in effect (see the module docstring for the order of precedence)."""
    return Path(_current or os.environ.get(ENV_VAR) or FALLBACK)


def data_path(relative: str) -> Path:
    """``relative`` (e.g. ``"anomaly/adbench"``) under the data root."""
    return data_root() / relative


@contextmanager
def using_data_root(root: Optional[str | Path]) -> Iterator[None]:
    """Make ``root`` the data root inside the block (``None``: leave the setting as it is).

    The CLI's ``--data-root`` wraps its command in this, so the setting never outlives the command
    (nor leaks from one test into the next, as setting the environment variable would).
    """
    global _current
    before = _current
    if root is not None:
        _current = str(root)
    try:
        yield
    finally:
        _current = before


def resolve_data_value(value: Any) -> Any:
    """One value of a ``data:`` section or a protocol option with the data-root rules applied.

    ``"data_root:x/y"`` and ``"../shared/data/x/y"`` -> ``"<root>/x/y"`` (a string); a
    :class:`UnderDataRoot` -> its path as a string; lists and mappings element by element;
    anything else unchanged.
    """
    if isinstance(value, UnderDataRoot):
        return str(data_path(value.relative))
    if isinstance(value, str):
        for prefix in (PREFIX, LEGACY_PREFIX):
            if value.startswith(prefix):
                return str(data_path(value[len(prefix):]))
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(resolve_data_value(v) for v in value)
    if isinstance(value, dict):
        return {k: resolve_data_value(v) for k, v in value.items()}
    return value


def resolve_data_paths(section: dict) -> dict:
    """A copy of a config's ``data:`` mapping with every path under the data root resolved."""
    return resolve_data_value(dict(section))


@dataclass(frozen=True)
class UnderDataRoot:
    """A default that is a path under the data root, resolved when it is used (so that
    ``--data-root`` and :data:`ENV_VAR` given at run time apply), e.g. a benchmark protocol's
    ``options={"root": UnderDataRoot("anomaly/adbench")}``."""

    relative: str

    def __str__(self) -> str:
        return PREFIX + self.relative


__all__ = ["ENV_VAR", "FALLBACK", "PREFIX", "UnderDataRoot", "data_path", "data_root", "resolve_data_paths",
           "resolve_data_value", "using_data_root"]
