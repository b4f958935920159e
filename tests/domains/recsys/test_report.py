"""The recommendation domain's view in ``report.html``: Recall/NDCG by k of the VAE beside EASE
and popularity (the same numbers as the evaluation's metrics, without refitting EASE), and
example recommendations."""
from __future__ import annotations

import html
import re
import warnings

import pytest

pytest.importorskip("pandas")
pytest.importorskip("scipy.sparse")

from vaekit.domains.base import EvalContext  # noqa: E402
from vaekit.domains.recsys import report as recsys_report  # noqa: E402
from vaekit.domains.recsys.baselines import EASERecommender  # noqa: E402
from vaekit.domains.recsys.evaluation import EASE_GRID  # noqa: E402
from vaekit.pipelines import load_config, train_run  # noqa: E402
from vaekit.pipelines.runs import evaluate_run, load_run  # noqa: E402

TINY = ["data.synthetic_users=300", "data.synthetic_items=100", "data.n_heldout_users=30", "train.max_steps=20",
        "train.batch_size=100", "train.eval_every=10", "train.progress=false", "eval.mi_examples=30"]
BY_K = "Recall and NDCG by k"
EXAMPLES = "Example recommendations"
# (result key prefix, model label in the table)
MODELS = (("rank/", "VAE"), ("baseline/ease_", "EASE"), ("baseline/popularity_", "popularity"))


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A trained tiny run, evaluated, with the number of EASE fits the evaluation made."""
    run_dir = tmp_path_factory.mktemp("recsys_report") / "run"
    fits = []
    fit = EASERecommender.fit

    def counted_fit(self, *args, **kwargs):
        fits.append(self.l2)
        return fit(self, *args, **kwargs)

    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        warnings.simplefilter("ignore")
        train_run(load_config("recsys:default", TINY), run_dir, resume="never", log=lambda m: None)
        mp.setattr(EASERecommender, "fit", counted_fit)
        result = evaluate_run(run_dir)
    return run_dir, result, len(fits)


def _section(page: str, title: str) -> str:
    """The HTML of the report section ``title`` (up to the next one)."""
    start = page.index(f">{html.escape(title)}</h2>")
    end = page.find("<h2", start)
    return page[start:] if end < 0 else page[start:end]


def _tables(body: str):
    """``[(header, rows)]`` of the tables in ``body``, cells as unescaped text."""
    out = []
    for t in re.findall(r"<table>.*?</table>", body, flags=re.S):
        header = [html.unescape(c) for c in re.findall(r"<th>(.*?)</th>", t)]
        rows = [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", r)]
                for r in re.findall(r"<tr>(.*?)</tr>", t.split("<tbody>", 1)[1])]
        out.append((header, rows))
    return out


def _check_by_k_table(body: str, result) -> None:
    """Every cell of the by-k table at a cut-off the metrics report equals the metric (to 1e-6)."""
    (header, rows), = _tables(body)
    n_checked = 0
    for row in rows:
        k = int(row[0].replace(",", ""))
        for prefix, model in MODELS:
            for key, label in (("recall", "Recall"), ("ndcg", "NDCG")):
                metric = f"{prefix}{key}@{k}"
                if metric in result:
                    assert float(row[header.index(f"{model} {label}@k")]) == pytest.approx(result[metric], abs=1e-6)
                    n_checked += 1
    assert [int(r[0]) for r in rows] == [1, 5, 10, 20, 50, 100]  # the catalogue holds 100 items
    assert n_checked == 3 * 2 * 3  # k = 20, 50, 100 of eval.options.ks, for 3 models and 2 metrics


def test_report_plots_recall_and_ndcg_by_k_with_the_metrics_numbers(evaluated):
    run_dir, result, n_fits = evaluated
    page = (run_dir / "report.html").read_text()
    body = _section(page, BY_K)
    assert body.count('<img src="data:image/png;base64,') >= 2
    _check_by_k_table(body, result)
    # The report reuses the metrics' rankings: EASE is fitted for its L2 tuning and once more, no further.
    assert n_fits == len(EASE_GRID) + 1


def test_report_lists_example_recommendations_with_hits_marked(evaluated):
    run_dir, _, _ = evaluated
    (header, rows), = _tables(_section((run_dir / "report.html").read_text(), EXAMPLES))
    assert header[3] == "VAE top-5" and len(rows) == 3
    for user, n_held, held, top, n_hits in rows:
        top_items = top.split(", ")
        assert len(top_items) == 5 and int(n_held) >= 1
        assert top.count(recsys_report.HIT) == held.count(recsys_report.HIT) == int(n_hits)


def test_without_matplotlib_the_view_keeps_its_tables_and_recomputes_the_same_numbers(evaluated, monkeypatch):
    run_dir, result, _ = evaluated
    cfg, domain, model, _, _ = load_run(run_dir, "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = domain.load_data(cfg.data_config, cfg.train.seed)
        # A fresh context: no metric ran, so the view scores and fits what it shows itself.
        ctx = EvalContext(model, data, result["split"], options=cfg.eval_options)
        monkeypatch.setattr(recsys_report, "plotting", lambda: None)
        sections = domain.report_sections(ctx, result)
    assert [s.title for s in sections] == [BY_K, EXAMPLES]
    by_k = sections[0].body
    assert "<img" not in by_k and "matplotlib" in by_k
    _check_by_k_table(by_k, result)
