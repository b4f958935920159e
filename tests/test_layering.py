"""Layering: core <- domains <- pipelines ("may be imported by"), checked on the source."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# DESIGN.md: core imports torch, numpy and pyyaml only; tqdm (a declared, dependency-free
# package) draws the trainer's progress bar.
CORE_THIRD_PARTY = {"torch", "numpy", "yaml", "tqdm"}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def _violations(folder: str, forbidden_prefixes, allowed_roots=None):
    bad = []
    for py in (ROOT / folder).rglob("*.py"):
        for line, mod in _imports(py):
            if any(mod == p or mod.startswith(p + ".") for p in forbidden_prefixes):
                bad.append(f"{py.relative_to(ROOT)}:{line} imports {mod}")
            root = mod.split(".")[0]
            if allowed_roots is not None and root not in allowed_roots and root not in sys.stdlib_module_names \
                    and root != "vaekit":
                bad.append(f"{py.relative_to(ROOT)}:{line} imports third-party {mod}")
    return bad


def test_core_imports_neither_domains_nor_pipelines_nor_extra_dependencies():
    assert _violations("core", ["vaekit.domains", "vaekit.pipelines"], CORE_THIRD_PARTY) == []


def test_domains_do_not_import_pipelines():
    assert _violations("domains", ["vaekit.pipelines"]) == []


def test_checker_detects_a_violation(tmp_path, monkeypatch):
    # the checker itself must be able to fail
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "x.py").write_text("import vaekit.pipelines.cli\nimport pandas\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _violations("core", ["vaekit.pipelines"], CORE_THIRD_PARTY) == [
        "core/x.py:1 imports vaekit.pipelines.cli", "core/x.py:2 imports third-party pandas"]
