r"""The dense ResNet-50 on ImageNet (UB's deterministic baseline), or M.

UB's recipe: 90 epochs, a 5-epoch linear warm-up to LR 0.1 (at a batch of
128; scaled with the global batch), LR / 10 at epochs 30, 60 and 80; here
with the authors' weight decay (1e-4, BatchNorm excluded) and label
smoothing 0.1 as defaults. With --ensemble_size=M it trains M members (seed
+ j), the dense ensemble.

  python baselines/imagenet/deterministic.py --data_dir=gs://bucket/tfds \
      --output_dir=gs://bucket/dense --tpu=NAME --use_bfloat16
"""

from absl import app
from absl import flags

from baselines.methods import common_flags
from baselines.methods import members
from baselines.methods import registry
from baselines.methods import tasks

common_flags.define_imagenet_flags()
members.define_flags(ensemble_size=1)
flags.FLAGS.set_default('train_epochs', 90)
flags.FLAGS.set_default('lr_decay_epochs', ['30', '60', '80'])
# --help lists every flag the binary uses, not only those defined here.
flags.adopt_module_key_flags(common_flags)
flags.adopt_module_key_flags(members)
main = registry.main('dense', flags.FLAGS, tasks.IMAGENET)

if __name__ == '__main__':
  app.run(main)
