"""nerve.utils.data against torch.utils.data: collation, samplers, DataLoader batching, random_split,
worker processes (same batches as in-process loading, exceptions, seeds, shutdown) and the batched fast path."""
from __future__ import annotations

import collections
import contextlib
import math
import multiprocessing
import os
import time
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import nerve
import nerve.utils.data as nud


def to_np(x):
    if isinstance(x, (nerve.Tensor, torch.Tensor)):
        return x.detach().numpy() if isinstance(x, torch.Tensor) else x.numpy(force=True)
    return x


def same_structure(n, t):
    """Assert a nerve collate result equals torch's: same container types, dtypes, shapes and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(n, nerve.Tensor), (type(n), t)
        assert str(n.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (n.dtype, t.dtype)
        assert tuple(n.shape) == tuple(t.shape)
        np.testing.assert_array_equal(to_np(n), to_np(t))
    elif isinstance(t, dict):
        assert type(n) is type(t) and list(n) == list(t)
        for k in t:
            same_structure(n[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(n) is type(t) and len(n) == len(t), (type(n), type(t))
        for a, b in zip(n, t):
            same_structure(a, b)
    else:
        assert n == t


def to_torch(x):
    """The same sample with nerve tensors replaced by torch tensors."""
    if isinstance(x, nerve.Tensor):
        return torch.from_numpy(x.numpy().copy())
    if isinstance(x, dict):
        return type(x)({k: to_torch(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(to_torch(v) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(to_torch(v) for v in x)
    return x


Point = collections.namedtuple("Point", ["x", "y"])

COLLATE_CASES = {
    "tensors": [nerve.tensor([1.0, 2.0]), nerve.tensor([3.0, 4.0])],
    "int_tensors": [nerve.tensor([1, 2]), nerve.tensor([3, 4])],
    "scalar_tensors": [nerve.tensor(1.5), nerve.tensor(2.5)],
    "numpy": [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones((2, 3), np.float32)],
    "numpy_int": [np.arange(3), np.arange(3, 6)],
    "numpy_uint8": [np.zeros((2, 2), np.uint8), np.full((2, 2), 255, np.uint8)],
    "numpy_scalars": [np.float32(1.5), np.float32(2.0)],
    "numpy_int_scalars": [np.int32(1), np.int32(7)],
    "floats": [1.0, 2.5, -3.0],
    "ints": [1, 2, 3],
    "bools": [True, False],
    "strings": ["a", "bc"],
    "bytes": [b"a", b"b"],
    "tuples": [(nerve.tensor([1.0]), 0, "a"), (nerve.tensor([2.0]), 1, "b")],
    "lists": [[1, 2.0], [3, 4.0]],
    "dicts": [{"x": nerve.tensor([1, 2]), "y": 0.5}, {"x": nerve.tensor([3, 4]), "y": 1.5}],
    "namedtuples": [Point(1, nerve.tensor([1.0])), Point(2, nerve.tensor([2.0]))],
    "nested": [{"a": [(1, 2.0)], "b": {"c": np.ones(2)}}, {"a": [(3, 4.0)], "b": {"c": np.zeros(2)}}],
}


@pytest.mark.parametrize("case", list(COLLATE_CASES))
def test_default_collate_matches_torch(case):
    batch = COLLATE_CASES[case]
    same_structure(nud.default_collate(batch), tud.default_collate(to_torch(batch)))


@pytest.mark.parametrize("case", ["numpy", "numpy_scalars", "ints", "tuples", "dicts", "namedtuples", "nested"])
def test_default_convert_matches_torch(case):
    for sample in COLLATE_CASES[case]:
        same_structure(nud.default_convert(sample), tud.default_convert(to_torch(sample)))


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0 "
                                           r"and \[3\] at entry 1"):
        nud.default_collate([nerve.zeros(2), nerve.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        nud.default_collate([[1, 2], [1, 2, 3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        nud.default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        nud.default_collate([np.array(["a"]), np.array(["b"])])


def test_default_collate_keeps_graph():
    a = nerve.tensor([1.0, 2.0], requires_grad=True)
    out = nud.default_collate([a, a * 2])
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 3.0])


def test_collate_with_custom_map():
    def collate_float(batch, *, collate_fn_map):
        return sum(batch)
    assert nud.collate([1.0, 2.0], collate_fn_map={float: collate_float}) == 3.0


# ---------------------------------------------------------------------------------------------- samplers
@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (1, 4, False),
                                            (1, 4, True), (0, 2, False)])
def test_batch_sampler_matches_torch(n, bs, drop_last):
    ours = list(nud.BatchSampler(nud.SequentialSampler(range(n)), bs, drop_last))
    ref = list(tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop_last))
    assert ours == ref
    assert len(nud.BatchSampler(nud.SequentialSampler(range(n)), bs, drop_last)) == len(ref)
    # The generic (non-array) path over a plain iterable gives the same batches.
    assert list(nud.BatchSampler(list(range(n)), bs, drop_last)) == ref


def test_batch_sampler_errors():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
            nud.BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        nud.BatchSampler(range(3), 2, 1)


def test_random_sampler_reproducible_and_permutation():
    ds = range(50)
    nerve.manual_seed(0)
    a = list(nud.RandomSampler(ds))
    b = list(nud.RandomSampler(ds))
    nerve.manual_seed(0)
    a2 = list(nud.RandomSampler(ds))
    assert a == a2 and a != b
    assert sorted(a) == list(range(50))
    g1, g2 = nerve.Generator().manual_seed(5), nerve.Generator().manual_seed(5)
    assert list(nud.RandomSampler(ds, generator=g1)) == list(nud.RandomSampler(ds, generator=g2))
    # Batching the sampler (array fast path) keeps the same order as iterating it.
    g1, g2 = nerve.Generator().manual_seed(5), nerve.Generator().manual_seed(5)
    flat = [i for b in nud.BatchSampler(nud.RandomSampler(ds, generator=g1), 7, False) for i in b]
    assert flat == list(nud.RandomSampler(ds, generator=g2))


def test_random_sampler_num_samples_and_replacement():
    s = nud.RandomSampler(range(10), num_samples=25)
    idx = list(s)
    assert len(idx) == len(s) == 25
    counts = np.bincount(idx, minlength=10)
    assert counts.min() >= 2 and counts.max() <= 3  # two full shuffles plus 5
    g = nerve.Generator().manual_seed(0)
    r = list(nud.RandomSampler(range(4), replacement=True, num_samples=1000, generator=g))
    assert len(r) == 1000 and set(r) == {0, 1, 2, 3}
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        nud.RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        nud.RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        nud.RandomSampler([])


def test_subset_random_sampler():
    idx = [3, 7, 11, 20]
    s = list(nud.SubsetRandomSampler(idx, generator=nerve.Generator().manual_seed(0)))
    assert sorted(s) == idx and len(nud.SubsetRandomSampler(idx)) == 4
    assert s == list(nud.SubsetRandomSampler(idx, generator=nerve.Generator().manual_seed(0)))


def test_weighted_random_sampler_frequencies():
    w = [1.0, 2.0, 0.0, 5.0]
    n = 40000
    s = nud.WeightedRandomSampler(w, n, generator=nerve.Generator().manual_seed(0))
    idx = np.array(list(s))
    assert len(idx) == len(s) == n
    freq = np.bincount(idx, minlength=4) / n
    np.testing.assert_allclose(freq, np.array(w) / sum(w), atol=0.01)
    assert freq[2] == 0
    assert isinstance(s.weights, nerve.Tensor) and s.weights.dtype == nerve.float64
    # Without replacement: distinct indices, never the zero-weight one.
    s = nud.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, replacement=False,
                                  generator=nerve.Generator().manual_seed(1))
    out = list(s)
    assert len(set(out)) == 5
    assert list(nud.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, replacement=False,
                                          generator=nerve.Generator().manual_seed(1))) == out
    # Reproducible through nerve's default generator.
    nerve.manual_seed(3)
    a = list(nud.WeightedRandomSampler(w, 20))
    nerve.manual_seed(3)
    assert a == list(nud.WeightedRandomSampler(w, 20))


def test_weighted_random_sampler_errors():
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        nud.WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="replacement should be a boolean"):
        nud.WeightedRandomSampler([1.0], 1, replacement=0)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights have shape \(1, 2\)"):
        nud.WeightedRandomSampler([[1.0, 2.0]], 1)
    with pytest.raises(RuntimeError, match="without replacement"):
        list(nud.WeightedRandomSampler([1.0, 0.0, 1.0], 3, replacement=False))
    with pytest.raises(RuntimeError, match="sum of probabilities"):
        list(nud.WeightedRandomSampler([0.0, 0.0], 3))
    with pytest.raises(RuntimeError, match="non-negative"):
        list(nud.WeightedRandomSampler([1.0, -1.0], 3))


# ---------------------------------------------------------------------------------------------- datasets
def test_tensor_dataset_and_errors():
    x, y = nerve.arange(12.0).reshape(6, 2), nerve.arange(6)
    ds = nud.TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[2]
    np.testing.assert_array_equal(a.numpy(), [4.0, 5.0])
    assert b.item() == 2
    a, b = ds[-1]
    assert b.item() == 5
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        nud.TensorDataset(x, nerve.arange(5))
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 6"):
        ds.__getbatch__([0, 6])


def test_subset_concat_stack_chain():
    base = nud.TensorDataset(nerve.arange(10))
    sub = nud.Subset(base, [9, 0, 4])
    assert len(sub) == 3 and sub[0][0].item() == 9
    assert [s[0].item() for s in sub.__getitems__([2, 1])] == [4, 0]
    cat = base + nud.TensorDataset(nerve.arange(100, 103))
    assert isinstance(cat, nud.ConcatDataset) and len(cat) == 13 and cat.cumulative_sizes == [10, 13]
    assert cat[10][0].item() == 100 and cat[-1][0].item() == 102
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        cat[-14]
    st = nud.StackDataset(a=base, b=nud.TensorDataset(nerve.arange(10) * 2))
    assert st[3]["b"][0].item() == 6
    assert [s["a"][0].item() for s in st.__getitems__([1, 2])] == [1, 2]
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        nud.StackDataset(base, sub)

    class Stream(nud.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    chain = Stream(3) + Stream(2)
    assert isinstance(chain, nud.ChainDataset) and list(chain) == [0, 1, 2, 0, 1] and len(chain) == 5


def test_concat_and_subset_fast_path_match_slow():
    a = nud.TensorDataset(nerve.arange(20.0).reshape(10, 2), nerve.arange(10))
    b = nud.TensorDataset(nerve.arange(100.0, 108.0).reshape(4, 2), nerve.arange(4))
    cat = nud.ConcatDataset([a, b])
    sub = nud.Subset(cat, list(range(13, -1, -1)))
    for ds in (cat, sub):
        fast = list(nud.DataLoader(ds, batch_size=3))
        slow = list(nud.DataLoader(ds, batch_size=3, collate_fn=lambda s: nud.default_collate(s)))
        assert len(fast) == len(slow) == 5
        for f, s in zip(fast, slow):
            same_structure(f, [torch.from_numpy(t.numpy()) for t in s])


def test_random_split_sizes_and_disjoint():
    ds = nud.TensorDataset(nerve.arange(103))
    for lengths in ([50, 53], [0.5, 0.5], [0.3, 0.3, 0.4], [0.1] * 10, [1.0, 0.0], [103, 0]):
        with pytest.warns(UserWarning) if lengths == [1.0, 0.0] else contextlib.nullcontext():
            parts = nud.random_split(ds, lengths, generator=nerve.Generator().manual_seed(0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own zero-length warning
            tparts = tud.random_split(range(103), lengths, generator=torch.Generator().manual_seed(0))
        assert [len(p) for p in parts] == [len(p) for p in tparts]
        allidx = [i for p in parts for i in p.indices]
        assert sorted(allidx) == list(range(103))
    p1 = nud.random_split(ds, [0.7, 0.3], generator=nerve.Generator().manual_seed(42))
    p2 = nud.random_split(ds, [0.7, 0.3], generator=nerve.Generator().manual_seed(42))
    assert p1[0].indices == p2[0].indices
    nerve.manual_seed(1)
    q1 = nud.random_split(ds, [3, 100])
    nerve.manual_seed(1)
    assert nud.random_split(ds, [3, 100])[0].indices == q1[0].indices
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset"):
        nud.random_split(ds, [50, 50])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        nud.random_split(ds, [1.5, -0.5])


# ---------------------------------------------------------------------------------------------- DataLoader
@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (5, 8, True),
                                            (5, 8, False)])
def test_dataloader_batches_match_torch(n, bs, drop_last):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    ours = list(nud.DataLoader(nud.TensorDataset(nerve.tensor(x), nerve.arange(n)), batch_size=bs,
                               drop_last=drop_last))
    ref = list(tud.DataLoader(tud.TensorDataset(torch.tensor(x), torch.arange(n)), batch_size=bs,
                              drop_last=drop_last))
    assert len(ours) == len(ref) == len(nud.DataLoader(range(n), batch_size=bs, drop_last=drop_last))
    for a, b in zip(ours, ref):
        same_structure(a, b)


def test_dataloader_generic_dataset_matches_torch():
    class DS(nud.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return {"x": np.full(3, i, np.float32), "y": i, "name": f"s{i}", "w": i / 2}

    class TDS(tud.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return DS()[i]

    ours = list(nud.DataLoader(DS(), batch_size=3))
    ref = list(tud.DataLoader(TDS(), batch_size=3))
    for a, b in zip(ours, ref):
        same_structure(a, b)
    # batch_size=None: no batching, default_convert.
    ours = list(nud.DataLoader(DS(), batch_size=None))
    ref = list(tud.DataLoader(TDS(), batch_size=None))
    assert len(ours) == 7
    for a, b in zip(ours, ref):
        same_structure(a, b)


def test_dataloader_getitems_protocol():
    calls = []

    class DS(nud.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            calls.append(list(indices))
            return [(i, float(i)) for i in indices]

    out = list(nud.DataLoader(DS(), batch_size=2))
    assert calls == [[0, 1], [2, 3], [4]]
    np.testing.assert_array_equal(out[0][0].numpy(), [0, 1])
    assert out[0][1].dtype == nerve.float64


def test_dataloader_shuffle_reproducible():
    ds = nud.TensorDataset(nerve.arange(40))

    def epoch(loader):
        return [int(v) for (b,) in loader for v in b.numpy()]

    nerve.manual_seed(0)
    dl = nud.DataLoader(ds, batch_size=8, shuffle=True)
    e1, e2 = epoch(dl), epoch(dl)
    nerve.manual_seed(0)
    assert epoch(dl) == e1 and epoch(dl) == e2
    assert e1 != e2 and sorted(e1) == list(range(40))
    g = nerve.Generator().manual_seed(7)
    f1 = epoch(nud.DataLoader(ds, batch_size=8, shuffle=True, generator=g))
    g = nerve.Generator().manual_seed(7)
    assert epoch(nud.DataLoader(ds, batch_size=8, shuffle=True, generator=g)) == f1


class _ShardedStream(nud.IterableDataset):
    def __iter__(self):
        info = nud.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, 10, step))

    def __len__(self):
        return 10


def test_dataloader_iterable_dataset():
    Stream = _ShardedStream
    out = [b.tolist() for b in nud.DataLoader(Stream(), batch_size=4)]
    assert out == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(nud.DataLoader(Stream(), batch_size=4)) == 3
    assert len(nud.DataLoader(Stream(), batch_size=4, drop_last=True)) == 2
    assert [b.tolist() for b in nud.DataLoader(Stream(), batch_size=4, drop_last=True)] == out[:2]
    got = sorted(v for b in nud.DataLoader(Stream(), batch_size=2, num_workers=2) for v in b.tolist())
    assert got == list(range(10))


def test_dataloader_argument_errors_match_torch():
    ds = nud.TensorDataset(nerve.arange(4))
    tds = tud.TensorDataset(torch.arange(4))
    cases = [dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
             dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
             dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
             dict(multiprocessing_context="fork")]
    for kw in cases:
        with pytest.raises(ValueError) as ref:
            tud.DataLoader(tds, **kw)
        with pytest.raises(ValueError) as ours:
            nud.DataLoader(ds, **kw)
        assert str(ours.value).split(" (got")[0] == str(ref.value), kw
    dl = nud.DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        dl.batch_size = 3

    class Stream(nud.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        nud.DataLoader(Stream(), shuffle=True)


def test_dataloader_batch_sampler_and_sampler():
    ds = nud.TensorDataset(nerve.arange(10))
    out = [b[0].tolist() for b in nud.DataLoader(ds, batch_sampler=[[1, 2], [9]])]
    assert out == [[1, 2], [9]]
    out = [b[0].tolist() for b in nud.DataLoader(ds, sampler=[5, 4, 3], batch_size=2)]
    assert out == [[5, 4], [3]]


def test_fast_path_speed():
    """A 60k-sample epoch at batch 128 through the TensorDataset fast path stays far from a per-sample loop."""
    x = nerve.from_numpy(np.ones((60000, 784), np.uint8))  # MNIST-sized rows
    y = nerve.from_numpy(np.arange(60000) % 10)
    dl = nud.DataLoader(nud.TensorDataset(x, y), batch_size=128, shuffle=True)
    t = time.perf_counter()
    n = sum(1 for _ in dl)
    dt = time.perf_counter() - t
    assert n == 469
    assert dt < 1.0, f"a 60k-sample epoch took {dt:.2f}s"


def test_fast_path_matches_slow_path_and_requires_grad():
    x = nerve.randn(30, 3)
    y = nerve.arange(30)
    ds = nud.TensorDataset(x, y)
    g = nerve.Generator()
    fast = list(nud.DataLoader(ds, batch_size=7, shuffle=True, generator=g.manual_seed(3)))
    slow = list(nud.DataLoader(ds, batch_size=7, shuffle=True, generator=g.manual_seed(3),
                               collate_fn=lambda b: nud.default_collate(b)))
    for f, s in zip(fast, slow):
        assert isinstance(f, list) and len(f) == 2
        for a, b in zip(f, s):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    w = nerve.randn(6, 2, requires_grad=True)
    (xb,) = next(iter(nud.DataLoader(nud.TensorDataset(w), batch_size=6)))
    xb.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.ones((6, 2)))


# ---------------------------------------------------------------------------------------------- workers
class _SeedDataset(nud.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = nud.get_worker_info()
        return {"i": i, "wid": -1 if info is None else info.id, "seed": 0 if info is None else info.seed,
                "r": float(nerve.rand(1).item()), "np": float(np.random.rand()), "pid": os.getpid()}


class _FailingDataset(nud.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            raise KeyError(f"bad sample {i}")
        return i


class _CustomError(Exception):
    pass


class _InitFailDataset(nud.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        raise _CustomError("custom failure")


def test_workers_same_batches_as_main_process():
    x = nerve.randn(101, 5)
    ds = nud.TensorDataset(x, nerve.arange(101))
    ref = list(nud.DataLoader(ds, batch_size=8, shuffle=True, generator=nerve.Generator().manual_seed(0)))
    out = list(nud.DataLoader(ds, batch_size=8, shuffle=True, num_workers=2,
                              generator=nerve.Generator().manual_seed(0)))
    assert len(out) == len(ref) == 13
    for a, b in zip(out, ref):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u.numpy(), v.numpy())
    # The default generator's stream does not depend on num_workers either.
    nerve.manual_seed(5)
    a = [b[1].tolist() for b in nud.DataLoader(ds, batch_size=16, shuffle=True)]
    nerve.manual_seed(5)
    b = [b[1].tolist() for b in nud.DataLoader(ds, batch_size=16, shuffle=True, num_workers=2)]
    assert a == b


def test_workers_generic_collate_in_order():
    ds = _SeedDataset()
    out = list(nud.DataLoader(ds, batch_size=2, num_workers=2, prefetch_factor=3))
    assert [b["i"].tolist() for b in out] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert [b["wid"].tolist() for b in out] == [[0, 0], [1, 1], [0, 0], [1, 1]]
    pids = {p for b in out for p in b["pid"].tolist()}
    assert os.getpid() not in pids and len(pids) == 2
    # Each worker is seeded with base_seed + id: distinct seeds and distinct random streams.
    seeds = {b["wid"][0].item(): b["seed"][0].item() for b in out}
    assert seeds[1] == seeds[0] + 1
    r = [b["r"][0].item() for b in out[:2]]
    n = [b["np"][0].item() for b in out[:2]]
    assert r[0] != r[1] and n[0] != n[1]
    # A seeded run is reproducible, workers included.
    nerve.manual_seed(11)
    a = [b["r"].tolist() for b in nud.DataLoader(ds, batch_size=2, num_workers=2)]
    nerve.manual_seed(11)
    assert a == [b["r"].tolist() for b in nud.DataLoader(ds, batch_size=2, num_workers=2)]


def test_worker_exception_propagates_with_traceback():
    dl = nud.DataLoader(_FailingDataset(), batch_size=2, num_workers=2)
    got = []
    with pytest.raises(KeyError) as ei:
        for b in dl:
            got.append(b.tolist())
    msg = str(ei.value)
    assert "Caught KeyError in DataLoader worker process 0" in msg
    assert "Traceback (most recent call last)" in msg and "bad sample 5" in msg and "__getitem__" in msg
    assert got == [[0, 1], [2, 3]]
    # An exception class that cannot be pickled by reference still comes back (as its own type
    # when importable, else as RuntimeError), with the worker's traceback.
    with pytest.raises((_CustomError, RuntimeError), match="custom failure"):
        list(nud.DataLoader(_InitFailDataset(), batch_size=2, num_workers=1))


def _failing_init(worker_id):
    info = nud.get_worker_info()
    assert info.id == worker_id and info.num_workers == 2
    if worker_id == 1:
        raise ValueError("init failed in worker 1")


class _SlowDataset(nud.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(3)
        return i


def test_worker_init_fn_and_timeout_and_early_exit():
    ds = nud.TensorDataset(nerve.arange(64))
    with pytest.raises(ValueError, match="init failed in worker 1"):
        list(nud.DataLoader(ds, batch_size=4, num_workers=2, worker_init_fn=_failing_init))

    t = time.perf_counter()
    it = iter(nud.DataLoader(_SlowDataset(), batch_size=1, num_workers=1, timeout=0.3))
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        next(it)
    assert time.perf_counter() - t < 2.5
    with pytest.raises(RuntimeError, match="workers were shut down after an error"):
        next(it)
    del it

    # Breaking out early and dropping the iterator shuts the workers down.
    it = iter(nud.DataLoader(ds, batch_size=4, num_workers=2))
    next(it)
    workers = list(it._workers)
    del it
    for w in workers:
        w.join(timeout=5)
        assert not w.is_alive()
    assert multiprocessing.active_children() == [] or all(w not in multiprocessing.active_children()
                                                          for w in workers)


def test_persistent_workers_two_epochs():
    ds = nud.TensorDataset(nerve.arange(10))
    dl = nud.DataLoader(ds, batch_size=3, num_workers=2, persistent_workers=True)
    e1 = [b[0].tolist() for b in dl]
    pids = [w.pid for w in dl._iterator._workers]
    e2 = [b[0].tolist() for b in dl]
    assert e1 == e2 == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert [w.pid for w in dl._iterator._workers] == pids
    it = iter(dl)  # an abandoned epoch followed by a full one
    next(it)
    assert [b[0].tolist() for b in dl] == e1
    workers = dl._iterator._workers
    dl._iterator._shutdown_workers()
    for w in workers:
        assert not w.is_alive()


def test_workers_with_spawn_context():
    ds = nud.TensorDataset(nerve.arange(6.0))
    out = [b[0].tolist() for b in nud.DataLoader(ds, batch_size=4, num_workers=1,
                                                  multiprocessing_context="spawn")]
    assert out == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]


def test_worker_tensor_pickle_roundtrip():
    import pickle
    t = nerve.randn(3, 4)
    u = pickle.loads(pickle.dumps(t))
    np.testing.assert_array_equal(u.numpy(), t.numpy())
    assert math.isclose(float(u.sum()), float(t.sum()))
