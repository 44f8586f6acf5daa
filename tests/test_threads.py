"""nerve.set_num_threads / get_num_threads, as torch's: they set the kernels' (and BLAS's) threads."""
import os

import numpy as np
import pytest
import torch

import nerve
from nerve.ops import _winograd


@pytest.fixture
def restore_threads():
    before = nerve.get_num_threads()
    yield
    nerve.set_num_threads(before)


def test_default_is_the_cpu_count():
    assert nerve.get_num_threads() == max(1, os.cpu_count() or 1)


def test_set_and_get(restore_threads):
    nerve.set_num_threads(1)
    assert nerve.get_num_threads() == 1
    nerve.set_num_threads(3)
    assert nerve.get_num_threads() == 3


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_rejects_non_positive_integers(bad):
    with pytest.raises(ValueError, match="positive integer"):
        nerve.set_num_threads(bad)


def test_blas_threads_follow_when_threadpoolctl_is_installed(restore_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    nerve.set_num_threads(1)
    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == 1 for p in blas)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_winograd_results_do_not_depend_on_threads(restore_threads, monkeypatch, threads):
    if _winograd._nbk is None:
        pytest.skip("numba not installed")
    monkeypatch.setattr(_winograd, "NUMBA_MIN_SIZE", 0)
    monkeypatch.setattr(_winograd._nbk, "THREADS", None)
    nerve.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 16, 9, 7)).astype(np.float32)
    w = rng.standard_normal((20, 16, 3, 3)).astype(np.float32)
    out = nerve.nn.functional.conv2d(nerve.tensor(x), nerve.tensor(w), padding=1).numpy()
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-4 * np.abs(ref).max(), rtol=1e-4)
