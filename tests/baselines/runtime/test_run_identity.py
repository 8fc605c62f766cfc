"""Tests for baselines/runtime/run_identity.py: run.json, named differences."""

import json
import os

from absl import flags
import tensorflow as tf

from baselines.artifacts import model_spec
from baselines.runtime import run_identity

SPEC = model_spec.ModelSpec(depth=10, width_multiplier=1, num_classes=10,
                            input_shape=(32, 32, 3), masked=True,
                            dataset='cifar10')


def _result_flags(*argv):
  """The result flags of a binary with --sparsity and --lr_decay_epochs
  (and the neutral --checkpoint_interval, --output_dir) parsed from argv."""
  values = flags.FlagValues()
  flags.DEFINE_float('sparsity', 0.8, 'S.', flag_values=values)
  flags.DEFINE_integer('checkpoint_interval', 25, '.', flag_values=values)
  flags.DEFINE_list('lr_decay_epochs', ['100', '150'], '.',
                    flag_values=values)
  flags.DEFINE_string('output_dir', '/tmp/x', '.', flag_values=values)
  values(['prog', *argv])
  return {name: values[name].value for name in ('sparsity', 'lr_decay_epochs')}


def _identity(*argv, method='edst', batch=128, data=None):
  return run_identity.make_identity(method, _result_flags(*argv), batch, SPEC,
                                    data)


def _npz(sha, path='/d/test.npz', examples=(0, 10)):
  return {'source': {'npz': path, 'size': 123, 'sha256': sha},
          'examples': list(examples)}


