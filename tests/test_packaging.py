"""Packaging: every package directory is installed under vaekit.*, configs ship as data."""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
TOP = {"core": "vaekit.core", "domains": "vaekit.domains", "pipelines": "vaekit.pipelines"}


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _setup():
    """The repository's setup.py as a module (its ``setup()`` call runs only as a script)."""
    spec = importlib.util.spec_from_file_location("vaekit_setup", ROOT / "setup.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _package_dirs():
    """Every folder under core/, domains/, pipelines/ that holds Python files -> import name."""
    found = {}
    for top, name in TOP.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found[".".join([name, *rel.parts]) if rel.parts else name] = init.parent
        for py in (ROOT / top).rglob("*.py"):
            assert (py.parent / "__init__.py").exists(), f"{py} is in a folder without __init__.py (not installed)"
    return found


def test_every_package_dir_is_listed_and_mapped():
    listed = _setup().package_dirs()
    dirs = _package_dirs()
    assert set(dirs) == set(listed), f"missing: {set(dirs) - set(listed)}; stale: {set(listed) - set(dirs)}"
    pkg_dir = _pyproject()["tool"]["setuptools"]["package-dir"]
    for top, name in TOP.items():
        assert pkg_dir[name] == top
    for name, folder in dirs.items():
        # a listed subpackage either has its own mapping or inherits its parent's
        assert (ROOT / listed[name]).resolve() == folder.resolve()
        mapped = pkg_dir.get(name)
        if mapped is not None:
            assert (ROOT / mapped).resolve() == folder.resolve()


def test_packaged_configs_are_package_data():
    data = _pyproject()["tool"]["setuptools"]["package-data"]
    for name, folder in _package_dirs().items():
        shipped = data.get(name, []) + data.get("*", [])
        if (folder / "configs").is_dir():
            assert "configs/*.yaml" in shipped, f"{name}/configs not shipped as package data"
        if (folder / "domain.yaml").is_file():
            assert "domain.yaml" in shipped, f"{name}/domain.yaml (the domain's entry) not shipped"


def test_vaekit_is_a_namespace_package_and_imports_resolve_to_the_checkout():
    import vaekit

    assert not hasattr(vaekit, "__file__") or vaekit.__file__ is None
    for name, folder in _package_dirs().items():
        mod = importlib.import_module(name)
        assert Path(mod.__file__).parent.resolve() == folder.resolve()


def test_console_script_and_extras():
    proj = _pyproject()["project"]
    assert proj["scripts"]["vaekit"] == "vaekit.pipelines.cli:main"
    assert "optional-dependencies" in proj["dynamic"]
    extras = _setup().extras()
    for extra in ("molecules", "anomaly", "recsys", "text", "all", "dev"):
        assert extra in extras
    assert any(d.startswith("pytest") for d in extras["dev"])
    # `all` holds every domain's requirements (each from its domains/<name>/domain.yaml)
    for name, reqs in _setup().domain_extras().items():
        assert set(reqs) <= set(extras["all"]), name
