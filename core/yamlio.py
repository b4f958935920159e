"""Reading YAML safely and strictly: safe tags only, and no key twice in one mapping.

PyYAML's ``safe_load`` keeps the *last* of two equal keys without a word, so a config with
``lr: 0.1`` twice, or a second ``train:`` section, trains with whichever came last. Every
YAML file vaekit reads (run configs, benchmark protocols, domain entries) goes through
:func:`load_yaml`, which refuses that with the file, the key and both lines, and turns
PyYAML's multi-line parse errors into one line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import yaml

from .errors import ConfigError, fmt_error

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _DuplicateKey(yaml.YAMLError):
    """Raised by :class:`UniqueKeyLoader` for a key given twice in one mapping."""

    def __init__(self, key: Any, line: int, first_line: int):
        super().__init__(f"duplicate key {key!r}")
        self.key, self.line, self.first_line = key, line, first_line


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key repeated within one mapping.

    Keys brought in by a merge (``<<: *base``) may be overridden, as YAML's merge defines;
    only keys written twice in the same mapping are refused.
    """

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: SafeConstructor reports it
                    continue
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise _DuplicateKey(key, line, first)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)



def load_yaml(source: str | Path, where: Optional[str] = None) -> Any:
    """Parse YAML with safe tags only, refusing duplicate mapping keys.

    Parameters
    ----------
    source : str or Path
        A :class:`~pathlib.Path` is read from disk (UTF-8); a ``str`` is the YAML text itself.
    where : str, optional
        What to call the source in messages (default: the path, or ``<yaml>`` for text),
        e.g. ``"--set 'model.encoder={...}'"``.

    Returns
    -------
    object
        The parsed value (``None`` for an empty document).

    Raises
    ------
    ConfigError
        One line naming ``where`` and the line: a duplicate key (with the line of its first
        occurrence), invalid YAML, an unreadable or non-UTF-8 file.
    """
    if isinstance(source, Path):
        where = where or str(source)
        try:
            text = source.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(fmt_error(where, "a YAML file must be UTF-8 text", f"byte {exc.start}: "
                                        f"{exc.object[exc.start:exc.start + 1]!r}",
                                        "Pass a YAML config, not a binary file; re-save it as UTF-8.")) from None
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read the file ({exc.strerror or exc}). Check the path.") from None
    else:
        text, where = source, where or "<yaml>"
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)
    except _DuplicateKey as exc:
        raise ConfigError(fmt_error(
            f"{where}, line {exc.line}", "a key may appear only once in a mapping (YAML would silently keep "
            "the last value)", exc.key,
            f"Remove one of the two {exc.key!r} entries (the first is at line {exc.first_line}).")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {_one_line(exc)}") from None


def _one_line(exc: yaml.YAMLError) -> str:
    """PyYAML's error (several lines with a caret drawing) as one line with its position."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem is None:
        return " ".join(str(exc).split())
    text = f"{context}, {problem}" if context else problem
    if mark is not None:
        text = f"line {mark.line + 1}, column {mark.column + 1}: {text}"
    return " ".join(text.split()) + "."
