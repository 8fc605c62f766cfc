r"""LTR Ensemble: gradual magnitude pruning, rewinding, M retrains.

A dense-start Wide ResNet (masked layers with all-ones masks) is pruned to
S by gradual magnitude pruning (tfmot's cubic PolynomialDecay) during a full
run of `train_epochs`. The weights at `ltr_rewind_fraction` of training (5%)
are kept; then M members start from those weights with the final mask and
retrain (static mask, seeds seed + j) for the rest of the schedule
(Appendix C; Evci et al. 2020b).

  # Table 1, CIFAR-10 row "LTR Ensemble (M = 3) (S = 0.8)".
  python baselines/cifar/ltr_ensemble.py --sparsity=0.8 --ensemble_size=3 \
      --output_dir=/tmp/ltr --download_data
"""

from absl import app
from absl import flags

from baselines.methods import common_flags
from baselines.methods import ltr
from baselines.methods import members
from baselines.methods import registry

common_flags.define_common_flags()
members.define_flags(ensemble_size=3)
ltr.define_flags(sparsity=0.8)
# --help lists every flag the binary uses, not only those defined here.
flags.adopt_module_key_flags(common_flags)
flags.adopt_module_key_flags(members)
flags.adopt_module_key_flags(ltr)
main = registry.main('ltr', flags.FLAGS)

if __name__ == '__main__':
  app.run(main)
