"""Issue 19 item 16: every YAML file vaekit reads refuses a key given twice (PyYAML keeps the last)."""
from __future__ import annotations

import pytest

from vaekit.core.errors import ConfigError
from vaekit.domains.entries import read_entry
from vaekit.pipelines.benchmark import load_spec
from vaekit.pipelines.history import find_runs


def test_benchmark_spec_with_a_duplicate_key_is_refused(tmp_path):
    p = tmp_path / "spec.yaml"
    p.write_text("name: x\nseeds: [1]\nseeds: [1, 2, 3]\n")
    with pytest.raises(ConfigError, match=r"spec\.yaml, line 3: a key may appear only once .*'seeds'"):
        load_spec(p)


def test_domain_entry_with_a_duplicate_key_is_refused(tmp_path):
    (tmp_path / "domain.yaml").write_text("name: a\nsummary: s\nname: b\n")
    with pytest.raises(ConfigError, match=r"domain\.yaml, line 3: a key may appear only once .*'name'"):
        read_entry(tmp_path, "vaekit.domains.x")


def test_runs_listing_skips_an_unreadable_config(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "config.yaml").write_bytes(b"\xff\xfe\x00garbage")
    assert find_runs(tmp_path) == []
