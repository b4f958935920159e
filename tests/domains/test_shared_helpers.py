"""The helpers every domain adapter shares (domains/io.py, lazy.py, seeding.py, EvalContext.options_as),
each domain's accepted table suffixes after they were unified, and no import circle between
domain modules."""
from __future__ import annotations

import ast
import gzip
import importlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from vaekit.core.errors import DataValidationError
from vaekit.domains import io as dio
from vaekit.domains.base import EvalContext
from vaekit.domains.lazy import lazy_exports
from vaekit.domains.seeding import eval_mode, seeded

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


# ---------------------------------------------------------------------------- suffixes and .gz
@pytest.mark.parametrize("name, expected", [
    ("a.csv", (".csv", False)), ("a.CSV.gz", (".csv", True)), ("t.tab", (".tab", False)),
    ("sentiment.train.1", (".1", False)), ("data.gz", ("", True)), ("noext", ("", False)),
    ("x.parquet", (".parquet", False)),
])
def test_format_of_strips_gz_and_lowercases(name, expected):
    assert dio.format_of(Path(name)) == expected


def test_strip_gz_keeps_the_case_of_the_rest():
    assert dio.strip_gz("Sentiment.Train.POS.GZ") == "Sentiment.Train.POS"
    assert dio.strip_gz("a.csv") == "a.csv"


def test_open_text_and_binary_read_gz_transparently(tmp_path):
    plain_file, gz_file = tmp_path / "a.txt", tmp_path / "a.txt.gz"
    plain_file.write_text("one\ntwo\n", encoding="utf-8")
    with gzip.open(gz_file, "wt", encoding="utf-8") as fh:
        fh.write("one\ntwo\n")
    for p in (plain_file, gz_file):
        with dio.open_text(p) as fh:
            assert fh.read().splitlines() == ["one", "two"]
        with dio.open_binary(p) as fh:
            assert fh.read() == b"one\ntwo\n"


def test_check_file_names_where_and_the_working_directory(tmp_path):
    with pytest.raises(DataValidationError, match=r"data\.path: file not found; expected a \.csv file; got .*nope.*"
                                                  r"relative paths are read from"):
        dio.check_file(tmp_path / "nope.csv", "data.path", "a .csv file")
    with pytest.raises(DataValidationError):  # a folder is not a file
        dio.check_file(tmp_path, "data.path")
    (tmp_path / "a.csv").write_text("x\n")
    assert dio.check_file(str(tmp_path / "a.csv"), "data.path") == tmp_path / "a.csv"


def test_every_reader_accepts_the_same_delimited_suffixes():
    assert dio.DELIMITED_SUFFIXES == {".csv": ",", ".tsv": "\t", ".tab": "\t"}
    assert dio.delimiter_of(".tab") == "\t" and dio.delimiter_of(".parquet") is None


# ---------------------------------------------------------------------------- columns
def test_find_column_given_must_exist_and_suggests():
    cols = ["user_id", "item_id", "rating"]
    assert dio.find_column(cols, ("user",), role="user", key="user_col", where="f", given="item_id") == "item_id"
    with pytest.raises(DataValidationError, match=r"^f: no user column 'usr_id'; the columns are \['user_id', "
                                                  r"'item_id', 'rating'\]\. Set user_col to one of them instead of "
                                                  r"'usr_id'\. Did you mean 'user_id'\?$"):
        dio.find_column(cols, ("user",), role="user", key="user_col", where="f", given="usr_id")


def test_find_column_by_candidate_names_any_case_and_stripped():
    assert dio.find_column([" Label ", "x"], ("label", "y"), role="label", key="k", where="f") == " Label "
    assert dio.find_column(["x"], ("label",), role="label", key="k", where="f", required=False) is None
    with pytest.raises(DataValidationError, match=r"no label column found \(looked for a column named 'label', "
                                                  r"'y', any case\); the columns are \['x'\]\. Set k .* Extra\.$"):
        dio.find_column(["x"], ("label", "y"), role="label", key="k", where="f", hint="Extra.")


def test_find_column_several_matches_error_or_take_the_preferred_name():
    cols = ["y", "label"]
    with pytest.raises(DataValidationError, match=r"more than one column looks like the label column: "
                                                  r"\['y', 'label'\].*Set k to the one to use"):
        dio.find_column(cols, ("label", "y"), role="label", key="k", where="f")
    # several="first": the earliest of names wins, whatever the column order
    assert dio.find_column(cols, ("label", "y"), role="label", key="k", where="f", several="first") == "label"


def test_show_cuts_long_lists_and_prints_numpy_scalars_plainly():
    import numpy as np

    assert dio.show([np.int64(1), "a"]) == "[1, 'a']"
    assert dio.show(list(range(7)), 3) == "[0, 1, 2, ... (7 in all)]"


