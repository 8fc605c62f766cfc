r"""Static Sparse Ensemble: M sparse networks whose masks never change.

The same as the DST Ensemble (random ERK masks, seed + j per member, LR 0.1
divided by 10 at 50% and 75%) without mask updates (Appendix C).

  # Table 1, CIFAR-10 row "Static Sparse Ensemble (M = 3) (S = 0.8)".
  python baselines/cifar/static_sparse.py --sparsity=0.8 --ensemble_size=3 \
      --output_dir=/tmp/static --download_data
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
main = registry.main('static', flags.FLAGS)

if __name__ == '__main__':
  app.run(main)
