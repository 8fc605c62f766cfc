"""Flags shared by the CIFAR binaries: UB's names and defaults, plus ours.

UB's common flags (baselines/cifar/utils.py, REFERENCE.md section 7) keep
their names and defaults; `num_cores` defaults to the strategy's replica
count. Validators reject bad values before any data is read or model built.
"""

from absl import flags

from baselines import data
from sparse_layers import distributions
from sparse_layers import sparse_init

FLAGS = flags.FLAGS


def define_common_flags():
  """UB's common CIFAR flags and the data/model flags all binaries share."""
  flags.DEFINE_integer('seed', 42, 'Random seed.')
  flags.DEFINE_integer('per_core_batch_size', 64, 'Batch size per replica.')
  flags.DEFINE_float('base_learning_rate', 0.1,
                     'Base LR for a global batch of 128 (scaled linearly).')
  flags.DEFINE_float('one_minus_momentum', 0.1, 'Optimizer momentum: 1 - x.')
  flags.DEFINE_float('l2', 2e-4, 'L2 regularisation coefficient.')
  flags.DEFINE_float('lr_decay_ratio', 0.2, 'LR decay factor.')
  flags.DEFINE_list('lr_decay_epochs', ['60', '120', '160'],
                    'Epochs of LR decays (for 200 epochs; scaled).')
  flags.DEFINE_integer('lr_warmup_epochs', 1, 'Linear LR warm-up epochs.')
  flags.DEFINE_integer('train_epochs', 200, 'Training epochs.')
  flags.DEFINE_integer('checkpoint_interval', 25, 'Epochs between checkpoints.')
  flags.DEFINE_integer('corruptions_interval', -1,
                       'CIFAR-10-C: > 0 evaluates the final ensemble on it '
                       '(evaluation every N epochs during training is not '
                       'implemented yet); -1: never.')
  flags.DEFINE_integer('num_bins', 15, 'ECE bins.')
  flags.DEFINE_enum('dataset', 'cifar10', ['cifar10', 'cifar100'], 'Dataset.')
  flags.DEFINE_string('data_dir', None, 'TFDS data directory.')
  flags.DEFINE_bool('download_data', False, 'Download TFDS data if missing.')
  flags.DEFINE_float('train_proportion', 1.0,
                     'Fraction of train used for training; the rest (the '
                     'last part) is the validation split.')
  flags.DEFINE_string('output_dir', '/tmp/cifar', 'Output directory.')
  flags.DEFINE_bool('use_gpu', False, 'MirroredStrategy on all local GPUs.')
  flags.DEFINE_integer('num_cores', None,
                       'Replicas; default: derived from the strategy.')
  flags.DEFINE_string('tpu', None, 'TPU name or address (TPUStrategy).')
  flags.DEFINE_bool('use_bfloat16', False, 'mixed_bfloat16 policy.')
  flags.DEFINE_bool('eval_on_ood', False, 'Evaluate OOD detection.')
  flags.DEFINE_list('ood_dataset', ['cifar100', 'svhn_cropped'],
                    'OOD datasets (TFDS names), for --eval_on_ood.')
  flags.DEFINE_integer('depth', 28, 'WRN depth.')
  flags.DEFINE_integer('width_multiplier', 10, 'WRN width multiplier.')
  flags.DEFINE_string('train_npz', None, 'Offline route: train npz (x uint8 '
                      '[N,32,32,3], y int [N]) instead of TFDS.')
  flags.DEFINE_string('test_npz', None, 'Offline route: test npz.')
  flags.DEFINE_list('ood_npz', [], 'Offline OOD sets as name=path.npz.')
  flags.DEFINE_integer('dense_epochs', 250,
                       'Epochs of the dense model FLOPs are compared with.')
  flags.DEFINE_bool('quick', False,
                    'Quick mode: WRN-10-1, 4096 train / 1000 test examples, '
                    'a few epochs; shows the whole pipeline in minutes.')
  flags.DEFINE_bool('sync_batch_norm', False,
                    'BatchNorm statistics over the global batch of all '
                    'replicas: N replicas then train like one device.')
  flags.DEFINE_bool('deterministic', False,
                    'Deterministic ops (tf.config.experimental.'
                    'enable_op_determinism): bit-identical reruns and '
                    'resumes, at some speed cost.')
  flags.DEFINE_integer('train_examples', None,
                       'Use only the first N training examples.')
  flags.DEFINE_integer('test_examples', None,
                       'Use only the first N test examples.')
  _register_common_validators()


