"""Tests for baselines/artifacts/layout.py: a run's paths, chief or worker."""

from absl.testing import absltest

from baselines.artifacts import layout


class OutputLayoutTest(absltest.TestCase):

  def test_the_chief_reads_and_writes_its_output_dir(self):
    chief = layout.OutputLayout('gs://b/run')
    self.assertEqual(chief.writes_to, 'gs://b/run')
    self.assertEqual(chief.summaries(), 'gs://b/run/summaries')
    self.assertEqual(chief.summaries('member_2'),
                     'gs://b/run/summaries/member_2')
    self.assertEqual(chief.metrics_file(), 'gs://b/run/metrics.json')
    self.assertEqual(chief.ticket_dir(1), 'gs://b/run/tickets/ticket_1')
    self.assertEqual(chief.run_dir('run'), 'gs://b/run/run')
    self.assertEqual(chief.rewind_dir(), 'gs://b/run/gmp/rewind')

  def test_a_worker_writes_to_its_scratch_and_reads_the_chiefs(self):
    worker = layout.OutputLayout('gs://b/run', '/tmp/scratch')
    self.assertEqual(worker.writes_to, '/tmp/scratch')
    self.assertEqual(worker.summaries('gmp'), '/tmp/scratch/summaries/gmp')
    self.assertEqual(worker.metrics_file(), '/tmp/scratch/metrics.json')
    self.assertEqual(worker.run_dir('member_0'), 'gs://b/run/member_0')
    self.assertEqual(worker.run_dir('member_0', written=True),
                     '/tmp/scratch/member_0')
    self.assertEqual(worker.rewind_dir(written=True),
                     '/tmp/scratch/gmp/rewind')
    self.assertEqual(worker.ticket_dir(0), 'gs://b/run/tickets/ticket_0')


if __name__ == '__main__':
  absltest.main()
