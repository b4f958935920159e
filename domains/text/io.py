"""Read text data: sentence files (Yelp, PTB), the Yelp references and labelled tables.

The readers return plain Python lists of sentences (and labels); the model-side tensors are
made elsewhere. Layouts:

* :func:`read_sentences`: one sentence per line (``.txt``, no suffix, optionally ``.gz``);
* :func:`read_input_lines`: the same, every line kept (blank ones as ``""``), for inputs whose
  outputs must line up with them (``vaekit generate --input``);
* :func:`read_labelled`: one file per label (Yelp style, ``sentiment.train.0`` /
  ``sentiment.train.1``: the last suffix is the label) or a CSV/TSV table with a text and a
  label column;
* :func:`read_references`: the Li et al. (2018) human references, ``source<TAB>rewrite``;
* :func:`read_ptb`: the Penn Treebank language-modelling files (Mikolov's preprocessing:
  lower-cased, numbers as ``N``, rare words already ``<unk>``).

Tokens, the vocabulary and ids are :mod:`.tokens`'.

Input is never dropped silently (DESIGN.md section 8): blank lines are skipped with a count
and one warning, anything else that is malformed raises :class:`~vaekit.core.errors.DataValidationError`
naming the file and line/row.
"""
from __future__ import annotations

import csv
import glob as _glob
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error, require
from vaekit.core.registry import did_you_mean

from ..io import check_file, delimiter_of, find_column, format_of, open_binary, open_text, show, strip_gz

PathLike = Union[str, Path]

# Column names recognised without text_column / label_column (any case), in priority order.
TEXT_NAMES = ("text", "sentence", "review")
LABEL_NAMES = ("label", "style", "sentiment", "y")
YELP_SOURCES = ("shen2017", "li2018")
_GLOB_CHARS = "*?["


def _nonblank_lines(path: PathLike) -> Tuple[str, List[Tuple[int, str]], int]:
    """(where, the non-blank lines with their 1-based numbers, the number of blank lines) of a text file."""
    where = str(path)
    lines = _read_lines(check_file(path, where), where)
    kept = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    return where, kept, len(lines) - len(kept)


def _read_lines(path: Path, where: str) -> List[str]:
    """All lines of a UTF-8 text file (gzip when the name ends in ``.gz``), newlines removed."""
    try:
        with open_text(path) as fh:
            return fh.read().splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataValidationError(fmt_error(where, "the file must be readable UTF-8 text (gzip when .gz)",
                                            f"{type(exc).__name__}: {exc}",
                                            "Check the file is not truncated or in another encoding.")) from exc

def read_sentences(path: PathLike, lowercase: bool = False) -> List[str]:
    """Read one sentence per line.

    Parameters
    ----------
    path : str or Path
        A text file (``.txt`` or no suffix, optionally ``.gz``), one sentence per line.
    lowercase : bool
        Lower-case the sentences.

    Returns
    -------
    list of str
        The sentences in file order, surrounding whitespace removed.

    Raises
    ------
    DataValidationError
        Missing or unreadable file, or a file without any sentence.

    Warns
    -----
    UserWarning
        Once, with their count, when blank lines are skipped.
    """
    where, lines, blank = _nonblank_lines(path)
    out = [line.strip().lower() if lowercase else line.strip() for _, line in lines]
    if not out:
        raise DataValidationError(fmt_error(where, "the file must hold at least one sentence (one per line)",
                                            f"{blank} blank line(s)", "Point it to a non-empty sentence file."))
    if blank:
        warnings.warn(f"{where}: skipped {blank} blank line(s) of {blank + len(out)}.", stacklevel=2)
    return out


