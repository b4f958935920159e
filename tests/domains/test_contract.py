"""Every discovered domain passes the shared contract check (``vaekit.pipelines.checks``), and
the discovery itself: entries are read, validated and found without a list in shared files."""
from __future__ import annotations

from pathlib import Path

import pytest

from vaekit.core.errors import ConfigError
from vaekit.domains import domain_entries, domain_names, get_domain
from vaekit.domains.entries import read_entry
from vaekit.pipelines.checks import DomainContractError, check_domain, check_metrics

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


def test_every_domain_folder_is_discovered_in_its_order():
    folders = {p.parent.name for p in DOMAINS.glob("*/domain.yaml")}
    assert set(domain_names()) == folders
    assert domain_names()[:5] == ["toy", "molecules", "anomaly", "recsys", "text"]
    assert {"toy", "molecules", "anomaly", "recsys", "text", "images"} <= folders


@pytest.mark.parametrize("name", domain_names())
def test_domain_contract(name, tmp_path):
    res = check_domain(name, tmp_path)
    assert res, f"{name}: its metrics returned nothing"


def _write(tmp_path: Path, folder: str, text: str) -> Path:
    d = tmp_path / folder
    d.mkdir()
    (d / "domain.yaml").write_text(text)
    return d


def test_malformed_entries_are_clear_errors(tmp_path):
    d = _write(tmp_path, "mine", "name: other\n")
    with pytest.raises(ConfigError, match=r"domain.yaml.name: must equal the folder name 'mine'; got 'other'"):
        read_entry(d, "pkg.mine")
    d = _write(tmp_path, "typo", "name: typo\nsmoek: [a=1]\n")
    with pytest.raises(ConfigError, match=r"unknown keys \['smoek'\]"):
        read_entry(d, "pkg.typo")
    d = _write(tmp_path, "badbase", "name: badbase\ndemo: {metric: {key: a, label: A}, baseline: {key: b}}\n")
    with pytest.raises(ConfigError, match=r"demo.baseline: must be a mapping with exactly the keys"):
        read_entry(d, "pkg.badbase")
    d = _write(tmp_path, "ok", "name: ok\ndemo: {metric: {key: a, label: A}, baseline: {prefix: p/, suffix: _s, "
                               "label: best}}\nsmoke: [data.n=3]\n")
    e = read_entry(d, "pkg.ok")
    assert e.demo.baseline == ("p/", "_s", "best") and e.smoke == ("data.n=3",) and e.module == "pkg.ok.domain"


def test_a_plugin_domain_is_found_through_its_entry_point(tmp_path, monkeypatch):
    import sys
    from importlib import metadata

    import vaekit.domains.entries as entries

    pkg = tmp_path / "plugdom"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "domain.yaml").write_text("name: plugdom\norder: 50\n")
    (pkg / "domain.py").write_text(
        "from vaekit.domains.toy.domain import ToyDomain\n"
        "class Plug(ToyDomain):\n    name = 'plugdom'\nDOMAIN = Plug()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = metadata.EntryPoint(name="plugdom", value="plugdom", group=entries.ENTRY_POINT_GROUP)
    real = metadata.entry_points
    monkeypatch.setattr(metadata, "entry_points",
                        lambda **kw: [ep] if kw.get("group") == entries.ENTRY_POINT_GROUP else real(**kw))
    monkeypatch.setattr(entries, "_ENTRIES", None)
    try:
        assert "plugdom" in domain_names()
        assert get_domain("plugdom").name == "plugdom"
    finally:
        entries._ENTRIES = None
        import vaekit.domains as doms

        doms._CACHE.pop("plugdom", None)
        sys.modules.pop("plugdom.domain", None)
        sys.modules.pop("plugdom", None)


def test_the_checker_fails_on_a_metric_without_a_direction(tmp_path):
    from vaekit.domains.base import Metric

    class NoDirection(Metric):
        name = "bad"
        higher_is_better = {"bad/a": True}

        def compute(self, ctx):
            return {"bad/a": 1.0, "bad/b": 2.0}

    class Dom:
        def metrics(self):
            return [NoDirection()]

    class Ctx:
        seed = 0

    with pytest.raises(DomainContractError, match=r"domain 'x': metric 'bad' must declare a direction.*'bad/b'"):
        check_metrics("x", Dom(), Ctx())


def test_the_checker_fails_on_a_bundle_that_breaks_the_shape_rule():
    import torch

    from vaekit.core.types import Batch, DataBundle, DataInfo
    from vaekit.pipelines.checks import check_bundle

    info = DataInfo(kind="vector", shape=(3,), likelihood="gaussian", n_train=8)
    rows = [torch.zeros(3) for _ in range(8)]

    def bad_collate(items):  # y has one row too few
        return Batch(x=torch.stack(items), y=torch.zeros(len(items) - 1))

    data = DataBundle(train=rows, val=None, test=None, info=info, collate=bad_collate)
    with pytest.raises(DomainContractError, match=r"domain 'x': Batch.y must lead with the batch size 4; got \(3,\)"):
        check_bundle("x", data)
    data = DataBundle(train=rows, val=None, test=None, info=info, collate=lambda items: torch.stack(items))
    with pytest.raises(DomainContractError, match=r"collate must return a Batch; got 'Tensor'"):
        check_bundle("x", data)


def test_a_missing_required_module_names_the_pip_extra(monkeypatch):
    import dataclasses

    import vaekit.domains.entries as entries
    from vaekit.core.errors import MissingDependencyError

    found = dict(domain_entries())
    found["toy"] = dataclasses.replace(found["toy"], requires=("no_such_module_for_vaekit",))
    monkeypatch.setattr(entries, "_ENTRIES", found)
    with pytest.raises(MissingDependencyError, match=r"'no_such_module_for_vaekit'.*pip install 'vaekit\[toy\]'"):
        get_domain("toy").check_requirements()
