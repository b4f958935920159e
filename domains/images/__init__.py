"""The images domain: binary and grey-level images (MNIST-style ``.npz`` files, or generated
shapes), for density estimation (test NLL in nats) and for studying what a latent stores."""
from .data import ImagesDataConfig, generate_shapes, load_images

__all__ = ["ImagesDataConfig", "generate_shapes", "load_images"]
