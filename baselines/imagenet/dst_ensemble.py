r"""DST Ensemble on ImageNet (FreeTickets, Algorithm 3; Table 3).

M = 2 sparse ResNet-50s (S = 0.8, ERK; Table 3) from their own random sparse
inits (seed + j), each trained with RigL (ΔT = 4000 at a batch of 128, p =
0.5 cosine) for 200 epochs: a 5-epoch linear warm-up to LR 0.1, LR / 10 at
epochs 60, 120 and 180 (paper App. C), label smoothing 0.1.
`--member_index=j` trains only member j.

  python baselines/imagenet/dst_ensemble.py --data_dir=gs://bucket/tfds \
      --output_dir=gs://bucket/dst --tpu=NAME --use_bfloat16
"""

from absl import app
from absl import flags

from baselines.methods import common_flags
from baselines.methods import members
from baselines.methods import registry
from baselines.methods import tasks

common_flags.define_imagenet_flags()
common_flags.define_imagenet_sparsity_flags(sparsity=0.8)
members.define_flags(ensemble_size=2)
# --help lists every flag the binary uses, not only those defined here.
flags.adopt_module_key_flags(common_flags)
flags.adopt_module_key_flags(members)
main = registry.main('dst_ensemble', flags.FLAGS, tasks.IMAGENET)

if __name__ == '__main__':
  app.run(main)
