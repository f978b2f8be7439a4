"""Run one test of a unittest-based CPython test module, or list them.

    python child.py MODULE --list
    python child.py MODULE TEST_ID
    python child.py MODULE --all       (one process; a verdict line per test)

Prints one line `@@RESULT pass|fail|skip` at the end; the exit status is 0 only
for pass and skip. Doctests that the module adds through load_tests count as
tests of their own, as `python -m test` counts them.
"""
import importlib
import sys
import unittest


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def main():
    modname, what = sys.argv[1], sys.argv[2]
    mod = importlib.import_module(modname)
    tests = list(flatten(unittest.defaultTestLoader.loadTestsFromModule(mod)))
    if what == "--list":
        for t in tests:
            print(t.id())
        return 0
    if what == "--all":
        class Result(unittest.TextTestResult):
            def stopTest(self, test):
                super().stopTest(test)
                bad = {id(t) for t, _ in self.failures + self.errors}
                verdict = "fail" if id(test) in bad else "pass"
                if any(t is test for t, _ in self.skipped):
                    verdict = "skip"
                print(f"@@VERDICT {verdict} {test.id()}", flush=True)
        unittest.TextTestRunner(stream=sys.stderr, resultclass=Result).run(
            unittest.TestSuite(tests))
        return 0
    chosen = [t for t in tests if t.id() == what]
    if not chosen:
        print(f"@@RESULT fail (no test {what!r})")
        return 1
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2).run(
        unittest.TestSuite(chosen))
    if result.failures or result.errors or result.unexpectedSuccesses:
        verdict = "fail"
    elif result.skipped and not result.testsRun - len(result.skipped):
        verdict = "skip"
    else:
        verdict = "pass"
    sys.stdout.flush()
    print(f"\n@@RESULT {verdict}")
    return 0 if verdict != "fail" else 1


if __name__ == "__main__":
    sys.exit(main())
