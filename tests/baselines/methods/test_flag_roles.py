"""Tests for baselines/methods/flag_roles.py: flags declared at definition.

Runs a binary's flag definitions in a fresh process: absl's global FLAGS
of this one may already hold them (other tests define the ImageNet flags).
"""

import json
import pathlib
import subprocess
import sys
import textwrap

from absl.testing import absltest

ROOT = pathlib.Path(__file__).resolve().parents[3]

# The flags of baselines/cifar/dst_ensemble.py, parsed; prints the roles.
_PROGRAM = textwrap.dedent("""
    import json
    from absl import flags
    from baselines.methods import common_flags
    from baselines.methods import flag_roles
    from baselines.methods import members
    common_flags.define_common_flags()
    common_flags.define_sparsity_flags(sparsity=0.8)
    members.define_flags(ensemble_size=3)
    FLAGS = flags.FLAGS
    FLAGS(['prog', '--sparsity=0.9', '--checkpoint_interval=-1',
           '--output_dir=/elsewhere', '--member_index=1'])
    defined = sorted({flag.name for module, module_flags in
                      FLAGS.flags_by_module_dict().items()
                      if module.startswith('baselines.')
                      for flag in module_flags})
    print(json.dumps({'result': flag_roles.result_flags(FLAGS),
                      'project': flag_roles.project_flags(FLAGS),
                      'defined': defined}))
""")


class FlagRolesTest(absltest.TestCase):

  def test_a_binarys_flags_are_declared_where_they_are_defined(self):
    output = subprocess.run([sys.executable, '-c', _PROGRAM], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    roles = json.loads(output.stdout.strip().splitlines()[-1])
    result, project = roles['result'], roles['project']
    self.assertEqual(result['sparsity'], 0.9)
    self.assertEqual(result['lr_decay_epochs'], ['100', '150'])
    self.assertEqual(project['output_dir'], '/elsewhere')
    self.assertEqual(
        set(project) - set(result),
        {'output_dir', 'checkpoint_interval', 'use_gpu', 'tpu', 'num_cores',
         'data_dir', 'download_data', 'member_index', 'quick',
         'deterministic', 'eval_on_ood', 'ood_dataset', 'ood_npz',
         'corruptions_interval', 'corrupted_npz_dir', 'cifar100_c_path',
         'dense_epochs', 'trajectory_interval', 'steps_per_loop',
         'jit_compile'})
    # Every flag the project's modules define is declared; absl's own
    # flags (--logtostderr, ...) are not the project's.
    self.assertEqual(roles['defined'], sorted(project))
    self.assertNotIn('logtostderr', project)


if __name__ == '__main__':
  absltest.main()
