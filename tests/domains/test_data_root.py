"""The data-root setting: precedence, the `data_root:` prefix, old `../shared/data/...` paths, the CLI."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vaekit.domains import data_root as dr


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(dr.ENV_VAR, raising=False)


def test_precedence_flag_over_environment_over_fallback(monkeypatch, tmp_path):
    assert dr.data_root() == Path("../shared/data")
    monkeypatch.setenv(dr.ENV_VAR, str(tmp_path / "env"))
    assert dr.data_root() == tmp_path / "env"
    with dr.using_data_root(tmp_path / "flag"):
        assert dr.data_path("anomaly/adbench") == tmp_path / "flag" / "anomaly" / "adbench"
        with dr.using_data_root(None):  # no flag given: the setting stands
            assert dr.data_root() == tmp_path / "flag"
    assert dr.data_root() == tmp_path / "env"  # the flag does not outlive its command


def test_prefix_legacy_paths_lists_and_mappings_resolve(tmp_path):
    with dr.using_data_root(tmp_path):
        got = dr.resolve_data_value({"path": "data_root:recsys/ml-100k/x.gz",
                                     "old": "../shared/data/text/yelp/li2018.reference.*",
                                     "globs": ["data_root:a/*.txt", "mine.csv"], "n": 3, "none": None,
                                     "nested": {"p": dr.UnderDataRoot("core/mnist.npz")}})
    assert got == {"path": str(tmp_path / "recsys/ml-100k/x.gz"), "old": str(tmp_path / "text/yelp/li2018.reference.*"),
                   "globs": [str(tmp_path / "a/*.txt"), "mine.csv"], "n": 3, "none": None,
                   "nested": {"p": str(tmp_path / "core/mnist.npz")}}
    # with no setting, an old run dir's path is the very same string as before
    assert dr.resolve_data_value("../shared/data/recsys/ml-1m-diffrec") == "../shared/data/recsys/ml-1m-diffrec"
    assert str(dr.UnderDataRoot("anomaly/adbench")) == "data_root:anomaly/adbench"


def test_packaged_configs_name_shared_data_through_the_root_only():
    from vaekit.domains import domain_names, get_domain

    for d in domain_names():
        for f in get_domain(d).configs_dir().glob("*.yaml"):
            data = (yaml.safe_load(f.read_text()) or {}).get("data") or {}
            assert "../shared/data" not in yaml.safe_dump(data), f"{f}: write data_root:... instead"


def test_run_config_data_paths_follow_the_root_old_and_new_spelling(tmp_path):
    from vaekit.pipelines.config import config_from_dict, load_config

    want = str(tmp_path / "recsys" / "ml-100k" / "ml-100k.inter.gz")
    with dr.using_data_root(tmp_path):  # paths resolve when the data section is read, under the root then in effect
        new = load_config("recsys:ml100k")
        old = config_from_dict({"domain": "recsys", "data": {"path": "../shared/data/recsys/ml-100k/ml-100k.inter.gz"}})
        assert str(new.data_config.path) == want and str(old.data_config.path) == want
    assert new.data["path"] == "data_root:recsys/ml-100k/ml-100k.inter.gz"  # the mapping keeps the portable form
    assert str(new.data_config.path) == "../shared/data/recsys/ml-100k/ml-100k.inter.gz"  # the fallback root


def test_cli_data_root_flag_and_environment_variable(tmp_path, monkeypatch, capsys):
    from vaekit.pipelines.cli import main

    assert main(["config", "recsys:ml100k", "--data-root", str(tmp_path / "flag")]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["data"]["path"] == str(tmp_path / "flag/recsys/ml-100k/ml-100k.inter.gz")
    monkeypatch.setenv(dr.ENV_VAR, str(tmp_path / "env"))
    assert main(["config", "recsys:ml100k"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["data"]["path"] == str(tmp_path / "env/recsys/ml-100k/ml-100k.inter.gz")
    assert dr.data_root() == tmp_path / "env"
