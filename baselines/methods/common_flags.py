"""Flags shared by the binaries: UB's names, the paper's recipe.

UB's common flags (uncertainty-baselines' baselines/cifar/utils.py) keep their
names and meanings. Their defaults follow the paper (Appendix C) and, where
it is silent, the FreeTickets authors' code, for every CIFAR binary, the dense
baseline included: a global batch of 128 at LR 0.1 whatever the number of
replicas, no warm-up, plain momentum 0.9 in PyTorch's formulation, weight
decay 5e-4 (Keras l2 = 2.5e-4), LR / 10 at 50% and 75% of training.
`define_imagenet_flags` sets the ImageNet recipe instead. `num_cores`
defaults to the strategy's replica count. Validators reject bad values
before any data is read or model built.
"""

from absl import flags

from baselines.data import cifar
from baselines.methods import flag_roles
from baselines.training import optimizers
from baselines.training import ticket_selection
from sparse_layers import distributions
from sparse_layers import layers as masked_layers
from sparse_layers import sparse_init

FLAGS = flags.FLAGS

@flag_roles.defines_flags
def define_training_flags():
  """UB's common flags that every binary shares (CIFAR defaults)."""
  _define_optimizer_flags()
  _define_evaluation_flags()
  _define_runtime_flags()
  _register_common_validators()


def _define_optimizer_flags():
  """Seed, batch, SGD, L2 and the LR schedule."""
  flags.DEFINE_integer('seed', 42, 'Random seed.')
  flags.DEFINE_integer(
      'per_core_batch_size', None,
      'Batch size per replica (UB\'s meaning); the global batch is this '
      'times the replicas. Default: the paper\'s global batch of 128 split '
      'over the replicas (up to 8), or 16 per replica beyond 8 (a pod '
      'slice: the global batch grows with it, and the LR and ΔT scale with '
      'the global batch).')
  flags.DEFINE_float('base_learning_rate', 0.1,
                     'Base LR for a global batch of 128 (scaled linearly '
                     'with the global batch).')
  flags.DEFINE_float('one_minus_momentum', 0.1, 'Optimizer momentum: 1 - x.')
  flags.DEFINE_bool('nesterov', False,
                    'Nesterov momentum (UB\'s choice); default plain '
                    'momentum, as the authors\' torch SGD.')
  flags.DEFINE_enum('momentum_style', 'pytorch',
                    list(optimizers.MOMENTUM_STYLES),
                    'pytorch: the momentum buffer excludes the LR (b = μb + g;'
                    ' w -= lr b), as the authors\' torch.optim.SGD; keras: '
                    'Keras\' SGD, whose velocity includes it (v = μv - lr g; '
                    'w += v). The same at a constant LR; they differ after '
                    'the LR changes.')
  flags.DEFINE_float('l2', 2.5e-4,
                     'L2 coefficient. Keras adds 2 * l2 * w to the '
                     'gradient: l2 is half of PyTorch\'s weight decay '
                     '(CIFAR: 2.5e-4 on every parameter, the paper\'s 5e-4; '
                     'ImageNet: 5e-5 on kernels and the classifier bias, the '
                     'authors\' 1e-4 without BatchNorm).')
  flags.DEFINE_float('lr_decay_ratio', 0.1,
                     'LR decay factor (not for edst.py: an error there).')
  flags.DEFINE_list('lr_decay_epochs', ['100', '150'],
                    'Epochs of LR decays, given for 200 epochs (CIFAR; 90 '
                    'on ImageNet) and scaled to train_epochs (floored to '
                    'whole epochs, as UB): 50% and 75% of training. Not '
                    'for edst.py, whose refinement LRs are fixed (an error '
                    'there).')
  flags.DEFINE_integer('lr_warmup_epochs', 0,
                       'Linear LR warm-up epochs (the paper warms up only '
                       'on ImageNet).')
  flags.DEFINE_integer('train_epochs', 250, 'Training epochs.')


