"""Run one test of a unittest-based CPython test module, or list them.

    python child.py MODULE --list
    python child.py MODULE TEST_ID
    python child.py MODULE --all       (one process; a verdict line per test)

MODULE may be NAME=PATH: the module NAME is then loaded from the source file
PATH (a rewritten copy of a CPython test module keeps the original's name, so
its test ids and `__name__`-based expectations are the original's).

Prints one line `@@RESULT pass|fail|skip` at the end; the exit status is 0 only
for pass and skip. Doctests that the module adds through load_tests count as
tests of their own, as `python -m test` counts them.
"""
import importlib
import importlib.util
import sys
import unittest


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def load(modname):
    if "=" not in modname:
        return importlib.import_module(modname)
    modname, path = modname.split("=", 1)
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    spec.loader.exec_module(mod)
    return mod


def main():
    modname, what = sys.argv[1], sys.argv[2]
    mod = load(modname)
    tests = list(flatten(unittest.defaultTestLoader.loadTestsFromModule(mod)))
    if what == "--list":
        for t in tests:
            print(t.id())
        return 0
    if what == "--all":
        class Result(unittest.TextTestResult):
            # Counted around each test, so that a failing subTest (recorded
            # under the subtest, not the test) fails its test too.
            def bad(self):
                return len(self.failures) + len(self.errors) + len(self.unexpectedSuccesses)

            def startTest(self, test):
                self.before = self.bad()
                super().startTest(test)

            def stopTest(self, test):
                super().stopTest(test)
                verdict = ("fail" if self.bad() > self.before else
                           "skip" if any(t is test for t, _ in self.skipped) else "pass")
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
