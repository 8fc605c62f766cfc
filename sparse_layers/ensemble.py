"""An ensemble of tickets as one Keras model.

The ensemble's prediction is the mean of its members' softmax probabilities
(the paper, Section 3.3: "average the output of the M subnetworks"; UB's
`ensemble` metrics). `ensemble_model` wraps member models in one functional
model; `load_ensemble` builds it from ticket directories (`tickets`).
"""

from sparse_layers import tickets as ticket_files
from sparse_layers.keras_alias import keras


def outputs_probabilities(model):
  """True if the model's last layer already applies a softmax."""
  last = model.layers[-1]
  if isinstance(last, keras.layers.Softmax):
    return True
  activation = getattr(last, 'activation', None)
  return activation is keras.activations.softmax


def ensemble_model(members, from_logits=None, member_probabilities=False,
                   name='ensemble'):
  """One Keras model: the mean of the members' probabilities.

  Args:
    members: Keras models with the same input and output shapes and distinct
      names.
    from_logits: whether members output logits (softmax applied here); None:
      True unless a member's last layer is a softmax.
    member_probabilities: also output the members' probabilities, stacked as
      [batch, member, class].
    name: the ensemble model's name.

  Returns:
    A functional model from the members' input to the mean probabilities
    (float32), or to [mean, member probabilities].

  Raises:
    ValueError: on no members, or members of different input/output shapes.
  """
  if not members:
    raise ValueError('an ensemble needs at least one member.')
  ticket_files.check_same_signature([m.name for m in members], members)
  inputs = keras.Input(shape=members[0].input_shape[1:],
                       dtype=members[0].inputs[0].dtype)
  probabilities = []
  for member in members:
    outputs = member(inputs, training=False)
    logits = from_logits if from_logits is not None else (
        not outputs_probabilities(member))
    if logits:
      outputs = keras.layers.Softmax(dtype='float32',
                                     name=f'{member.name}_softmax')(outputs)
    else:
      outputs = keras.layers.Activation('linear', dtype='float32',
                                        name=f'{member.name}_float32')(outputs)
    probabilities.append(outputs)
  mean = (keras.layers.Average(name='mean_probabilities')(probabilities)
          if len(probabilities) > 1 else probabilities[0])
  if not member_probabilities:
    return keras.Model(inputs, mean, name=name)
  num_classes = members[0].output_shape[-1]
  stacked = keras.layers.Concatenate(axis=1, name='member_probabilities')(
      [keras.layers.Reshape((1, num_classes))(p) for p in probabilities])
  return keras.Model(inputs, [mean, stacked], name=name)


def load_members(paths):
  """The tickets' models, named ticket_0, ticket_1, ... in `paths` order.

  Raises:
    tickets.TicketError: naming a ticket that is missing, incomplete, or
      whose input or output shape differs from the first ticket's.
  """
  if not paths:
    raise ticket_files.TicketError('no tickets given.')
  members = [ticket_files.load(path, name=f'ticket_{i}')
             for i, path in enumerate(paths)]
  ticket_files.check_same_signature(list(paths), members)
  return members


def load_ensemble(paths, from_logits=None, member_probabilities=False):
  """`ensemble_model` of the tickets at `paths` (see `load_members`)."""
  return ensemble_model(load_members(paths), from_logits,
                        member_probabilities)
