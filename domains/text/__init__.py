"""vaekit.domains.text: sentences and their style (issue 6, in progress).

* data (:mod:`.data`): one-sentence-per-line files with a label per file (Yelp style) or a
  label column, the Yelp references, PTB; word vocabulary with <unk>;
* metrics (:mod:`.metrics`): corpus BLEU to references and to the sources (sacrebleu), style
  accuracy by a separately trained TF-IDF logistic-regression classifier.

The models, the domain and its configs come next.
"""
