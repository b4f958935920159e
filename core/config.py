"""Strict dataclass <-> dict conversion, YAML loading and dotted overrides.

Config dataclasses are frozen and typed; :func:`from_dict` walks a plain dict against them
and reports, with the dotted path:

* an unknown key, with a did-you-mean suggestion and the valid keys;
* a value of the wrong type, with the expected type and the value;
* the string ``"None"`` (a YAML pitfall), with a hint to write ``null``.

Unlike permissive config systems, nothing unknown is ever silently ignored.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, Dict, List, Literal, Mapping, Sequence, Tuple, Union, get_args, get_origin

from .errors import ConfigError, fmt_error
from .registry import did_you_mean
from .rules import set_key_of
from .yamlio import load_yaml as read_yaml


@dataclasses.dataclass(frozen=True)
class ComponentConfig:
    """``{kind: NAME, params: {...}}``; params are checked against the constructor."""

    kind: str
    params: Dict[str, Any] = dataclasses.field(default_factory=dict)

_NoneType = type(None)


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(tp))
    if origin in (list, List, Sequence):
        args = get_args(tp)
        return f"list[{_type_name(args[0])}]" if args else "list"
    if origin in (tuple, Tuple):
        return "list"
    if origin in (dict, Dict, Mapping):
        return "mapping"
    if tp is Any:
        return "any"
    if tp is _NoneType:
        return "null"
    if dataclasses.is_dataclass(tp):
        return f"mapping ({tp.__name__})"
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, path: str) -> Any:
    """Check ``value`` against type ``tp`` and convert it (dicts -> dataclasses)."""
    if isinstance(value, str) and value == "None":
        raise ConfigError(
            f"{path}: the string 'None' is not a null value; got 'None'. "
            f"Write null (YAML) or remove the key to use the default."
        )
    if tp is Any:
        return value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None:
            if _NoneType in args:
                return None
            raise ConfigError(f"{path}: expected {_type_name(tp)}; got null. Give a value.")
        if isinstance(value, float) and not math.isfinite(value) and float in args:
            _convert(value, float, path)  # the finite-number message, not "expected float | mapping"
        errors = []
        # Try dataclass / container alternatives last so that e.g. float|Schedule keeps floats.
        for a in sorted((a for a in args if a is not _NoneType),
                        key=lambda a: dataclasses.is_dataclass(a) or get_origin(a) is not None):
            try:
                return _convert(value, a, path)
            except ConfigError as exc:
                errors.append(str(exc))
        # If exactly one dataclass alternative matched the shape (a mapping), report its error.
        if isinstance(value, Mapping):
            dc = [a for a in args if dataclasses.is_dataclass(a)]
            if len(dc) == 1:
                _convert(value, dc[0], path)
        raise ConfigError(f"{path}: expected {_type_name(tp)}; got {value!r}. Use one of those types.")
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(
                f"{path}: must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}."
                f"{did_you_mean(str(value), [str(a) for a in allowed])}"
            )
        return value
    if dataclasses.is_dataclass(tp):
        if dataclasses.is_dataclass(value) and isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: expected a mapping ({tp.__name__}); got {value!r}. "
                              f"Write it as key: value lines.")
        return from_dict(tp, value, path)
    if origin in (list, List, Sequence) or tp in (list, List):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}: expected {_type_name(tp)}; got {value!r}. Write a YAML list.")
        args = get_args(tp)
        return [(_convert(v, args[0], f"{path}[{i}]") if args else v) for i, v in enumerate(value)]
    if origin in (tuple, Tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}: expected {_type_name(tp)}; got {value!r}. Write a YAML list.")
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{path}[{i}]") for i, v in enumerate(value))
        return tuple(value)
    if origin in (dict, Dict, Mapping) or tp in (dict, Dict):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: expected a mapping; got {value!r}.")
        for k in value:
            if isinstance(value[k], str) and value[k] == "None":
                _convert(value[k], Any, f"{path}.{k}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected bool (true/false); got {value!r}.")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"{path}: expected int; got {value!r}.")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            # YAML 1.1 reads "1e-3" as a string; accept numeric strings explicitly.
            converted = None
            if isinstance(value, str):
                try:
                    converted = float(value)
                except ValueError:
                    pass
            if converted is None:
                raise ConfigError(f"{path}: expected float; got {value!r}.")
            value = converted
        # No config number means anything as NaN or infinity (YAML's .nan / .inf); they would
        # reach an optimizer or a loss and fail far from the key that caused them.
        if not math.isfinite(float(value)):
            raise ConfigError(fmt_error(path, "must be a finite number", value,
                                        f"Write a number (e.g. --set {set_key_of(path)}=0.001); .nan and .inf are not values."))
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected str; got {value!r}. Quote it in YAML.")
        return value
    if isinstance(tp, type):
        if not isinstance(value, tp):
            raise ConfigError(f"{path}: expected {_type_name(tp)}; got {value!r}.")
        return value
    return value


def from_dict(cls: type, data: Mapping[str, Any], path: str = "") -> Any:
    """Build dataclass ``cls`` from ``data``, strictly.

    Parameters
    ----------
    cls : type
        A dataclass type.
    data : mapping
        Plain values (from YAML).
    path : str
        Dotted path of ``data`` in the whole config, for messages.

    A dataclass with a ``migrate_dict(data, path) -> dict`` static method gets ``data``
    rewritten by it first (renamed or restructured keys of older configs).
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path or '<root>'}: expected a mapping ({cls.__name__}); got {data!r}.")
    # A section whose schema changed rewrites its old keys first (e.g. ModelConfig's
    # pre-registry term keys), so saved configs and old --set overrides keep loading.
    migrate = getattr(cls, "migrate_dict", None)
    if callable(migrate):
        data = migrate(data, path)
    hints = typing.get_type_hints(cls)
    flds = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in data.items():
        p = f"{path}.{key}" if path else str(key)
        if key not in flds:
            raise ConfigError(
                (f"{p}: unknown key.{did_you_mean(key, flds)} Valid keys here: {', '.join(flds)}." if flds
                 else f"{p}: unknown key; this section takes no keys. Remove it.")
            )
        kwargs[key] = _convert(value, hints[key], p)
    missing = [n for n, f in flds.items() if f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING and n not in kwargs]
    if missing:
        p = path or "<root>"
        raise ConfigError(f"{p}: missing required key(s) {', '.join(missing)}. Add them to the config.")
    obj = cls(**kwargs)
    check = getattr(obj, "validate", None)
    if callable(check):
        check(*([path] if path else []))
    return obj


