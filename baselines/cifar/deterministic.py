r"""The dense single model (UB's deterministic baseline), or M of them.

A dense Wide ResNet with the recipe of the authors' dense and DST runs: 250
epochs at LR 0.1, divided by 10 at 50% and 75% of training, no warm-up (UB's
own schedule, x0.2 at 30/60/80% after a warm-up, is
--lr_decay_epochs=60,120,160 --lr_decay_ratio=0.2 --lr_warmup_epochs=1
--train_epochs=200).
With --ensemble_size=M it trains M independent members (seed + j), the dense
ensemble, and reports it like ensemble.py.

  # Table 1, "Single Dense Model".
  python baselines/cifar/deterministic.py --output_dir=/tmp/dense \
      --download_data
  # "Dense Ensemble (M = 4)".
  python baselines/cifar/deterministic.py --ensemble_size=4
"""

from absl import app
from absl import flags

from baselines.methods import common_flags
from baselines.methods import members
from baselines.methods import registry

common_flags.define_common_flags()
members.define_flags(ensemble_size=1)
# --help lists every flag the binary uses, not only those defined here.
flags.adopt_module_key_flags(common_flags)
flags.adopt_module_key_flags(members)
main = registry.main('dense', flags.FLAGS)

if __name__ == '__main__':
  app.run(main)
