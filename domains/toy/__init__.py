"""The toy domain: generated data with known latent structure, used to exercise the whole
pipeline end to end (and by core and pipeline tests)."""
from .data import ToyDataConfig, make_toy_data

__all__ = ["ToyDataConfig", "make_toy_data"]
