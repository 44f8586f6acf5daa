"""nerve.backend.retain_freed_memory: glibc's mallopt through ctypes (Linux), a no-op elsewhere."""
import subprocess
import sys

import numpy as np


def test_retain_freed_memory_keeps_large_blocks_in_the_heap():
    # In fresh processes (the setting is process-wide): five 20 MB arrays alive at once, freed,
    # then made again, as a training step does. By default glibc returns the freed 100 MB to the
    # kernel and the second round faults every page in again; after the call it reuses them.
    code = """
import resource, sys, numpy as np, nerve
ok = nerve.backend.retain_freed_memory() if sys.argv[1] == "1" else True
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def churn():
    arrs = [np.ones(5_000_000, np.float32) for _ in range(5)]
    del arrs
churn()
f0 = faults(); churn(); f1 = faults()
print(ok, f1 - f0)
"""
    def run(flag):
        return subprocess.run([sys.executable, "-c", code, flag], capture_output=True, text=True,
                              check=True).stdout.split()
    ok, retained = run("1")
    if not (sys.platform.startswith("linux") and ok == "True"):
        assert ok == "False"
        return
    _, default = run("0")
    assert int(retained) < 200 < int(default), (retained, default)


def test_numpy_still_works_after_it():
    import nerve
    nerve.backend.retain_freed_memory()
    a = np.arange(10.0)
    assert a.sum() == 45.0
