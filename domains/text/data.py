"""Deprecated module path: the text data code now lives in :mod:`.io` (readers) and
:mod:`.tokens` (sentence checks, tokens, vocabulary, ids). These re-exports keep
``vaekit.domains.text.data`` importable while the other modules move to the new homes; they are
to be removed.
"""
from .io import (LABEL_NAMES, TEXT_NAMES, YELP_SOURCES, read_labelled, read_ptb, read_references, read_sentences,
                 yelp_paths)
from .tokens import ON_LONG, build_vocab, check_labels, check_sentences, encode_sentences, tokenize

__all__ = ["check_sentences", "tokenize", "read_sentences", "read_ptb", "read_references", "read_labelled", "yelp_paths",
           "check_labels", "build_vocab", "encode_sentences", "TEXT_NAMES", "LABEL_NAMES", "YELP_SOURCES", "ON_LONG"]
