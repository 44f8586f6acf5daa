"""nerve's own float32 GEMM (nerve/ops/_gemm.py, _gemm_numba.py) against float64 NumPy products."""
import types

import numpy as np
import pytest

from nerve.ops import _gemm

pytestmark = pytest.mark.skipif(_gemm._nb is None, reason="needs numba")

RNG = np.random.default_rng(7)


@pytest.fixture
def nerve_gemm():
    before = _gemm._mode
    _gemm.set_backend("nerve")
    yield
    _gemm.set_backend(before)


def rand(*shape):
    return RNG.standard_normal(shape, dtype=np.float32)


def layouts(x):
    """The array, its Fortran-ordered copy (a transposed view's layout), a strided slice of a wider one,
    and a view with padded rows (unit column stride: read in place when shallow)."""
    wide = np.zeros((x.shape[0], 2 * x.shape[1] + 3), np.float32)
    wide[:, 1:2 * x.shape[1] + 1:2] = x
    padded = np.full((x.shape[0], x.shape[1] + 5), np.nan, np.float32)
    padded[:, 2:2 + x.shape[1]] = x
    return [x, np.asfortranarray(x), wide[:, 1:2 * x.shape[1] + 1:2], padded[:, 2:2 + x.shape[1]]]


def ref(a, b):
    return a.astype(np.float64) @ b.astype(np.float64)


def close(got, want):
    assert got.shape == want.shape
    if want.size == 0:
        return
    tol = 1e-4 * np.sqrt(max(want.shape[0], 1)) * (np.abs(want).max() + 1)
    np.testing.assert_allclose(got, want, atol=tol, rtol=1e-4)


# shapes around the blocking sizes (MR=12, NR=32, KC=256, MC=144, NC=1024) and degenerate ones
SHAPES = [(1, 1, 1), (13, 7, 33), (12, 256, 32), (11, 257, 31), (145, 300, 65), (300, 600, 1030), (32, 1024, 256),
          (700, 40, 3), (3, 40, 700), (0, 5, 4), (4, 0, 5)]


