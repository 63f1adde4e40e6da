"""Runs every integration test and ends with one line: 'integration: N passed, N failed'.

A skipped test is counted as a failure: a test that could not run proved nothing.
Usage: run.py [pattern]  (a unittest -k pattern, optional)
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    loader = unittest.TestLoader()
    if len(sys.argv) > 1:
        loader.testNamePatterns = [f"*{p}*" for p in sys.argv[1:]]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.skipped) + len(
        result.unexpectedSuccesses)
    passed = result.testsRun - failed
    print(f"integration: {passed} passed, {failed} failed")
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
