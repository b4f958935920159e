"""vaekit.core: the domain-agnostic VAE core (models by composition, objectives, diagnostics,
trainer). Imports torch, numpy and pyyaml only."""
from .errors import (CheckpointError, ConfigError, DataValidationError, MissingDependencyError, NotFittedError,
                     TrainingError, VaekitError)
from .types import Batch, DataBundle, DataInfo, LatentSample, LossOutput, VAEOutput
from .registry import Registry
from .schedules import Constant, Cyclical, Exponential, Linear, Schedule, build_schedule
from .likelihoods import (LIKELIHOODS, BernoulliLikelihood, CategoricalLikelihood, GaussianLikelihood, Likelihood,
                          MultinomialLikelihood)
from .encoders import ENCODERS, ConvEncoder, Encoder, GRUEncoder, LSTMEncoder, MLPEncoder, TextCNNEncoder
from .decoders import DECODERS, ConvDecoder, Decoder, GRUDecoder, LSTMDecoder, MLPDecoder
from .heads import HEADS, GaussianHead, GumbelSoftmaxHead, LatentHead
from .priors import PRIORS, ConditionalGaussian, Prior, StandardNormal, UniformCategorical
from .nn import MLP, ConditionEmbedder
from .terms import TERMS, Term
from .property_head import PropertyHead, PropertyHeadConfig
from .control import AttributeController, ControlConfig
from .recon_losses import AdversarialConfig, AdversarialTerm, PerceptualConfig, PerceptualTerm
from .vae import VAE, ComponentConfig, ConditionConfig, ModelConfig, build_vae
from .objectives import ELBO, CapacityConfig, ObjectiveConfig, build_objective, iwae_nll
