"""The per-replica training step of `loop.Run`.

`default_train_step` is one SGD step on one replica's batch, run inside the
compiled loop (`strategy.run`; compiled by XLA with `--jit_compile`). Its
gradients go through `run.apply_gradients`, so a sparsity hook sums them
over replicas, applies them and updates the masks on the device when due;
they are computed inside `run.gradient_scope()`, which gives RigL's grow
step the dense kernel gradient.
"""

import tensorflow as tf

from baselines.training import losses


def default_train_step(run, batch):
  """One SGD step of `run` on a replica's batch: `run.loss_fn` plus the
  model's regularisation losses, gradients summed over replicas; updates
  the train metrics; returns the loss."""
  images, labels = batch
  variables = run.model.trainable_variables
  with run.gradient_scope():
    with tf.GradientTape() as tape:
      logits = tf.cast(run.model(images, training=True), tf.float32)
      data_loss = run.loss_fn(labels, logits)
      loss = data_loss
      if run.model.losses:
        loss += tf.add_n([tf.cast(l, tf.float32) for l in run.model.losses])
      scaled_loss = loss / run.strategy.num_replicas_in_sync
  grads = tape.gradient(scaled_loss, variables)
  run.apply_gradients(zip(grads, variables))
  nll = (data_loss if run.loss_fn is losses.cross_entropy else
         losses.cross_entropy(labels, logits))
  probs = tf.nn.softmax(logits)
  run.train_metrics['train/loss'].update_state(loss)
  run.train_metrics['train/negative_log_likelihood'].update_state(nll)
  run.train_metrics['train/accuracy'].update_state(labels, probs)
  run.train_metrics['train/ece'].update_state(labels, probs)
  return loss