@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("part", ["cols", "rows"])
def test_kernel_matches_float64(m, k, n, part):
    a, b = rand(m, k), rand(k, n)
    kernel = _gemm._nb.gemm_cols if part == "cols" else _gemm._nb.gemm_rows
    parts = -(-n // _gemm._nb.NR) if part == "cols" else -(-m // _gemm._nb.MR)
    for aa in layouts(a):
        for bb in layouts(b):
            c = np.full((m, n), 7, np.float32)
            kernel(aa, bb, _gemm._EMPTY, c, 0, 0, parts)
            close(c, ref(a, b))
            c = np.ones((m, n), np.float32)
            kernel(aa, bb, _gemm._EMPTY, c, 1, 0, parts)
            close(c, ref(a, b) + 1)


def test_split_over_threads_covers_every_block(nerve_gemm):
    a, b = rand(301, 513), rand(513, 700)
    close(_gemm.matmul(a, b), ref(a, b))          # columns split
    a, b = rand(1000, 513), rand(513, 40)
    close(_gemm.matmul(a, b), ref(a, b))          # rows split


def test_deep_products_split_along_k(nerve_gemm, monkeypatch):
    """Weight-gradient shapes (k >> m, n): each thread a share of k, the parts summed; out and accumulate."""
    monkeypatch.setattr(_gemm, "get_num_threads", lambda: 2)
    seen, orig_run = [], _gemm._run
    monkeypatch.setattr(_gemm, "_run", lambda kernel, *args: (seen.append(kernel), orig_run(kernel, *args)))
    for m, k, n in ((100, 2048, 256), (37, 5003, 45)):
        a, b = rand(k, m).T, rand(k, n)   # a transposed view, as g^T in a linear layer's dW
        close(_gemm.matmul(a, b), ref(a, b))
        view = np.ones((m, n + 3), np.float32)[:, 1:n + 1]
        _gemm.matmul(a, b, out=view, accumulate=True)
        close(view, ref(a, b) + 1)
    assert seen and all(kern is _gemm._nb.gemm_depth for kern in seen)


def test_out_and_accumulate_into_a_strided_view(nerve_gemm):
    a, b = rand(100, 300), rand(300, 90)
    big = np.ones((100, 200), np.float32)
    view = big[:, 50:140]
    _gemm.matmul(a, b, out=view, accumulate=True)
    close(view, ref(a, b) + 1)
    assert np.all(big[:, :50] == 1) and np.all(big[:, 140:] == 1)
    _gemm.matmul(a, b, out=view)
    close(view, ref(a, b))


@pytest.mark.parametrize("m,k,n", [(32, 256, 1024), (13, 700, 33), (100, 300, 50)])
def test_packed_right_operand(nerve_gemm, m, k, n):
    a, b = rand(m, k), rand(k, n)
    for bb in layouts(b):
        p = _gemm.pack(bb)
        assert p.data is not None
        close(_gemm.matmul(a, p), ref(a, b))
        c = np.ones((m, n), np.float32)
        _gemm.matmul(a, p, out=c, accumulate=True)
        close(c, ref(a, b) + 1)


def test_batched_products_with_strided_out(nerve_gemm):
    q, k = rand(2, 3, 70, 16), rand(2, 3, 70, 16)
    s = _gemm.bmm(q, k.swapaxes(-1, -2))
    close(s.reshape(-1, 70, 70), np.stack([ref(x, y.T) for x, y in zip(q.reshape(-1, 70, 16), k.reshape(-1, 70, 16))]))
    o = np.zeros((2, 70, 3 * 16), np.float32)          # heads joined in place: (N, L, H*D) seen as (N, H, L, D)
    heads = o.reshape(2, 70, 3, 16).transpose(0, 2, 1, 3)
    _gemm.bmm(s, k, out=heads)
    want = np.einsum("nhij,nhjd->nhid", s.astype(np.float64), k.astype(np.float64))
    close(heads.reshape(-1, 16), want.reshape(-1, 16))
    a3, b3 = rand(5, 40, 30), rand(5, 30, 50)
    close(_gemm.bmm(a3, b3).reshape(-1, 50), np.matmul(a3.astype(np.float64), b3).reshape(-1, 50))


def test_other_dtypes_and_small_products_use_numpy(nerve_gemm):
    a, b = RNG.standard_normal((300, 300)), RNG.standard_normal((300, 300))
    assert not _gemm.usable(a, b)                            # float64: BLAS
    np.testing.assert_array_equal(_gemm.matmul(a, b), a @ b)
    s, t = rand(4, 4), rand(4, 4)
    assert not _gemm.usable(s, t)
    assert _gemm.usable(rand(64, 64), rand(64, 64))


def test_backend_switch():
    before = _gemm._mode
    try:
        _gemm.set_backend("numpy")
        assert _gemm.backend() == "numpy"
        assert not _gemm.usable(rand(64, 64), rand(64, 64))
        _gemm.set_backend("nerve")
        assert _gemm.backend() == "nerve"
        with pytest.raises(ValueError, match="'auto', 'nerve' or 'numpy'"):
            _gemm.set_backend("mkl")
    finally:
        _gemm.set_backend(before)


def test_auto_measures_once_and_keeps_the_faster():
    before = _gemm._mode
    try:
        _gemm.set_backend("auto")
        assert _gemm.backend() == "auto"
        _gemm.usable(rand(64, 64), rand(64, 64))
        assert _gemm.backend() in ("nerve", "numpy")
    finally:
        _gemm.set_backend(before)


@pytest.mark.parametrize("blas_speedup, keeps_nerve", [(1.2, True), (3.0, False)])
def test_auto_keeps_nerve_unless_blas_is_clearly_faster(monkeypatch, blas_speedup, keeps_nerve):
    # the choice also gates the fused kernels (LSTM layer, Winograd), so a slightly faster BLAS keeps nerve's
    clock = {"t": 0.0}
    monkeypatch.setattr(_gemm, "time", types.SimpleNamespace(perf_counter=lambda: clock["t"]))

    def fake_nerve(a, b, c, beta, bfull=None):
        clock["t"] += 1.0

    class FakeNp:
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def matmul(a, b):
            clock["t"] += 1.0 / blas_speedup

    monkeypatch.setattr(_gemm, "_nerve", fake_nerve)
    monkeypatch.setattr(_gemm, "np", FakeNp())
    monkeypatch.setattr(_gemm, "_quiet_blas", lambda: None)
    monkeypatch.setattr(_gemm, "_use_nerve", None)
    _gemm._calibrate()
    assert _gemm._use_nerve is keeps_nerve


def test_linear_and_lstm_agree_across_backends():
    import nerve
    nerve.manual_seed(0)
    lstm = nerve.nn.LSTM(40, 64, num_layers=2)
    x = nerve.randn(30, 8, 40, requires_grad=True)
    results = []
    before = _gemm._mode
    try:
        for mode in ("numpy", "nerve"):
            _gemm.set_backend(mode)
            x.grad = None
            for p in lstm.parameters():
                p.grad = None
            out, _ = lstm(x)
            out.square().sum().backward()
            results.append([out.detach().numpy().copy(), x.grad.numpy().copy()]
                           + [p.grad.numpy().copy() for p in lstm.parameters()])
    finally:
        _gemm.set_backend(before)
    for u, v in zip(*results):
        np.testing.assert_allclose(u, v, rtol=1e-3, atol=1e-4)


def test_fit_checkpoint_records_the_backend_and_resume_uses_it(tmp_path):
    import nerve
    from nerve import nn
    from nerve.train import fit
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 12)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    before = _gemm._mode
    try:
        _gemm.set_backend("numpy")
        nerve.manual_seed(0)
        model = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 2))
        fit(model, (X, y), optimizer="sgd", loss="cross_entropy", epochs=1, batch_size=16, verbose=0, checkpoint_dir=tmp_path)
        assert '"gemm": "numpy"' in (tmp_path / "checkpoint.json").read_text()
        _gemm.set_backend("nerve")
        fit(model, (X, y), optimizer="sgd", loss="cross_entropy", epochs=2, batch_size=16, verbose=0, checkpoint_dir=tmp_path,
            resume=tmp_path)
        assert _gemm.backend() == "numpy"
    finally:
        _gemm.set_backend(before)


@pytest.mark.parametrize("m,n,k", [(32, 32, 3136), (13, 6, 700), (5, 9, 300)])
def test_small_long_products_by_dot_products(nerve_gemm, m, n, k):
    """a @ bt^T with both contiguous along k and a small output: the dot-product kernel, ragged edges too."""
    a = rand(3, m, k)
    planes = np.full((3, n, k + 7), np.nan, np.float32)[:, :, 3:3 + k]   # rows padded, as the Winograd planes
    planes[...] = rand(3, n, k)
    got = _gemm.bmm(a, planes.swapaxes(-1, -2))
    want = np.matmul(a.astype(np.float64), planes.astype(np.float64).swapaxes(-1, -2))
    close(got.reshape(-1, n), want.reshape(-1, n))
    out = np.ones((3, m, n), np.float32)
    _gemm._nb.gemm_nt_batch(a[None], planes[None], out[None], 1, 0, 3)
    close(out.reshape(-1, n), want.reshape(-1, n) + 1)