def read_input_lines(path: PathLike) -> Tuple[List[str], int]:
    """Read every line of a file of inputs, blank ones kept (as ``""``) so outputs line up.

    A line ends at ``\n`` only (as for ``wc -l`` and ``paste``): a ``\r`` before it (CRLF
    files) is dropped, a missing final newline ends the last line, and a form feed or
    ``U+2028`` inside a line stays inside it. A UTF-8 byte-order mark is ignored.

    Parameters
    ----------
    path : str or Path
        A text file (optionally ``.gz``), one sentence per line.

    Returns
    -------
    lines : list of str
        One entry per line, surrounding whitespace removed (``""`` for a blank line).
    n_blank : int
        How many of them are blank.

    Raises
    ------
    DataValidationError
        Missing or unreadable file, or a file without any sentence.
    """
    where = str(path)
    try:
        with open_binary(check_file(path, where)) as fh:
            text = fh.read().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataValidationError(fmt_error(where, "the file must be readable UTF-8 text (gzip when .gz)",
                                            f"{type(exc).__name__}: {exc}",
                                            "Check the file is not truncated or in another encoding.")) from exc
    parts = text.split("\n")
    if parts[-1] == "":  # the final newline ends the last line; it does not start another
        parts.pop()
    lines = [p[:-1].strip() if p.endswith("\r") else p.strip() for p in parts]
    n_blank = sum(1 for line in lines if not line)
    if n_blank == len(lines):
        raise DataValidationError(fmt_error(where, "the file must hold at least one sentence (one per line)",
                                            f"{n_blank} blank line(s)", "Point it to a non-empty sentence file."))
    return lines, n_blank


def read_ptb(path: PathLike) -> List[str]:
    """Read a Penn Treebank language-modelling file (``ptb.{train,valid,test}.txt[.gz]``).

    The text is already lower-cased with rare words replaced by ``<unk>``; that literal token
    encodes to the vocabulary's ``<unk>`` id (:func:`encode_sentences`) and is not counted by
    :func:`build_vocab`.

    Parameters
    ----------
    path : str or Path
        The file, one sentence per line.

    Returns
    -------
    list of str
        The sentences (the train split has 42,068 sentences, 887,521 words).
    """
    return read_sentences(path)


def read_references(path: PathLike) -> Tuple[List[str], List[str]]:
    """Read human style-transfer references, one ``source<TAB>rewrite`` pair per line.

    The format of Li et al. (2018) ``reference.{0,1}`` files (Yelp/Amazon/Captions).

    Parameters
    ----------
    path : str or Path
        The file (optionally ``.gz``).

    Returns
    -------
    sources, references : list of str
        Equal-length lists, in file order, surrounding whitespace removed.

    Raises
    ------
    DataValidationError
        Missing file, a file without pairs, or a line without a tab or with an empty side
        (the line number is named).

    Warns
    -----
    UserWarning
        Once, with their count, when blank lines (no pair) are skipped.
    """
    where, lines, blank = _nonblank_lines(path)
    sources: List[str] = []
    refs: List[str] = []
    for n, line in lines:
        if "\t" not in line:
            raise DataValidationError(fmt_error(f"{where}, line {n}", "each line must be 'source<TAB>rewrite'",
                                                line[:80], "Separate the source and the reference with a tab."))
        src, ref = (s.strip() for s in line.split("\t", 1))
        if not src or not ref:
            side = "source" if not src else "reference"
            raise DataValidationError(fmt_error(f"{where}, line {n}", f"the {side} must not be empty", line[:80],
                                                "Fill in or remove the line."))
        sources.append(src)
        refs.append(ref)
    if not sources:
        raise DataValidationError(fmt_error(where, "the file must hold at least one 'source<TAB>rewrite' line",
                                            f"{blank} blank line(s)", "Point it to a reference file."))
    if blank:
        warnings.warn(f"{where}: skipped {blank} blank line(s) of {blank + len(sources)}.", stacklevel=2)
    return sources, refs


