"""EDST's re-exploration between refinement phases (Algorithm 1, line 20).

A phase-end callback of `loop.Run`: after a phase whose
`reexplore_fraction` is q, the sparsity hook drops q of each layer's active
weights by magnitude and regrows as many (by gradient for RigL) at 0, on a
batch of the next epoch's training data. The generic loop knows nothing of
it; `baselines/cifar/edst.py` and `baselines/imagenet/edst.py` register it.
"""

from absl import logging

from baselines.runtime import faults


class Reexploration:
  """`callback(run, phase)`: re-explores after phases with a fraction q."""

  def __call__(self, run, phase):
    if phase.reexplore_fraction is None:
      return
    if run.hook is None:
      raise ValueError(f'{phase.name} asks for a re-exploration, but the run '
                       f'has no sparsity hook.')
    batch = run.next_train_batch()
    masks = [l.mask.numpy() for l in run.hook.masked_layers]
    # The weights the update draws from: dense layers' only if it updates
    # them.
    updates_dense = run.hook.updater.update_dense_layers
    active = sum(int(m.sum()) for m in masks if updates_dense or m.min() == 0)
    reset = int(run.hook.reexplore(batch, phase.reexplore_fraction))
    logging.info('[%s] re-exploration after %s: %d of %d active weights '
                 'dropped and regrown at 0 (%.4f; q = %.2f)',
                 run.config.method, phase.name, reset, active,
                 reset / max(active, 1), phase.reexplore_fraction)
    run.history.append({'epoch': run.completed_epochs, 'phase': phase.name,
                        'reexploration_reset': reset,
                        'reexploration_active': active})
    faults.crash_point(f'{run.run_name}:after_reexplore:{phase.name}')
