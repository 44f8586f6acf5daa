"""Op-table entries: max/avg/adaptive pools, unfold/fold, interpolate (nerve/ops/pool.py)."""
import numpy as np

from . import OpInfo, Sample, distinct, make, noncontig, transposed


def pf(lib, name):
    """``lib.nn.functional.<name>``, or nerve's op module where nn.functional does not export it yet."""
    f = getattr(lib.nn.functional, name, None)
    if f is None:
        f = getattr(lib.ops.pool, name)
    return f


def call(name):
    return lambda lib, *a, **k: pf(lib, name)(*a, **k)


def entry(name, samples, **kw):
    return OpInfo(name, call(name), samples, **kw)


# ---------------------------------------------------------------------------- max pools
def max_pool2d_samples(rng, dt):
    mk = lambda *s: distinct(rng, s, dt)
    return [
        Sample((mk(2, 2, 4, 4), 2), name="2x2"),
        Sample((mk(1, 2, 5, 7), 2), name="tile-crop"),
        Sample((mk(2, 1, 6, 4), (3, 2)), name="tile-3x2"),
        Sample((mk(1, 2, 6, 6), 3), {"stride": 3}, name="tile-3x3"),
        Sample((mk(1, 2, 5, 5), 3), {"stride": 2, "padding": 1}, name="pad"),
        Sample((mk(1, 1, 5, 6), (2, 3)), {"stride": (1, 2), "dilation": (2, 1)}, name="dilation"),
        Sample((mk(1, 1, 5, 5), 2), {"ceil_mode": True}, name="ceil"),
        Sample((mk(1, 1, 5, 5), 2), {"stride": 2, "padding": 1, "ceil_mode": True}, name="ceil-last-dropped"),
        Sample((mk(2, 5, 5), 2), {"stride": 1}, name="unbatched-overlap"),
        Sample((noncontig(mk(1, 2, 4, 4)), 2), name="noncontig"),
        Sample((transposed(mk(1, 2, 4, 4)), (2, 1)), name="transposed"),
        Sample((mk(1, 2, 5, 4), 3), {"stride": 1, "padding": 1, "return_indices": True}, name="indices"),
        Sample((mk(2, 5, 5), 2), {"ceil_mode": True, "return_indices": True}, name="indices-unbatched"),
        Sample((mk(1, 1, 4, 4), 2), {"stride": []}, name="empty-stride"),
        Sample((mk(0, 2, 4, 4), 2), name="size0-batch"),
        Sample((mk(1, 1, 4, 4), 2), {"padding": 2}, raises=RuntimeError, match="pad", name="pad-too-big"),
        Sample((mk(1, 1, 1, 1), 2), raises=RuntimeError, match="output size", name="too-small"),
        Sample((mk(4, 4), 2), raises=RuntimeError, match=r"\(4, 4\)", name="2d-input"),
    ]


def max_pool1d_samples(rng, dt):
    mk = lambda *s: distinct(rng, s, dt)
    return [
        Sample((mk(2, 2, 6), 2), name="k2"),
        Sample((mk(1, 2, 7), 3), {"stride": 2, "padding": 1, "ceil_mode": True}, name="pad-ceil"),
        Sample((mk(1, 2, 7), 2), {"dilation": 2, "stride": 1}, name="dilation"),
        Sample((mk(2, 6), 3), {"stride": 1, "return_indices": True}, name="unbatched-indices"),
        Sample((noncontig(mk(1, 2, 6)), 2), {"return_indices": True}, name="noncontig-indices"),
        Sample((mk(1, 1, 4), 2), {"padding": 2}, raises=RuntimeError, match="pad", name="pad-too-big"),
    ]


# ---------------------------------------------------------------------------- average pools
def avg_pool2d_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(2, 2, 4, 4), 2), name="2x2"),
        Sample((mk(1, 2, 5, 5), 3), {"stride": 2, "padding": 1}, name="pad"),
        Sample((mk(1, 2, 5, 5), 3), {"stride": 2, "padding": 1, "count_include_pad": False}, name="exclude-pad"),
        Sample((mk(1, 1, 5, 5), 2), {"stride": 2, "padding": 1, "ceil_mode": True}, name="ceil-pad"),
        Sample((mk(1, 1, 5, 5), 2), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
               name="ceil-exclude"),
        Sample((mk(1, 1, 5, 6), (2, 3)), {"stride": (1, 2), "divisor_override": 3}, name="divisor"),
        Sample((mk(2, 5, 5), 3), {"stride": 1}, name="unbatched-overlap"),
        Sample((noncontig(mk(1, 2, 4, 4)), 2), name="noncontig"),
        Sample((mk(0, 2, 4, 4), 2), name="size0-batch"),
        Sample((mk(1, 1, 4, 4), 2), {"padding": 2}, raises=RuntimeError, match="pad", name="pad-too-big"),
    ]