def _define_evaluation_flags():
  """What is evaluated, on which examples, and which model is a ticket."""
  flag_roles.neutral(flags.DEFINE_integer(
      'corruptions_interval', -1,
      'Corrupted test sets (CIFAR-10-C / -100-C, ImageNet-C): the training '
      'model is evaluated on them every N epochs '
      '(test/{nll,accuracy,ece}_{corruption}_{severity}, '
      '..._mean_corrupted), and the ensemble at the end; -1: never.'))
  flags.DEFINE_integer('num_bins', 15, 'ECE bins.')
  flag_roles.neutral(flags.DEFINE_integer(
      'trajectory_interval', -1,
      'Save the test-set softmax every N epochs to '
      'output_dir/trajectories/<run>/ (for '
      'baselines/analysis/trajectories.py, the paper\'s Figure 3); -1: '
      'never.'))
  flags.DEFINE_float('train_proportion', 1.0,
                     'Fraction of train used for training; the rest (the '
                     'last part) is the validation split, evaluated every '
                     'epoch (validation/*).')
  flags.DEFINE_enum('ticket_selection', 'end_of_phase',
                    list(ticket_selection.SELECTIONS),
                    'Which model of a phase becomes its ticket (member): '
                    'the one at the phase end (Algorithm 1), or the epoch '
                    'of best validation accuracy (the authors\' runs; '
                    'needs --train_proportion < 1, e.g. 0.9).')
  flag_roles.neutral(flags.DEFINE_integer(
      'dense_epochs', 250,
      'D: training FLOPs are given relative to one dense model trained for '
      'D epochs; default the paper\'s reference, MIMO\'s training run '
      '(1.00x in every table): 250 on CIFAR, 150 on ImageNet.'))
  flags.DEFINE_integer('train_examples', None,
                       'Use only the first N training examples.')
  flags.DEFINE_integer('test_examples', None,
                       'Use only the first N test examples.')


def _define_runtime_flags():
  """Where and how the run executes: outputs, devices, compilation."""
  flag_roles.neutral(flags.DEFINE_string('output_dir', '/tmp/cifar',
                                         'Output directory.'))
  flag_roles.neutral(flags.DEFINE_integer(
      'checkpoint_interval', 25,
      'Epochs between checkpoints; -1: no periodic ones (as UB). Every '
      'phase end (ticket, re-exploration) is checkpointed either way.'))
  flag_roles.neutral(flags.DEFINE_string('data_dir', None,
                                         'TFDS data directory.'))
  flag_roles.neutral(flags.DEFINE_bool('use_gpu', False,
                                       'MirroredStrategy on all local GPUs.'))
  flag_roles.neutral(flags.DEFINE_integer(
      'num_cores', None, 'Replicas; default: derived from the strategy.'))
  flag_roles.neutral(flags.DEFINE_string('tpu', None,
                                         'TPU name or address (TPUStrategy).'))
  flags.DEFINE_bool('use_bfloat16', False,
                    'mixed_bfloat16 policy: bfloat16 compute, float32 '
                    'weights, masks, gradients and tickets. ImageNet: on '
                    'by default with --tpu (UB\'s default there).')
  flag_roles.neutral(flags.DEFINE_bool(
      'jit_compile', None,
      'Compile the per-replica train and evaluation steps (mask updates '
      'included) with XLA. Default: on with --tpu (TPUs compile every step '
      'anyway), off elsewhere. Needs one device, GPUs or TPUs (not '
      'MirroredStrategy over CPUs).'))
  flag_roles.neutral(flags.DEFINE_integer(
      'steps_per_loop', None,
      'Training steps per compiled loop, between returns to the host '
      '(non-finite loss and preemption checks). Default: the rest of the '
      'epoch, or as many steps as take 30 s at the measured step time, so '
      'a preemption notice is answered within about 30 s.'))
  flags.DEFINE_bool('sync_batch_norm', False,
                    'BatchNorm statistics over the global batch of all '
                    'replicas: N replicas then train like one device.')
  flag_roles.neutral(flags.DEFINE_bool(
      'deterministic', False,
      'Deterministic ops (tf.config.experimental.enable_op_determinism): '
      'bit-identical reruns and resumes, at some speed cost.'))


