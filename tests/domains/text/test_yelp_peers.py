"""Slow check on the shared Yelp data: vaekit's BLEU reproduces the issue's peer numbers.

Self-BLEU needs no classifier, so it pins the evaluator down exactly: DeleteAndRetrieve 36.7,
CrossAligned 20.4 (issue 6; both sides normalised as in vaekit.domains.text.protocol).
"""
import pytest

from vaekit.domains.data_root import data_path
from vaekit.domains.text.io import read_references
from vaekit.domains.text.metrics import normalise_text, self_bleu

YELP = data_path("text/yelp")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not YELP.is_dir(), reason="needs ../shared/data/text/yelp")]


def _outputs(system):
    outs = []
    for lab in "01":
        for line in (YELP / "li2018_outputs" / f"sentiment.test.{lab}.{system}").read_text().splitlines():
            outs.append(line.split("\t")[1])
    return outs


@pytest.mark.parametrize("system,expected", [("orgin", 36.7), ("mit", 20.4)])
def test_self_bleu_of_released_outputs(system, expected):
    sources = []
    for lab in "01":
        sources += read_references(YELP / f"li2018.reference.{lab}")[0]
    outs = _outputs(system)
    assert len(outs) == len(sources) == 1000
    got = self_bleu([normalise_text(o) for o in outs], [normalise_text(s) for s in sources])
    assert got == pytest.approx(expected, abs=0.05)


def test_yelp_transfer_suite_scores_released_systems_through_vaekit_benchmark(tmp_path):
    """The `text:yelp-transfer` suite of `vaekit benchmark` gives the same self-BLEU."""
    import yaml

    from vaekit.pipelines.benchmark import benchmark_from_file

    spec = {"name": "yelp", "suite": "text:yelp-transfer", "options": {"data": str(YELP)},
            "runs": [{"label": "copy", "model": "copy input"}, {"label": "D&R", "model": "DeleteAndRetrieve"}],
            "metrics": ["acc", "self", "ref"]}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    res = benchmark_from_file(path, tmp_path / "out", log=lambda m: None)
    rows = {r["label"]: r["values"] for r in res["rows"]}
    assert rows["copy"]["self"][0] == pytest.approx(100.0)
    assert rows["D&R"]["self"][0] == pytest.approx(36.7, abs=0.05)
    assert rows["D&R"]["acc"][0] > 80 > rows["copy"]["acc"][0]
