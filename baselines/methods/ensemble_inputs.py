"""What ensemble.py evaluates: its members' model specs, and the flags
their tickets set (--dataset, and the model flags of plain checkpoints).
"""

from absl import app

from baselines.artifacts import ticket_store


def adopt_spec_flags(flag_values, specs, spec_flags):
  """Sets flags from the tickets' common model spec.

  Args:
    flag_values: parsed flags.
    specs: {path: ModelSpec} (`ensemble_specs`).
    spec_flags: (spec field, flag name) pairs.

  Returns:
    {flag name: value} set here.

  Raises:
    ValueError: if a flag given on the command line contradicts the
      tickets (never silently replaced).
  """
  set_here = {}
  if not specs:
    return set_here
  first = next(iter(specs.values()))
  for field, name in spec_flags:
    values = {getattr(s, field) for s in specs.values()}
    if flag_values[name].present and values != {flag_values[name].value}:
      raise ValueError(
          f'--{name}={flag_values[name].value} contradicts the tickets '
          f'({", ".join(map(str, sorted(values)))}); leave it unset.')
    if len(values) == 1 and flag_values[name].value != getattr(first, field):
      setattr(flag_values, name, getattr(first, field))
      set_here[name] = getattr(first, field)
  return set_here


def checkpoint_specs(flag_values):
  """{path: ModelSpec} of --checkpoint_dirs' tickets (ensemble.py).

  Raises:
    app.UsageError: if there is no member, or the tickets cannot form one
      ensemble.
  """
  if not flag_values.checkpoint_dirs:
    raise app.UsageError('--checkpoint_dirs needs at least one member.')
  try:
    return ticket_store.ensemble_specs(flag_values.checkpoint_dirs)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