@flag_roles.defines_flags
def define_common_flags():
  """The CIFAR binaries' flags: the training flags and CIFAR's data and
  WRN flags."""
  define_training_flags()
  flag_roles.neutral(flags.DEFINE_string(
      'cifar100_c_path', None,
      'CIFAR-100-C as UB reads it: a directory of '
      '{corruption}-{severity}.tfrecords (TFDS has none).'))
  flag_roles.neutral(flags.DEFINE_string(
      'corrupted_npz_dir', None,
      'Offline route for corrupted data: a directory of '
      '{corruption}-{severity}.npz (x, y as --test_npz) for every corruption '
      'and severity of the dataset.'))
  flags.DEFINE_enum('dataset', 'cifar10', ['cifar10', 'cifar100'], 'Dataset.')
  flags.DEFINE_enum(
      'cifar_preprocessing', 'authors', list(cifar.RECIPES),
      "Training crop's padding and normalisation. authors: the FreeTickets "
      'loaders (CIFAR-10: reflection, std (0.2023, 0.1994, 0.2010); '
      "CIFAR-100: zeros, its own mean and std); ub: UB's CIFAR datasets "
      '(zeros; mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616) '
      'for both).')
  flag_roles.neutral(flags.DEFINE_bool('download_data', False,
                                       'Download TFDS data if missing.'))
  flag_roles.neutral(flags.DEFINE_bool('eval_on_ood', False,
                                       'Evaluate OOD detection.'))
  flag_roles.neutral(flags.DEFINE_list(
      'ood_dataset', ['cifar100', 'svhn_cropped'],
      'OOD datasets (TFDS names), for --eval_on_ood; gaussian_noise adds the '
      'paper\'s generated Gaussian-noise images (App. F; '
      'cifar.gaussian_noise).'))
  flags.DEFINE_integer('depth', 28, 'WRN depth.')
  flags.DEFINE_integer('width_multiplier', 10, 'WRN width multiplier.')
  flags.DEFINE_float('dropout_rate', 0.0,
                     'Dropout between the two convs of a WRN block.')
  flags.DEFINE_string('train_npz', None, 'Offline route: train npz (x uint8 '
                      '[N,32,32,3], y int [N]) instead of TFDS.')
  flags.DEFINE_string('test_npz', None, 'Offline route: test npz.')
  flag_roles.neutral(flags.DEFINE_list('ood_npz', [],
                                       'Offline OOD sets as name=path.npz.'))
  flag_roles.neutral(flags.DEFINE_bool(
      'quick', False,
      'Quick mode: WRN-10-1, 4096 train / 1000 test examples, a few epochs; '
      'shows the whole pipeline in minutes. Fills in only flags not given on '
      'the command line.'))
  _register_cifar_validators()


@flag_roles.defines_flags
def define_imagenet_flags():
  """The ImageNet binaries' flags: the training flags with the paper's
  ImageNet recipe as defaults (App. C; the authors' ImageNet code where
  the paper is silent), and ImageNet's data and ResNet flags.

  A global batch of 128 (the authors' 2 x 64) at LR 0.1 after a linear
  warm-up of 5 epochs, weight decay 1e-4 without BatchNorm (Keras l2 =
  5e-5), label smoothing 0.1, 200 epochs (DST members) with LR / 10 at
  epochs 60, 120 and 180: UB's 27, 54, 81 given for 90 epochs.
  """
  define_training_flags()
  for name, value in (('l2', 5e-5), ('lr_warmup_epochs', 5),
                      ('train_epochs', 200),
                      ('lr_decay_epochs', ['27', '54', '81']),
                      ('dense_epochs', 150), ('output_dir', '/tmp/imagenet'),
                      ('checkpoint_interval', 5),
                      ('use_bfloat16', None)):  # On with --tpu.
    FLAGS.set_default(name, value)
  flags.DEFINE_float('label_smoothing', 0.1,
                     'Label smoothing of the training loss (the authors\' '
                     'ImageNet runs: 0.1).')
  flags.DEFINE_integer('image_size', 224, 'Training and evaluation crop.')
  flags.DEFINE_integer('resnet_depth', 50,
                       'ResNet depth: 50 (the paper), or 14 / 26 / 101.')
  flags.DEFINE_integer('resnet_base_width', 64,
                       'Channels of the first stage (64 for ResNet-50).')
  flag_roles.neutral(flags.DEFINE_bool(
      'eval_on_imagenet_a', False,
      'Evaluate the ensemble on ImageNet-A (TFDS imagenet_a): '
      'imagenet_a/{accuracy,negative_log_likelihood,ece}, the paper\'s aAcc, '
      'aNLL, aECE.'))
  flags.register_validator('label_smoothing', lambda v: 0.0 <= v < 1.0,
                           '--label_smoothing must be in [0, 1).')
  flags.register_validator('image_size', lambda v: v >= 32,
                           '--image_size must be >= 32.')
  flags.register_validator('resnet_depth', lambda v: v in (14, 26, 50, 101),
                           '--resnet_depth must be 14, 26, 50 or 101.')
  flags.register_validator('resnet_base_width', lambda v: v >= 1,
                           '--resnet_base_width must be >= 1.')


