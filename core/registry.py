"""Name -> constructor registries with schema-checked construction.

Components are configured as ``{kind: NAME, params: {...}}``. ``Registry.build`` checks
``params`` against the constructor's signature, so a typo or a wrong argument is reported
with the dotted config path and a did-you-mean suggestion instead of a ``TypeError`` deep in
``__init__`` (DESIGN.md 1.3: constructors are schemas).
"""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Callable, Dict, Generic, Iterable, List, TypeVar

from .errors import ConfigError, fmt_error

T = TypeVar("T")


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest option, or ``""``."""
    close = difflib.get_close_matches(str(name), list(options), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


# Range rules of the shared constructor vocabulary (DESIGN.md section 10: one name, one
# meaning), checked on the user's params when a config is loaded, before any data or model
# exists: torch's own failures for these come late and name no key ("Trying to create tensor
# with negative dimension -5"). name -> (kind, bounds, example); kind "int", "ints" (a list of
# them), "int_or_ints" or "float".
_PARAM_RULES: Dict[str, tuple] = {
    **{n: ("ints", {"ge": 1}, "[256,256]") for n in ("hidden_dims", "widths")},
    "channels": ("int_or_ints", {"ge": 1}, "[32,64]"),
    **{n: ("int", {"ge": 1}, ex) for n, ex in (("hidden_dim", 256), ("embed_dim", 128), ("num_layers", 1),
                                                ("n_layers", 6), ("n_filters", 100), ("kernel_size", 3),
                                                ("context_dim", 64), ("moment_samples", 32),
                                                ("cond_channels", 16), ("n_flows", 2))},
    **{n: ("float", {"ge": 0, "lt": 1}, 0.1) for n in ("dropout", "input_dropout")},
    # Bowman et al. 2016 also train with every input word dropped (an inputless decoder).
    "word_dropout": ("float", {"ge": 0, "le": 1}, 0.25),
    **{n: ("float", {"gt": 0}, ex) for n, ex in (("min_scale", 1e-3), ("temperature", 1.0))},
}


def check_param_values(params: Dict[str, Any] | None, where: str) -> None:
    """Range-check the constructor arguments of the shared vocabulary (``hidden_dims``,
    ``dropout``, ``embed_dim``...) in ``params``; ``where`` is their config path (``...params``).

    Raises
    ------
    ConfigError
        Naming ``where.NAME``, the rule, the value and a ``--set`` fix.
    """
    from .rules import check_number, set_key_of

    for name, value in (params or {}).items():
        rule = _PARAM_RULES.get(name)
        if rule is None:
            continue
        kind, bounds, example = rule
        key = f"{where}.{name}"
        if kind == "float":
            check_number(key, value, example=example, **bounds)
        elif kind == "int" or (kind == "int_or_ints" and not isinstance(value, (list, tuple))):
            check_number(key, value, integer=True, example=example, **bounds)
        else:
            what = "layer widths" if name != "widths" else "kernel widths"
            fix = f"Set {key} to a list of {what} >= {bounds['ge']}, e.g. --set {set_key_of(key)}={example}."
            try:
                if not isinstance(value, (list, tuple)):
                    raise ConfigError("not a list")
                for v in value:
                    check_number(key, v, integer=True, **bounds)
            except ConfigError:
                raise ConfigError(fmt_error(key, f"must be a list of integers >= {bounds['ge']} ({what})",
                                            value, fix)) from None


class Registry(Generic[T]):
    """A named collection of constructors (classes or factory functions).

    Parameters
    ----------
    what : str
        What the registry holds, for messages (e.g. ``"encoder"``).
    """

    def __init__(self, what: str):
        self.what = what
        self._items: Dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering ``obj`` under ``name``."""

        def deco(obj: Callable[..., T]) -> Callable[..., T]:
            if name in self._items and self._items[name] is not obj:
                raise ValueError(f"{self.what} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return deco

    def names(self) -> List[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def get(self, name: str, where: str = "kind") -> Callable[..., T]:
        if name not in self._items:
            raise ConfigError(
                f"{where}: unknown {self.what} {name!r}.{did_you_mean(name, self._items)} "
                f"Valid: {', '.join(self.names())}."
            )
        return self._items[name]

    def _accepted(self, ctor) -> tuple:
        sig = inspect.signature(ctor)
        kinds = {p.kind for p in sig.parameters.values()}
        # A class that inherits a bare (*args, **kwargs) constructor (e.g. nn.Module's) takes
        # no config arguments; only a constructor that also names parameters forwards **kwargs.
        if kinds <= {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}:
            sig = sig.replace(parameters=[])
        accepts_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        accepted = {n for n, p in sig.parameters.items()
                    if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n != "self"}
        return sig, accepted, accepts_kwargs

    def check(self, name: str, params: Dict[str, Any] | None = None, *, where: str = "",
              wired: Iterable[str] = ()) -> None:
        """Check ``name`` and the *names* of ``params`` without constructing anything.

        Used when a config is loaded, before any data exists: an unknown kind, a misspelt
        argument or an argument that vaekit wires itself (``wired``) is reported with the
        dotted path and a did-you-mean suggestion.
        """
        ctor = self.get(name, f"{where}.kind" if where else "kind")
        _, accepted, accepts_kwargs = self._accepted(ctor)
        wired = set(wired)
        pwhere = f"{where}.params" if where else "params"
        for key in params or {}:
            if key in wired and key in accepted:
                raise ConfigError(
                    f"{pwhere}.{key}: this argument of {self.what} {name!r} is wired by vaekit "
                    f"from the data or the model section; got {params[key]!r}. "
                    f"Remove it from {pwhere} (e.g. set the latent width with model.latent_dim).")
            if key not in accepted and not accepts_kwargs:
                user_opts = sorted(accepted - wired)
                raise ConfigError(
                    f"{pwhere}.{key}: unknown argument of {self.what} {name!r}."
                    f"{did_you_mean(key, user_opts)} Valid: {', '.join(user_opts) or '(none)'}.")
        check_param_values({k: v for k, v in (params or {}).items() if k in accepted or accepts_kwargs}, pwhere)

    def build(self, name: str, params: Dict[str, Any] | None = None, *, where: str = "",
              wired: Dict[str, Any] | None = None) -> T:
        """Construct ``name`` from user ``params`` plus ``wired`` arguments.

        Parameters
        ----------
        name : str
            Registered kind.
        params : dict
            User-supplied constructor arguments (from the config).
        where : str
            Dotted config path of this component, for messages.
        wired : dict
            Arguments vaekit derives from the data or the rest of the model (``in_dim``,
            ``latent_dim``...). Only those the constructor accepts are passed; a user
            param that collides with one is an error, because vaekit sets it.
        """
        params = dict(params or {})
        wired = dict(wired or {})
        self.check(name, params, where=where, wired=wired)
        ctor = self.get(name)
        sig, accepted, accepts_kwargs = self._accepted(ctor)
        pwhere = f"{where}.params" if where else "params"
        kwargs = {k: v for k, v in wired.items() if k in accepted or accepts_kwargs}
        kwargs.update(params)
        missing = [n for n, p in sig.parameters.items()
                   if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                   and n != "self" and n not in kwargs]
        if missing:
            raise ConfigError(
                f"{pwhere}: {self.what} {name!r} needs {', '.join(missing)}; got params "
                f"{sorted(params)}. Add {missing[0]!r} to {pwhere}."
            )
        try:
            return ctor(**kwargs)
        except ConfigError as exc:
            # Constructors phrase errors as "param: rule; got value"; give them the full path.
            msg = str(exc)
            head = msg.split(":", 1)[0]
            if msg.startswith(pwhere) or (where and msg.startswith(where)):
                raise
            if head in accepted:
                raise ConfigError(f"{pwhere}.{msg}") from None
            raise ConfigError(f"{where or self.what}: {msg}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{pwhere}: building {self.what} {name!r} failed: {exc}") from exc
