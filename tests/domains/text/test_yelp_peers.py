"""Slow check on the shared Yelp data: vaekit's BLEU reproduces the issue's peer numbers.

Self-BLEU needs no classifier, so it pins the evaluator down exactly: DeleteAndRetrieve 36.7,
CrossAligned 20.4 (issue 6; both sides normalised as in benchmarks/text_peers.py).
"""
from pathlib import Path

import pytest

from vaekit.domains.text.data import read_references
from vaekit.domains.text.metrics import normalise_text, self_bleu

YELP = Path("../shared/data/text/yelp")
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
