"""Reading MOSES's statistics ``.npz`` files without executing code: their pickled object arrays
are unpickled by :class:`_StatsUnpickler`, which admits only the globals such files need.

``np.load(allow_pickle=True)`` runs whatever callable a pickle names, so a crafted
``test_stats.npz`` would run its payload on load. MOSES's ``test_stats.npz`` and
``test_scaffolds_stats.npz`` hold one member, ``stats.npy``: a 0-d object array whose pickle
(protocol 2) names exactly ``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``,
``numpy.dtype``, ``collections.Counter`` and ``_codecs.encode`` (how Python 3 pickles ``bytes``
at protocol 2); files written by :meth:`ReferenceStats.save` name the same under ``numpy._core``.
"""
from __future__ import annotations

import _compat_pickle
import collections
import pickle
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

import numpy as np

from vaekit.core.errors import DataValidationError, fmt_error


def _latin1_encode(text: str, encoding: str = "latin1", errors: str = "strict") -> bytes:
    """``_codecs.encode`` restricted to latin-1, the only codec a pickle of ``bytes`` names."""
    # compared by name, not codecs.lookup: a lookup would import whatever codec module the file names
    if encoding.lower().replace("-", "").replace("_", "") not in {"latin1", "iso88591", "l1"}:
        raise pickle.UnpicklingError(f"_codecs.encode with the codec {encoding!r}")
    return text.encode("latin1", errors)


def _numpy_reconstruct() -> Callable:
    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _numpy_scalar() -> Callable:
    try:
        from numpy._core.multiarray import scalar  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import scalar
    return scalar


def _allowed() -> Dict[Tuple[str, str], Any]:
    """(module, name) -> object: array reconstruction, containers and plain values only.

    None of these runs code chosen by the file: ``_reconstruct`` and ``scalar`` build arrays and
    numpy scalars of an admitted type, the builtins build containers and numbers from the
    (themselves restricted) values on the pickle stack.
    """
    out: Dict[Tuple[str, str], Any] = {}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        out[(module, "_reconstruct")] = _numpy_reconstruct()
        out[(module, "scalar")] = _numpy_scalar()
    out[("numpy", "ndarray")] = np.ndarray
    out[("numpy", "dtype")] = np.dtype
    out[("collections", "Counter")] = collections.Counter
    out[("collections", "OrderedDict")] = collections.OrderedDict
    out[("_codecs", "encode")] = _latin1_encode
    for cls in (dict, list, tuple, set, frozenset, bytearray, bytes, str, int, float, complex, bool):
        out[("builtins", cls.__name__)] = cls
    return out


class ForbiddenGlobal(pickle.UnpicklingError):
    """A pickle named a global outside :func:`_allowed`."""

    def __init__(self, module: str, name: str):
        super().__init__(f"{module}.{name}")
        self.module, self.name = module, name


class _StatsUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` admits only :func:`_allowed`; anything else is refused
    before it is imported, let alone called."""

    _table = None

    def find_class(self, module: str, name: str) -> Any:
        if _StatsUnpickler._table is None:
            _StatsUnpickler._table = _allowed()
        # Python 2 names (protocol < 3 writes builtins as __builtin__), mapped as pickle's fix_imports does
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        try:
            return _StatsUnpickler._table[(module, name)]
        except KeyError:
            raise ForbiddenGlobal(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


def _read_header(fp, where: str):
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fp)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fp)
    raise DataValidationError(fmt_error(where, "must be a .npy member of format version 1.0 or 2.0", version,
                                        "Pass MOSES's test_stats.npz or a file written by ReferenceStats.save."))


def load_npz_member(path: Path, member: str) -> np.ndarray:
    """The array ``member`` (e.g. ``"stats"``) of the ``.npz`` at ``path``, object arrays unpickled safely.

    Raises
    ------
    DataValidationError
        When the file is not an ``.npz`` holding ``member``, or its pickle names any global
        outside the admitted array / container / number types (naming file, member and global).
    """
    where = f"ReferenceStats.from_moses: {path}"
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataValidationError(fmt_error(where, "must be a .npz (zip) file", type(exc).__name__,
                                            "Pass MOSES's test_stats.npz or test_scaffolds_stats.npz.")) from None
    with archive:
        names = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
        if member not in names:
            raise DataValidationError(fmt_error(where, f"a MOSES statistics file holds the key {member!r}", names,
                                                "Pass MOSES's test_stats.npz or test_scaffolds_stats.npz."))
        where = f"{where}, member {member}.npy"
        with archive.open(f"{member}.npy") as fp:
            shape, fortran, dtype = _read_header(fp, where)
            if not dtype.hasobject:
                count = int(np.prod(shape))
                data = np.frombuffer(fp.read(count * dtype.itemsize), dtype=dtype, count=count)
                return data.reshape(shape, order="F" if fortran else "C")
            try:
                # encoding as np.load's default, for Python 2 str objects in old pickles
                value = _StatsUnpickler(fp, encoding="ASCII").load()
            except ForbiddenGlobal as exc:
                raise DataValidationError(fmt_error(
                    where, "a MOSES statistics pickle may name only the globals of numpy arrays, dicts, lists, "
                    "Counters, strings and numbers", f"{exc.module}.{exc.name}",
                    "This file is not MOSES's (it would run code when unpickled): download test_stats.npz / "
                    "test_scaffolds_stats.npz again from the MOSES release, or rebuild the statistics from the "
                    "test SMILES with ReferenceStats.from_smiles(...).save(path).")) from None
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
                raise DataValidationError(fmt_error(where, "must hold a readable pickled object array",
                                                    f"{type(exc).__name__}: {str(exc)[:80]}",
                                                    "Download the statistics file again.")) from None
    if not isinstance(value, np.ndarray):
        raise DataValidationError(fmt_error(where, "must unpickle to a numpy array", type(value).__name__,
                                            "Pass MOSES's test_stats.npz or test_scaffolds_stats.npz."))
    return value
