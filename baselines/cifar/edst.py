r"""EDST Ensemble (FreeTickets, Algorithm 1): M free tickets from one run.

A sparse Wide ResNet is trained with DST (RigL by default) through an
exploration phase at LR 0.1 (t_ex epochs), then M refinement phases of t_re
epochs at LR 0.01 / 0.001; each refinement ends in a ticket, and each but the
last is followed by a re-exploration that drops and regrows q of the active
weights.

  # Table 1, CIFAR-10 row "EDST Ensemble (M = 3) (S = 0.8)": 450 epochs.
  python baselines/cifar/edst.py --sparsity=0.8 --ensemble_size=3 \
      --output_dir=/tmp/edst --download_data
  # Row "(M = 7) (S = 0.9)": 850 epochs.
  python baselines/cifar/edst.py --sparsity=0.9 --ensemble_size=7
  # The whole pipeline on a WRN-10-1 and 4096 images, a minute on a CPU.
  python baselines/cifar/edst.py --quick --download_data --output_dir=/tmp/q
"""

from absl import app
from absl import flags

from baselines.methods import common_flags
from baselines.methods import edst
from baselines.methods import registry

common_flags.define_common_flags()
common_flags.define_sparsity_flags(sparsity=0.8)
edst.define_flags(ensemble_size=3, exploration_epochs=150,
                  refinement_epochs=100)
# --help lists every flag the binary uses, not only those defined here.
flags.adopt_module_key_flags(common_flags)
flags.adopt_module_key_flags(edst)
main = registry.main('edst', flags.FLAGS)

if __name__ == '__main__':
  app.run(main)
