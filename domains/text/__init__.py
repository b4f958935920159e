"""vaekit.domains.text: sentences, their style, and VAEs that restyle them.

* data: :mod:`.io` (one-sentence-per-line files with a label per file (Yelp style) or a label
  column, the Yelp references, PTB) and :mod:`.tokens` (tokens, word vocabulary with ``<unk>``, ids);
* the ``data`` section and loader (:mod:`.loading`), the generated two-style corpus of the
  embedded default (:mod:`.corpus`);
* use of a trained model (:mod:`.style`): ``transfer``, ``reconstruct``, ``sample``,
  ``interpolate``;
* metrics (:mod:`.metrics`, :mod:`.evaluation`): corpus BLEU to references and to the sources
  (sacrebleu), style accuracy by a separately trained TF-IDF logistic-regression classifier,
  fluency under a Kneser-Ney LM (:mod:`.lm`), beside the copy-the-input and human rows.

The models are core VAEs: a GRU sentence VAE, and with a ``control`` term (``model.terms``) the controllable VAE of
Hu et al. 2017 (:mod:`vaekit.core.control`).
"""
from .loading import TextDataConfig, TextDataset, decode_ids, load_text
from .metrics import StyleClassifier, copy_baseline, normalise_text, ref_bleu, self_bleu, transfer_accuracy

__all__ = ["TextDataConfig", "TextDataset", "load_text", "decode_ids", "StyleClassifier", "copy_baseline",
           "normalise_text", "ref_bleu", "self_bleu", "transfer_accuracy"]
