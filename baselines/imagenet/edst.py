r"""EDST Ensemble on ImageNet (FreeTickets, Algorithm 1; Table 3).

A sparse ResNet-50 (S = 0.8, ERK) is trained with RigL (ΔT = 4000 steps at a
batch of 128, p = 0.5 cosine-annealed, restarted at each re-exploration as
the authors' code) through an exploration phase of t_ex = 30 epochs at LR
0.1 (after a 5-epoch linear warm-up), then M refinements of t_re = 70
epochs at LR 0.01, 0.001 from epoch 30 and 0.0001 from epoch 60 of each
(the authors' code); each ends in a ticket, and each but the last is
followed by a re-exploration of q = 0.8. Label smoothing 0.1.

  # Table 3, "EDST Ensemble (M = 2) (S = 0.8)": 170 epochs, on a TPU.
  python baselines/imagenet/edst.py --data_dir=gs://bucket/tfds \
      --output_dir=gs://bucket/edst --tpu=NAME --use_bfloat16
  # "(M = 4)": 310 epochs.
  python baselines/imagenet/edst.py --ensemble_size=4 --data_dir=...
"""

from absl import app
from absl import flags

from baselines.methods import common_flags
from baselines.methods import edst
from baselines.methods import registry
from baselines.methods import tasks

common_flags.define_imagenet_flags()
common_flags.define_imagenet_sparsity_flags(sparsity=0.8)
edst.define_flags(ensemble_size=2, exploration_epochs=30,
                  refinement_epochs=70)
# --help lists every flag the binary uses, not only those defined here.
flags.adopt_module_key_flags(common_flags)
flags.adopt_module_key_flags(edst)
main = registry.main('edst', flags.FLAGS, tasks.IMAGENET)

if __name__ == '__main__':
  app.run(main)
