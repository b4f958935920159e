"""The vaekit error hierarchy.

Every message a user sees says *where* (a config path, a file and row, a function argument),
the *rule* that was broken, the *value* that broke it and *how to fix it* (DESIGN.md section 8).
"""
from __future__ import annotations


class VaekitError(Exception):
    """Base class of every error vaekit raises on purpose."""


class ConfigError(VaekitError, ValueError):
    """A configuration value, key or combination is invalid."""


class DataValidationError(VaekitError, ValueError):
    """Input data breaks a rule (shape, type, range, emptiness)."""


class NotFittedError(VaekitError, ValueError, AttributeError):
    """An estimator was used before ``fit``."""


class MissingDependencyError(VaekitError, ImportError):
    """An optional dependency (a domain's extra) is not installed."""


class CheckpointError(VaekitError, RuntimeError):
    """A checkpoint is missing, corrupt or does not match the model."""


class TrainingError(VaekitError, FloatingPointError):
    """Training cannot continue (e.g. a non-finite loss)."""


def fmt_error(where: str, rule: str, got: object, fix: str) -> str:
    """Format the standard four-part message ``where: rule; got ...; fix``; the value is shown
    by its first 80 characters (a huge list or string must not flood the one-line error)."""
    shown = repr(got)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{where}: {rule}; got {shown}. {fix}"


def require(module: str, extra: str):
    """Import an optional module or raise :class:`MissingDependencyError` with the pip line.

    Parameters
    ----------
    module : str
        Importable module name, e.g. ``"rdkit"``.
    extra : str
        The vaekit extra that provides it, e.g. ``"molecules"``.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"{module!r} is required here but is not installed. "
            f"Install it with: pip install 'vaekit[{extra}]'"
        ) from exc