def yelp_paths(root: PathLike, split: str, source: str = "shen2017") -> dict:
    """Per-label files of a Yelp sentiment split in the shared layout.

    Parameters
    ----------
    root : str or Path
        The directory (e.g. ``/work/shared/data/text/yelp``) holding
        ``{source}.sentiment.{split}.{0,1}``.
    split : str
        ``"train"``, ``"dev"`` or ``"test"`` (whichever the directory holds).
    source : str
        File prefix: ``"shen2017"`` (Shen et al. 2017 splits) or ``"li2018"`` (the 500+500
        test sentences with human references, Li et al. 2018).

    Returns
    -------
    dict
        ``{"0": Path, "1": Path}`` (negative, positive), ready for :func:`read_labelled`.

    Raises
    ------
    ConfigError
        Unknown ``source``.
    DataValidationError
        A file that does not exist (the splits found in ``root`` are listed).
    """
    where = "yelp_paths"
    if source not in YELP_SOURCES:
        raise ConfigError(fmt_error(where, f"source must be one of {list(YELP_SOURCES)}", source,
                                    f"Pass a known prefix.{did_you_mean(source, YELP_SOURCES)}"))
    root = Path(root)
    paths = {lab: root / f"{source}.sentiment.{split}.{lab}" for lab in ("0", "1")}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        found = sorted({p.name.split(".")[2] for p in root.glob(f"{source}.sentiment.*.*")
                        if len(p.name.split(".")) == 4})
        raise DataValidationError(fmt_error(where, f"the {source} split {split!r} must exist in {root}", missing,
                                            f"Splits found for {source}: {found}.{did_you_mean(str(split), found)}"))
    return paths


def read_labelled(paths_or_pattern: Union[PathLike, Mapping, Sequence[PathLike]],
                  label_column: Optional[str] = None, text_column: Optional[str] = None,
                  lowercase: bool = False) -> Tuple[List[str], List[str]]:
    """Read sentences with a style/sentiment label.

    Two layouts:

    * one file per label (Yelp style): a mapping ``{label: path}``, a list of paths, or a
      glob pattern (``"data/sentiment.train.*"``); for a list or pattern the label is the
      file's last suffix (``sentiment.train.1`` -> ``"1"``; a ``.gz`` is ignored). Each file
      is read with :func:`read_sentences`.
    * one CSV/TSV table (``.csv``, ``.tsv``/``.tab``, optionally ``.gz``) with a text and a
      label column; without ``text_column``/``label_column`` they are found by their
      (case-insensitive) name, text ``text/sentence/review`` and label
      ``label/style/sentiment/y``. TSV fields are not quoted (quotes belong to the text).

    Parameters
    ----------
    paths_or_pattern : mapping, sequence of path, str or Path
        See above.
    label_column, text_column : str, optional
        Column names of a table.
    lowercase : bool
        Lower-case the sentences.

    Returns
    -------
    sentences, labels : list of str
        Equal-length lists; files in the given (or, for a pattern, sorted) order; labels as
        strings (``0`` in a table becomes ``"0"``).

    Raises
    ------
    DataValidationError
        No file matching, a file without a label suffix, an empty file, a missing column
        (the columns are listed, with the closest name), or missing texts/labels in a table
        (the 1-based data rows are named).
    """
    if isinstance(paths_or_pattern, Mapping):
        files = [(str(lab), Path(p)) for lab, p in paths_or_pattern.items()]
        where = "read_labelled"
        if not files:
            raise DataValidationError(fmt_error(where, "the mapping {label: path} must not be empty", {},
                                                "Pass at least one labelled file."))
        return _read_per_label(files, lowercase)
    if isinstance(paths_or_pattern, (str, Path)):
        text = str(paths_or_pattern)
        path = Path(text)
        if path.is_file() and delimiter_of(format_of(path)[0]) is not None:
            return _read_table(path, label_column, text_column, lowercase)
        if any(c in text for c in _GLOB_CHARS) and not path.exists():
            matched = sorted(_glob.glob(text))
            if not matched:
                raise DataValidationError(fmt_error("read_labelled", "the pattern must match at least one file",
                                                    text, f"Fix the pattern (relative to {Path.cwd()})."))
            paths: List[PathLike] = list(matched)
        else:
            paths = [path]
    elif isinstance(paths_or_pattern, Sequence):
        paths = list(paths_or_pattern)
        if not paths:
            raise DataValidationError(fmt_error("read_labelled", "the list of files must not be empty", [],
                                                "Pass one file per label, e.g. sentiment.train.0 and .1."))
    else:
        raise DataValidationError(fmt_error("read_labelled", "pass a {label: path} mapping, a list of paths, a glob "
                                                             "pattern or a CSV/TSV path",
                                            type(paths_or_pattern).__name__, "See the docstring for the layouts."))
    files = []
    for p in paths:
        p = Path(p)
        label = Path(strip_gz(p.name)).suffix[1:]
        if not label:
            raise DataValidationError(fmt_error(str(p), "a per-label file's last suffix must be its label",
                                                p.name, "Name the files like sentiment.train.0, or pass a "
                                                        "{label: path} mapping."))
        files.append((label, p))
    return _read_per_label(files, lowercase)


