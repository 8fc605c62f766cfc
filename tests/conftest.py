"""pytest set-up: split the CPU into 2 logical devices before TF starts."""

from tests import testing

testing.use_two_logical_cpus()


def pytest_collection_modifyitems(items):
  # tf.test.TestCase inherits a `test_session` context manager that pytest
  # collects and skips as "Not a test"; drop it from the count.
  items[:] = [item for item in items if item.name != 'test_session']
