"""Worker launched by ``torchrun`` in test_ddp.py: trains a tiny VAE and saves rank 0's weights.

usage: torchrun --standalone --nproc_per_node=W ddp_worker.py OUT.pt BATCH ACCUM STEPS [phased]

``phased`` trains with a two-phase plan (encoder + head for 3 steps, then the decoder for 2).
"""
import sys

import torch

from vaekit.core.distributed import cleanup, init_distributed
from vaekit.core.objectives import ELBO
from vaekit.core.phases import PhaseConfig
from vaekit.core.trainer import TrainConfig, fit
from vaekit.core.vae import ComponentConfig, ModelConfig, build_vae
from vaekit.domains.toy.data import ToyDataConfig, make_toy_data


PHASES = (PhaseConfig("encoder", ("encoder", "head"), steps=3), PhaseConfig("decoder", ("decoder",), steps=2))


def main(out, batch, accum, steps, phased=False):
    env = init_distributed("cpu")
    data = make_toy_data(ToyDataConfig(kind="mixture", n_train=256, n_val=64, n_test=64, x_dim=8))
    torch.manual_seed(0)
    model = build_vae(ModelConfig(latent_dim=3, encoder=ComponentConfig("mlp", {"hidden_dims": [16]}),
                                  decoder=ComponentConfig("mlp", {"hidden_dims": [16]})), data.info)
    cfg = TrainConfig(max_steps=steps, batch_size=batch, grad_accum=accum, eval_every=steps, progress=False,
                      device="cpu", restore_best=False, lr=3e-3, phases=PHASES if phased else ())
    st = fit(model, ELBO(beta={"kind": "linear", "steps": 10}), data, cfg, env=env)
    if env.is_main:
        torch.save({"model": model.state_dict(), "val": st.last_val, "world": env.world_size}, out)
    cleanup(env)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), phased=sys.argv[5:] == ["phased"])