@flag_roles.defines_flags
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
  flags.DEFINE_integer(
      'update_interval', 1000,
      'ΔT: steps between mask updates at a global batch of 128; scaled to '
      'round(ΔT * 128 / global batch) steps, so the same number of examples '
      'passes between updates on any hardware.')
  flags.DEFINE_float('drop_fraction', 0.5, 'p: DST exploration rate.')
  flags.DEFINE_enum('drop_fraction_schedule', 'constant',
                    ['constant', 'cosine'], 'Schedule of p.')
  flags.DEFINE_bool(
      'regrow_at_zero', True,
      'A connection dropped and regrown in the same update restarts at 0 '
      '(paper Eq. 2, authors\' code); --noregrow_at_zero keeps its value '
      '(RigL\'s TF code).')
  flags.DEFINE_bool(
      'update_dense_layers', True,
      'Layers at density 1 (e.g. those ERK leaves dense) also drop their '
      'p (q) smallest weights and regrow them at 0, as the authors\' code.')
  flags.DEFINE_enum(
      'inactive_gradient', 'dense', list(masked_layers.INACTIVE_GRADIENTS),
      'dense: inactive weights get the dense gradient, their momentum '
      'accumulates and a regrown weight starts at 0 carrying it (the '
      'authors\' code); zero: masked gradient, momentum of dropped and '
      'regrown weights reset to 0 (RigL). Inactive weights are 0 after '
      'every step either way.')
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


@flag_roles.defines_flags
def define_imagenet_sparsity_flags(sparsity=0.8):
  """The sparsity flags with the paper's ImageNet DST settings: ΔT = 4000
  steps at a batch of 128, p = 0.5 cosine-annealed (Section 3.2, App. C)."""
  define_sparsity_flags(sparsity)
  FLAGS.set_default('update_interval', 4000)
  FLAGS.set_default('drop_fraction_schedule', 'cosine')


@flag_roles.defines_flags
def define_ensemble_flags(members_help):
  """ensemble.py's members (`members_help`: what they may be)."""
  flags.DEFINE_list('checkpoint_dirs', [], f'Members: {members_help}.')
  flag_roles.neutral(flags.DEFINE_string(
      'checkpoint_dir', None,
      "UB's form of the members: a directory with one member per "
      'subdirectory (sorted), each the first directory in it, top-down, '
      'that holds a ticket or checkpoints (the latest; UB\'s '
      'parse_checkpoint_dir), e.g. a run\'s tickets/. Resolved into '
      '--checkpoint_dirs; give one of the two.'))


@flag_roles.defines_flags
def define_ensemble_size_flag(default):
  flags.DEFINE_integer('ensemble_size', default, 'M: number of members.')
  flags.register_validator('ensemble_size', lambda v: v >= 1,
                           '--ensemble_size (M) must be >= 1.')


def _is_layer_option(value):
  try:
    sparse_init.parse_layer_option(value, 'layer option')
  except ValueError:
    return False
  return True


def _register_common_validators():
  positive = ('per_core_batch_size', 'train_epochs', 'num_bins',
              'dense_epochs', 'steps_per_loop')
  flags.register_multi_flags_validator(
      ['ticket_selection', 'train_proportion'],
      lambda v: (v['ticket_selection'] != 'best_validation' or
                 v['train_proportion'] < 1.0),
      '--ticket_selection=best_validation needs a validation split: '
      '--train_proportion < 1 (the authors hold out 10%: 0.9).')
  for name in positive:
    flags.register_validator(name, lambda v: v is None or v >= 1,
                             f'--{name} must be >= 1.')
  flags.register_validator('base_learning_rate', lambda v: v > 0,
                           '--base_learning_rate must be > 0.')
  flags.register_validator('one_minus_momentum', lambda v: 0 <= v <= 1,
                           '--one_minus_momentum must be in [0, 1].')
  flags.register_validator('l2', lambda v: v >= 0, '--l2 must be >= 0.')
  # An unset shell variable (--output_dir=$OUT) would write into the
  # current directory.
  flags.register_validator(
      'output_dir', lambda v: bool(v and v.strip()),
      '--output_dir must name a directory (it is empty: an unset shell '
      'variable?).')
  flags.register_validator('train_proportion', lambda v: 0 < v <= 1,
                           '--train_proportion must be in (0, 1].')
  for name in ('corruptions_interval', 'checkpoint_interval',
               'trajectory_interval'):
    flags.register_validator(name, lambda v: v == -1 or v >= 1,
                             f'--{name} must be -1 (never) or >= 1.')
  for name in ('train_examples', 'test_examples'):
    flags.register_validator(name, lambda v: v is None or v >= 1,
                             f'--{name} must be >= 1.')


def _register_cifar_validators():
  for name in ('depth', 'width_multiplier'):
    flags.register_validator(name, lambda v: v >= 1, f'--{name} must be >= 1.')
  flags.register_validator('dropout_rate', lambda v: 0.0 <= v < 1.0,
                           '--dropout_rate must be in [0, 1).')
  flags.register_validator('depth', lambda v: v >= 10 and (v - 4) % 6 == 0,
                           '--depth must be 6n + 4 (10, 16, 22, 28, ...).')
  flags.register_validator(
      'ood_npz', lambda v: all('=' in item for item in v),
      '--ood_npz entries must be name=path.npz.')