def to_dict(obj: Any) -> Any:
    """Dataclass (nested) -> plain dict/list values, ready for YAML/JSON."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping, with errors that name the file (and the line: invalid YAML, a key
    given twice in one mapping; :func:`vaekit.core.yamlio.load_yaml`)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found. Pass a YAML path or a packaged "
                          f"'domain:name' (see `vaekit list configs`).")
    data = read_yaml(path)  # refuses a key given twice; errors name the file and the line
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping; got {type(data).__name__}.")
    return data


def parse_override(item: str) -> Tuple[List[str], Any]:
    """Parse ``"a.b.c=value"``; the value is read as YAML (``3``, ``true``, ``[1,2]``, ``null``)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. train.max_steps=500.")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {item!r}: the key must be a dotted path such as model.latent_dim.")
    value = read_yaml(raw, where=f"--set {item!r}: the value") if raw.strip() != "" else ""
    return key.split("."), value


def apply_overrides(data: dict, overrides: Sequence[str]) -> dict:
    """Return a copy of ``data`` with dotted ``overrides`` applied (creating mappings as needed).

    Whether a key exists is checked afterwards by :func:`from_dict`, which gives the
    did-you-mean message with the full dotted path.
    """
    import copy

    out = copy.deepcopy(data)
    for item in overrides:
        parts, value = parse_override(item)
        set_key(out, ".".join(parts), value, where=f"--set {item!r}: ")
    return out


def set_key(data: dict, key: str, value: Any, where: str = "") -> None:
    """Set dotted ``key`` (e.g. ``model.encoder.params.hidden_dims``) of the nested mapping
    ``data`` in place, creating mappings as needed; ``where`` prefixes the error message."""
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            nxt = node[_list_index(node, part, where + ".".join(parts[:i + 1]))]
        else:
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
        if not isinstance(nxt, (dict, list)):
            raise ConfigError(f"{where}{'.'.join(parts[:i + 1])} is {nxt!r}, not a mapping, "
                              f"so it has no key {parts[i + 1]!r}.")
        node = nxt
    if isinstance(node, list):
        node[_list_index(node, parts[-1], where + key)] = value
    else:
        node[parts[-1]] = value


def _list_index(items: list, part: str, where: str) -> int:
    """A list element named in a dotted key: by position (``terms.0``) or, in a list of
    ``{kind: ...}`` entries, by kind (``model.terms.control.params.temperature``)."""
    if part.isdigit() and int(part) < len(items):
        return int(part)
    kinds = [e.get("kind") if isinstance(e, dict) else None for e in items]
    if part in kinds:
        return kinds.index(part)
    named = [k for k in kinds if k is not None]
    raise ConfigError(f"{where}: no list entry {part!r}; give a position 0..{len(items) - 1}"
                      + (f" or a kind: {', '.join(named)}" if named else "") + ".")