def avg_pool1d_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(2, 2, 6), 2), name="k2"),
        Sample((mk(1, 2, 7), 3), {"stride": 2, "padding": 1, "ceil_mode": True}, name="pad-ceil"),
        Sample((mk(1, 2, 7), 3), {"stride": 2, "padding": 1, "count_include_pad": False}, name="exclude"),
        Sample((mk(2, 6), 3), {"stride": 1}, name="unbatched"),
    ]


# ---------------------------------------------------------------------------- adaptive pools
def adaptive_avg2d_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(1, 2, 5, 7), (3, 4)), name="uneven"),
        Sample((mk(2, 2, 6, 6), 2), name="even"),
        Sample((mk(1, 2, 5, 5), (None, 2)), name="none-entry"),
        Sample((mk(2, 2, 3, 4), 1), name="global"),
        Sample((mk(2, 5, 4), 3), name="unbatched-up"),
    ]


def adaptive_avg1d_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [Sample((mk(2, 2, 7), 3), name="uneven"), Sample((mk(2, 6), (2,)), name="unbatched-even")]


def adaptive_max2d_samples(rng, dt):
    mk = lambda *s: distinct(rng, s, dt)
    return [
        Sample((mk(1, 2, 5, 7), (3, 4)), {"return_indices": True}, name="uneven-indices"),
        Sample((mk(2, 1, 6, 6), 2), name="even"),
        Sample((mk(1, 2, 5, 5), (None, 3)), name="none-entry"),
        Sample((mk(2, 3, 4), (4, 3)), {"return_indices": True}, name="unbatched-overlap"),
    ]


def adaptive_max1d_samples(rng, dt):
    mk = lambda *s: distinct(rng, s, dt)
    return [
        Sample((mk(2, 2, 7), 3), {"return_indices": True}, name="uneven"),
        Sample((mk(2, 5), 4), {"return_indices": True}, name="unbatched-overlap"),
    ]


# ---------------------------------------------------------------------------- unfold / fold
def unfold_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(2, 2, 4, 4), 2), name="k2"),
        Sample((mk(1, 2, 5, 5), (2, 3)), {"dilation": (1, 2), "padding": 1, "stride": 2}, name="all-options"),
        Sample((mk(2, 3, 3), 2), name="unbatched"),
        Sample((noncontig(mk(1, 2, 4, 4)), 3), {"padding": 2}, name="noncontig-bigpad"),
        Sample((mk(1, 1, 2, 2), 3), raises=RuntimeError, match="at least one", name="too-small"),
    ]


def fold_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(2, 8, 9), (4, 4), 2), {"stride": 1}, name="overlap"),
        Sample((mk(1, 12, 6), (5, 5), (2, 3)), {"dilation": (1, 2), "padding": 1, "stride": 2}, name="all-options"),
        Sample((mk(4, 4), (4, 4), 2), {"stride": 2}, name="unbatched"),
        Sample((mk(1, 7, 9), (4, 4), 2), {"stride": 1}, raises=RuntimeError, match="divisible", name="bad-c"),
        Sample((mk(1, 8, 5), (4, 4), 2), {"stride": 1}, raises=RuntimeError, match="blocks", name="bad-l"),
    ]


# ---------------------------------------------------------------------------- interpolate
def interpolate_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(1, 2, 3, 3),), {"scale_factor": 2}, name="nearest-x2"),
        Sample((mk(1, 2, 3, 3),), {"size": (5, 4)}, name="nearest-size"),
        Sample((mk(1, 1, 4, 5),), {"scale_factor": 1.5}, name="nearest-1.5"),
        Sample((mk(1, 1, 5, 5),), {"scale_factor": 0.6}, name="nearest-down"),
        Sample((mk(2, 2, 4),), {"size": 7}, name="nearest-1d"),
        Sample((mk(1, 1, 4, 5),), {"scale_factor": 1.7, "mode": "nearest-exact"}, name="nearest-exact"),
        Sample((mk(1, 2, 3, 3),), {"scale_factor": 2, "mode": "bilinear"}, name="bilinear-x2"),
        Sample((mk(1, 2, 3, 4),), {"size": (5, 7), "mode": "bilinear", "align_corners": True}, name="bilinear-ac"),
        Sample((mk(1, 1, 4, 5),), {"size": (2, 2), "mode": "bilinear"}, name="bilinear-down"),
        Sample((mk(1, 1, 3, 4),), {"scale_factor": 1.7, "mode": "bilinear"}, name="bilinear-scale"),
        Sample((mk(1, 1, 3, 4),), {"scale_factor": (1.7, 2.3), "mode": "bilinear", "recompute_scale_factor": True},
               name="bilinear-recompute"),
        Sample((mk(1, 1, 3, 4),), {"size": (1, 3), "mode": "bilinear", "align_corners": True}, name="bilinear-ac-1"),
        Sample((mk(2, 3, 3),), {"scale_factor": 2.5, "mode": "linear"}, name="linear"),
        Sample((mk(2, 3, 4),), {"size": 6, "mode": "linear", "align_corners": True}, name="linear-ac"),
        Sample((noncontig(mk(1, 2, 3, 3)),), {"scale_factor": 2, "mode": "bilinear"}, name="noncontig"),
        Sample((mk(1, 2, 5, 7),), {"size": (3, 4), "mode": "area"}, name="area"),
        Sample((mk(1, 1, 3, 3),), {"size": 4, "scale_factor": 2}, raises=ValueError, match="only one",
               name="size-and-scale"),
        Sample((mk(1, 1, 3),), {"size": 4, "mode": "bilinear"}, raises=NotImplementedError, match="4D",
               name="bilinear-3d"),
        Sample((mk(1, 1, 3, 3),), {"size": 4, "align_corners": True}, raises=ValueError, match="align_corners",
               name="nearest-align"),
    ]


