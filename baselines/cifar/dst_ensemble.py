r"""DST Ensemble (FreeTickets, Algorithm 3): M independent DST runs.

Each member starts from its own random sparse network (seed + j) and is
trained with RigL (or SET, --growth=random) for `train_epochs` at LR 0.1,
divided by 10 at 50% and 75% of training. Members train one after another;
`--member_index=j` trains only member j (one job per member on a cluster).
The job that finds all M tickets complete writes the ensemble report.

  # Table 1, CIFAR-10 row "DST Ensemble (M = 3) (S = 0.8)".
  python baselines/cifar/dst_ensemble.py --sparsity=0.8 --ensemble_size=3 \
      --output_dir=/tmp/dst --download_data
  python baselines/cifar/dst_ensemble.py --quick --download_data
"""

from absl import app
from absl import flags

from baselines.methods import common_flags
from baselines.methods import members
from baselines.methods import registry

common_flags.define_common_flags()
common_flags.define_sparsity_flags(sparsity=0.8)
members.define_flags(ensemble_size=3)
# --help lists every flag the binary uses, not only those defined here.
flags.adopt_module_key_flags(common_flags)
flags.adopt_module_key_flags(members)
main = registry.main('dst_ensemble', flags.FLAGS)

if __name__ == '__main__':
  app.run(main)