class RunIdentityTest(tf.test.TestCase):

  def test_identity_holds_result_flags_not_neutral_ones(self):
    identity = _identity('--sparsity=0.9')
    self.assertEqual(identity['flags'], {'lr_decay_epochs': ['100', '150'],
                                         'sparsity': 0.9})
    self.assertEqual(identity['method'], 'edst')
    self.assertEqual(identity['global_batch_size'], 128)
    self.assertEqual(identity['model'], SPEC.to_json())
    self.assertTrue(identity['code_version'])

  def test_stored_result_flags_as_recorded_else_as_earlier_versions(self):
    added = run_identity.ADDED_RESULT_FLAGS
    stored = {'flags': {'sparsity': 0.8, 'seed': 1, 'output_dir': '/a',
                        'my_new_neutral_flag': 3}}
    self.assertEqual(run_identity.stored_result_flags(stored),
                     {'sparsity': 0.8, 'seed': 1, 'my_new_neutral_flag': 3,
                      **added})
    stored['result_flags'] = ['seed', 'sparsity']
    self.assertEqual(run_identity.stored_result_flags(stored),
                     {'sparsity': 0.8, 'seed': 1, **added})
    self.assertEqual(run_identity.stored_result_flags(
        stored, ('seed',) + tuple(added)), {'sparsity': 0.8})
    # A flag added later, recorded by a newer run, keeps its value.
    stored['flags']['parameter_exploration'] = False
    stored['result_flags'].append('parameter_exploration')
    self.assertFalse(run_identity.stored_result_flags(stored)[
        'parameter_exploration'])

  def test_run_recorded_before_a_flag_existed_matches_its_earlier_value(self):
    out = self.get_temp_dir()
    before = _identity()
    del before['model']['preprocessing']  # A spec written before the field.
    run_identity.record(out, before)
    now = _identity()
    now['flags']['cifar_preprocessing'] = 'authors'
    run_identity.check(out, now)
    ub_spec = _identity()
    ub_spec['model']['preprocessing'] = 'ub'
    with self.assertRaisesRegex(run_identity.RunMismatchError,
                                r"'preprocessing': 'ub'\} now"):
      run_identity.check(out, ub_spec)
    now['flags']['cifar_preprocessing'] = 'ub'
    with self.assertRaisesRegex(
        run_identity.RunMismatchError,
        "--cifar_preprocessing: not a flag of the run in the directory, "
        "'ub' now"):
      run_identity.check(out, now)

  def test_first_start_writes_run_json_and_same_run_passes(self):
    out = self.get_temp_dir()
    identity = _identity()
    run_identity.check(out, identity)
    run_identity.record(out, identity)
    with open(os.path.join(out, 'run.json')) as f:
      self.assertEqual(json.load(f), identity)
    # Only a neutral flag differs: the same run.
    run_identity.check(out, _identity('--checkpoint_interval=-1',
                                      '--output_dir=/elsewhere'))

  def test_restart_with_other_flags_names_each_with_both_values(self):
    out = self.get_temp_dir()
    run_identity.record(out, _identity())
    with self.assertRaises(run_identity.RunMismatchError) as caught:
      run_identity.check(out, _identity('--sparsity=0.9',
                                        '--lr_decay_epochs=60'))
    message = str(caught.exception)
    self.assertIn('--sparsity: 0.8 in the directory, 0.9 now', message)
    self.assertIn("--lr_decay_epochs: ['100', '150'] in the directory, "
                  "['60'] now", message)
    self.assertNotIn('checkpoint_interval', message)

  def test_other_method_and_batch_are_refused(self):
    out = self.get_temp_dir()
    run_identity.record(out, _identity())
    with self.assertRaisesRegex(
        run_identity.RunMismatchError,
        r"method: 'edst' in the directory, 'dst_ensemble' now(.|\n)*"
        r'global_batch_size: 128 in the directory, 256 now'):
      run_identity.check(out, _identity(method='dst_ensemble', batch=256))

  def test_outputs_without_run_json_are_refused(self):
    out = self.get_temp_dir()
    os.makedirs(os.path.join(out, 'tickets'))
    with self.assertRaisesRegex(run_identity.RunMismatchError,
                                r'outputs of an earlier run \(tickets\)'):
      run_identity.check(out, _identity())

  def test_other_data_at_the_same_path_is_named_with_both_fingerprints(self):
    d = self.get_temp_dir()
    run_identity.record(d, _identity(data={'test': _npz('aaa')}))
    run_identity.check(d, _identity(data={'test': _npz('aaa')}))
    with self.assertRaises(run_identity.RunMismatchError) as raised:
      run_identity.check(d, _identity(data={'test': _npz('bbb')}))
    self.assertIn('test data: /d/test.npz (size 123 bytes, sha256 aaa), '
                  'examples [0, 10) in the directory, /d/test.npz (size 123 '
                  'bytes, sha256 bbb), examples [0, 10) now',
                  str(raised.exception))
    tfds_test = {'source': {'tfds': 'cifar10', 'version': '3.0.2',
                            'config': None, 'split': 'test'},
                 'examples': [0, 10000]}
    self.assertIn('TFDS cifar10 3.0.2 split \'test\'',
                  run_identity.describe_data(tfds_test))

  def test_identity_written_before_data_were_recorded_compares_flags(self):
    stored = _identity()
    del stored['data']
    self.assertEqual(run_identity.differences(
        stored, _identity(data={'test': _npz('aaa')})), [])

  def test_tickets_of_other_test_data_are_refused_for_an_ensemble(self):
    ticket = {'run_identity': {'data': {'test': _npz('aaa')}}}
    # Another slice of the same file is the same test set.
    run_identity.check_ticket_data(
        {'/t/ticket_0': ticket}, {'test': _npz('aaa', examples=(0, 5))})
    run_identity.check_ticket_data({'/t/old': {}}, {'test': _npz('bbb')})
    with self.assertRaisesRegex(run_identity.RunMismatchError,
                                '/t/ticket_0 was trained .* sha256 aaa.* in '
                                'the ticket, .*sha256 bbb'):
      run_identity.check_ticket_data({'/t/ticket_0': ticket},
                                     {'test': _npz('bbb')})

  def test_ticket_identity_match_ignores_code_version(self):
    identity = _identity()
    stored = dict(identity, code_version='another')
    self.assertTrue(run_identity.matches(stored, identity))
    self.assertFalse(run_identity.matches(None, identity))
    self.assertFalse(run_identity.matches(_identity('--sparsity=0.5'),
                                          identity))


if __name__ == '__main__':
  tf.test.main()