def upsample_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(1, 2, 3, 3),), {"scale_factor": 2, "mode": "bilinear", "align_corners": False}, name="bilinear"),
        Sample((mk(1, 2, 3, 3),), {"size": 5}, name="nearest"),
    ]


def upsample_nearest_samples(rng, dt):
    return [Sample((make(rng, (1, 2, 3, 3), dt),), {"size": (4, 5)}, name="size")]


def upsample_bilinear_samples(rng, dt):
    return [Sample((make(rng, (1, 2, 3, 3), dt),), {"scale_factor": 2}, name="scale")]


def nonfinite(rng, dt, shape, distinct_values=False):
    a = distinct(rng, shape, dt) if distinct_values else make(rng, shape, dt)
    a.reshape(-1)[::5] = -np.inf
    return a


def interpolate_nonfinite_samples(rng, dt):
    """-inf values take the gather path (an interpolation matrix would spread them)."""
    return [
        Sample((nonfinite(rng, dt, (1, 2, 3, 3)),), {"scale_factor": 2}, name="nearest"),
        Sample((nonfinite(rng, dt, (1, 1, 3, 4)),), {"size": (5, 7), "mode": "bilinear", "align_corners": True},
               name="bilinear"),
        Sample((nonfinite(rng, dt, (2, 3, 4)),), {"scale_factor": 1.5, "mode": "linear"}, name="linear"),
    ]


def max_pool_nonfinite_samples(rng, dt):
    """Windows of -inf: the index is the window's first real position; with NaNs, the last NaN
    (PyTorch's rules)."""
    a = distinct(rng, (1, 2, 4, 5), dt)
    a[0, 0, :2, :2] = -np.inf
    b = distinct(rng, (1, 2, 4, 4), dt)
    b[0, 0, 0, 1] = b[0, 0, 1, 0] = b[0, 1, 3, 3] = np.nan
    return [Sample((a, 3), {"stride": 2, "padding": 1, "return_indices": True}, name="neginf-window"),
            Sample((b, 2), {"return_indices": True}, name="nan")]


def adaptive_max_nan_samples(rng, dt):
    b = distinct(rng, (1, 2, 4, 5), dt)
    b[0, 0, 0, 1] = b[0, 0, 1, 0] = np.nan
    return [Sample((b, (3, 2)), {"return_indices": True}, name="nan")]


OPS = [
    OpInfo("interpolate_nonfinite", call("interpolate"), interpolate_nonfinite_samples, gradcheck=False),
    OpInfo("max_pool2d_nonfinite", call("max_pool2d"), max_pool_nonfinite_samples, gradcheck=False),
    OpInfo("adaptive_max_pool2d_nan", call("adaptive_max_pool2d"), adaptive_max_nan_samples, gradcheck=False),
    entry("max_pool2d", max_pool2d_samples),
    entry("max_pool1d", max_pool1d_samples),
    entry("avg_pool2d", avg_pool2d_samples),
    entry("avg_pool1d", avg_pool1d_samples),
    entry("adaptive_avg_pool2d", adaptive_avg2d_samples),
    entry("adaptive_avg_pool1d", adaptive_avg1d_samples),
    entry("adaptive_max_pool2d", adaptive_max2d_samples),
    entry("adaptive_max_pool1d", adaptive_max1d_samples),
    entry("unfold", unfold_samples),
    entry("fold", fold_samples),
    entry("interpolate", interpolate_samples),
    entry("upsample", upsample_samples),
    entry("upsample_nearest", upsample_nearest_samples),
    entry("upsample_bilinear", upsample_bilinear_samples),
]