# ---------------------------------------------------------------------------- domains keep their inputs
def test_anomaly_reads_a_tab_file_and_a_gzipped_tsv(tmp_path):
    pytest.importorskip("pandas")
    from vaekit.domains.anomaly.io import read_table

    text = "a\tb\tlabel\n1\t2\t0\n3\t4\t1\n5\t6\t0\n"
    (tmp_path / "t.tab").write_text(text)
    with gzip.open(tmp_path / "t.tsv.gz", "wt") as fh:
        fh.write(text)
    for name in ("t.tab", "t.tsv.gz"):
        X, y = read_table(tmp_path / name)
        assert list(X.columns) == ["a", "b"] and y.tolist() == [0, 1, 0]
    (tmp_path / "t.npz.gz").write_bytes(b"x")
    with pytest.raises(DataValidationError, match=r"unknown file type '\.npz\.gz'"):
        read_table(tmp_path / "t.npz.gz")


def test_molecules_read_a_tab_table(tmp_path):
    pytest.importorskip("pandas")
    from vaekit.domains.molecules.io import read_molecule_file

    (tmp_path / "m.tab").write_text("SMILES\tname\nCCO\tethanol\nc1ccccc1\tbenzene\n")
    table = read_molecule_file(tmp_path / "m.tab")
    assert list(table.smiles) == ["CCO", "c1ccccc1"] and list(table.columns["name"]) == ["ethanol", "benzene"]


# ---------------------------------------------------------------------------- lazy package attributes
def test_lazy_exports_import_on_first_use_and_name_the_package():
    getattr_, names = lazy_exports("vaekit.domains", {".io": ["show", "plain"]}, submodules=["lazy"])
    assert names == ["lazy", "plain", "show"]
    assert getattr_("show") is dio.show
    assert getattr_("lazy") is importlib.import_module("vaekit.domains.lazy")
    with pytest.raises(AttributeError, match="module 'vaekit.domains' has no attribute 'nope'"):
        getattr_("nope")
    with pytest.raises(ValueError, match="'show' is listed twice"):
        lazy_exports("vaekit.domains", {".io": ["show"], ".tables": ["show"]})


@pytest.mark.parametrize("package, names", [
    ("anomaly", ["read_table", "breast_cancer_data", "load_anomaly", "AnomalyDataConfig", "TabularPreprocessor",
                 "roc_auc"]),
    ("molecules", ["load_molecules", "MoleculesDataConfig", "decode_tokens", "read_molecule_file", "scaffold_split"]),
    ("recsys", ["read_interactions", "binarize", "filter_min_counts", "Interactions", "strong_generalization_split",
                "leave_last_out_split", "load_diffrec", "synthetic_interactions", "RecsysDataConfig", "load_recsys"]),
])
def test_domain_packages_resolve_the_moved_names(package, names):
    pytest.importorskip("pandas")
    mod = importlib.import_module(f"vaekit.domains.{package}")
    for name in names:
        assert name in mod.__all__
        obj = getattr(mod, name)
        assert obj.__name__ == name and obj.__module__.startswith(f"vaekit.domains.{package}.")


# ---------------------------------------------------------------------------- eval options and torch state
@dataclass(frozen=True)
class _Opts:
    k: int = 3


def test_options_as_returns_the_options_or_the_defaults():
    ctx = EvalContext(model=None, data=None, options=_Opts(k=7))
    assert ctx.options_as(_Opts) == _Opts(k=7)
    assert EvalContext(model=None, data=None).options_as(_Opts) == _Opts()
    assert EvalContext(model=None, data=None, options=object()).options_as(_Opts) == _Opts()


def test_seeded_draws_depend_on_the_seed_only_and_restore_the_callers_stream():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    with seeded(5):
        a = torch.rand(4)
    with seeded(5):
        b = torch.rand(4)
    assert torch.equal(a, b)
    assert torch.equal(torch.rand(3), expected_next)  # the caller's stream is where it was


def test_eval_mode_restores_the_previous_mode_even_on_error():
    net = torch.nn.Dropout(0.5)
    net.train()
    with eval_mode(net) as m:
        assert m is net and not net.training
    assert net.training
    with pytest.raises(RuntimeError), eval_mode(net):
        raise RuntimeError("boom")
    assert net.training
    net.eval()
    with eval_mode(net):
        pass
    assert not net.training


# ---------------------------------------------------------------------------- no import circle
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(DOMAINS.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str):
    """Modules of the domains tree that ``path`` imports anywhere (functions included), except
    under ``if TYPE_CHECKING`` (annotations only, never run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and getattr(node.test, "id", "") ==
            "TYPE_CHECKING" for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        elif node.module and node.module.startswith("vaekit.domains"):
            target = node.module[len("vaekit."):]
        else:
            continue
        yield target
        for alias in node.names:
            yield f"{target}.{alias.name}"


def test_no_two_domain_modules_import_each_other():
    files = {_module_name(p): p for p in DOMAINS.rglob("*.py")}
    graph = {m: {t for t in _imports(p, m) if t in files and t != m} for m, p in files.items()}
    circles = sorted({tuple(sorted((a, b))) for a, targets in graph.items() for b in targets if a in graph[b]})
    assert circles == []


def test_anomaly_preprocess_imports_without_the_readers():
    """The former circle: preprocess.py needs only the feature checks, not the readers (fresh interpreter)."""
    code = ("import sys, vaekit.domains.anomaly.preprocess; "
            "print(sorted(m for m in sys.modules if m.startswith('vaekit.domains.anomaly.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert ast.literal_eval(out) == ["vaekit.domains.anomaly.features", "vaekit.domains.anomaly.preprocess"]