def _read_per_label(files: Iterable[Tuple[str, Path]], lowercase: bool) -> Tuple[List[str], List[str]]:
    sentences: List[str] = []
    labels: List[str] = []
    for label, path in files:
        s = read_sentences(path, lowercase=lowercase)
        sentences.extend(s)
        labels.extend([label] * len(s))
    return sentences, labels


def _read_table(path: Path, label_column: Optional[str], text_column: Optional[str],
                lowercase: bool) -> Tuple[List[str], List[str]]:
    pd = require("pandas", "text")
    where = str(path)
    sep = delimiter_of(format_of(path)[0])
    # dtype=str keeps labels as written ("0", not 0); only empty cells are missing, so a text
    # such as "NA" or "null" stays text.
    kw = dict(sep=sep, dtype=str, keep_default_na=False, na_values=[""], compression="infer")
    if sep == "\t":
        kw["quoting"] = csv.QUOTE_NONE
    try:
        df = pd.read_csv(path, **kw)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise DataValidationError(fmt_error(where, "the table must be readable UTF-8 CSV/TSV with a header",
                                            f"{type(exc).__name__}: {exc}",
                                            "Check the separator (.csv: comma, .tsv: tab) and the header "
                                            "line.")) from exc
    cols = [str(c) for c in df.columns]
    df.columns = cols
    tcol = find_column(cols, TEXT_NAMES, role="text", key="text_column", where=where, given=text_column,
                       several="first")
    lcol = find_column(cols, LABEL_NAMES, role="label", key="label_column", where=where, given=label_column,
                       several="first")
    if tcol == lcol:
        raise DataValidationError(fmt_error(where, "the text and label columns must differ", tcol,
                                            "Pass text_column and label_column naming different columns."))
    if len(df) == 0:
        raise DataValidationError(fmt_error(where, "the table must hold at least one row", f"columns {cols}",
                                            "Point it to a non-empty table."))
    texts = df[tcol].fillna("").str.strip()
    labels = df[lcol].fillna("").str.strip()
    for role, col, values in (("text", tcol, texts), ("label", lcol, labels)):
        bad = (values == "").to_numpy().nonzero()[0]
        if len(bad):
            raise DataValidationError(fmt_error(where, f"every row needs a {role} (column {col!r}); rows (1-based, "
                                                       f"after the header) are missing it", show((bad + 1).tolist()),
                                                "Fill in or remove those rows."))
    sentences = texts.tolist()
    if lowercase:
        sentences = [s.lower() for s in sentences]
    return sentences, labels.tolist()


__all__ = ["read_sentences", "read_input_lines", "read_ptb", "read_references", "read_labelled", "yelp_paths", "TEXT_NAMES",
           "LABEL_NAMES", "YELP_SOURCES"]
