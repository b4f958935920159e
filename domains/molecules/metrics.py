"""Deprecated module path: the MOSES metrics now live in the subpackage :mod:`.moses`
(``chem``, ``filters``, ``features``, ``sets``, ``similarity``, ``fcd``, ``reference``,
``metrics``). This re-export of exactly ``moses.__all__`` keeps
``vaekit.domains.molecules.metrics`` importable while the other modules move to the new home;
it is to be removed.
"""
from .moses import *  # noqa: F401,F403  (the names of moses.__all__, nothing else)
from .moses import __all__  # noqa: F401