def define_sparsity_flags(sparsity=0.8):
  """Sparse-training flags (RigL / SET / static)."""
  flags.DEFINE_float('sparsity', sparsity, 'Overall sparsity S in [0, 1).')
  flags.DEFINE_enum('distribution', 'erk', list(distributions.DISTRIBUTIONS),
                    'Layer-wise sparsity distribution.')
  flags.DEFINE_float('erk_power_scale', 1.0, 'ERK exponent.')
  flags.DEFINE_string('first_layer', 'include',
                      "First conv: 'include', 'dense' or a sparsity.")
  flags.DEFINE_string('last_layer', 'include',
                      "Classifier: 'include', 'dense' or a sparsity.")
  flags.DEFINE_enum('growth', 'gradient', ['gradient', 'random'],
                    'Grow rule: gradient (RigL) or random (SET).')
  flags.DEFINE_integer('update_interval', 1000, 'ΔT: steps between updates.')
  flags.DEFINE_float('drop_fraction', 0.5, 'p: DST exploration rate.')
  flags.DEFINE_enum('drop_fraction_schedule', 'constant',
                    ['constant', 'cosine'], 'Schedule of p.')
  flags.register_validator('sparsity', lambda v: 0.0 <= v < 1.0,
                           '--sparsity must be in [0, 1).')
  flags.register_validator('erk_power_scale', lambda v: v >= 0,
                           '--erk_power_scale must be >= 0.')
  flags.register_validator('update_interval', lambda v: v >= 1,
                           '--update_interval (ΔT) must be >= 1.')
  flags.register_validator('drop_fraction', lambda v: 0.0 <= v <= 1.0,
                           '--drop_fraction must be in [0, 1].')
  for name in ('first_layer', 'last_layer'):
    flags.register_validator(
        name, _is_layer_option,
        f"--{name} must be 'include', 'dense' or a sparsity in [0, 1).")


def define_ensemble_size_flag(default):
  flags.DEFINE_integer('ensemble_size', default, 'M: number of members.')
  flags.register_validator('ensemble_size', lambda v: v >= 1,
                           '--ensemble_size (M) must be >= 1.')


def define_member_flags(ensemble_size):
  """M and the one-member-per-job switch of the member-based binaries."""
  define_ensemble_size_flag(ensemble_size)
  flags.DEFINE_integer('member_index', None,
                       'Train only member j (0 <= j < ensemble_size).')


def set_member_schedule_defaults():
  """Appendix C's schedule for independently trained sparse members:
  250 epochs, LR divided by 10 at 50% and 75% (UB's decay epochs are given
  for 200 epochs and scaled)."""
  FLAGS.set_default('train_epochs', 250)
  FLAGS.set_default('lr_decay_epochs', ['100', '150'])
  FLAGS.set_default('lr_decay_ratio', 0.1)


def _is_layer_option(value):
  try:
    sparse_init.parse_layer_option(value, 'layer option')
  except ValueError:
    return False
  return True


def _register_common_validators():
  positive = ('per_core_batch_size', 'train_epochs', 'checkpoint_interval',
              'num_bins', 'depth', 'width_multiplier', 'dense_epochs')
  for name in positive:
    flags.register_validator(name, lambda v: v is None or v >= 1,
                             f'--{name} must be >= 1.')
  flags.register_validator('base_learning_rate', lambda v: v > 0,
                           '--base_learning_rate must be > 0.')
  flags.register_validator('one_minus_momentum', lambda v: 0 <= v <= 1,
                           '--one_minus_momentum must be in [0, 1].')
  flags.register_validator('l2', lambda v: v >= 0, '--l2 must be >= 0.')
  flags.register_validator('train_proportion', lambda v: 0 < v <= 1,
                           '--train_proportion must be in (0, 1].')
  flags.register_validator('depth', lambda v: v >= 10 and (v - 4) % 6 == 0,
                           '--depth must be 6n + 4 (10, 16, 22, 28, ...).')
  flags.register_validator(
      'corruptions_interval', lambda v: v == -1 or v >= 1,
      '--corruptions_interval must be -1 (never) or >= 1.')
  flags.register_validator(
      'ood_npz', lambda v: all('=' in item for item in v),
      '--ood_npz entries must be name=path.npz.')
  for name in ('train_examples', 'test_examples'):
    flags.register_validator(name, lambda v: v is None or v >= 1,
                             f'--{name} must be >= 1.')


def num_classes(dataset):
  return data.NUM_CLASSES[dataset]
