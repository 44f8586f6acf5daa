"""Op-table entries: softmax family, nn.functional activations, losses, normalisation, embedding, pad."""
import math
import re

import numpy as np

from . import OpInfo, Sample, make, noncontig, transposed


def F(lib):
    return lib.nn.functional


def away(a, points, gap=0.15):
    """Move values within ``gap`` of any kink in ``points`` out of reach of finite differences."""
    dt = np.asarray(a).dtype
    a = np.array(a, dtype=np.float64)
    for p in points:
        near = np.abs(a - p) < gap
        a = np.where(near, p + np.where(a >= p, gap, -gap) * 1.5, a)
    return a.astype(dt)


def unary(rng, dt, points=(), low=-2.0, high=2.0):
    mk = lambda *s: away(make(rng, s, dt, low=low, high=high), points)  # noqa: E731
    return [
        Sample((mk(3, 4),), name="2d"),
        Sample((mk(),), name="0d"),
        Sample((mk(0, 2),), name="size0"),
        Sample((noncontig(mk(2, 2, 3)),), name="noncontig"),
    ]


def act(name, call, points=(), low=-2.0, high=2.0, **kw):
    return OpInfo(name, call, lambda r, d: unary(r, d, points, low, high), **kw)


def labels(rng, shape, C, ignore=None):
    t = rng.integers(0, C, size=shape).astype(np.int64)
    if ignore is not None and t.size:
        t.reshape(-1)[0] = ignore
    return t


# ---------------------------------------------------------------------------- softmax family
def softmax_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    return [
        Sample((mk(3, 4), 1), name="2d"),
        Sample((mk(3, 4), -1), name="neg-dim"),
        Sample((mk(2, 3, 2), 0), name="3d-dim0"),
        Sample((mk(), 0), name="0d"),
        Sample((mk(0, 3), 1), name="size0"),
        Sample((mk(1, 4), 0), name="size1-dim"),
        Sample((noncontig(mk(2, 2, 3)), 1), name="noncontig"),
        Sample((transposed(mk(3, 4)), 0), name="transposed"),
        Sample((mk(2, 3) * 30, 1), name="large"),
        Sample((mk(2, 3), 2), raises=IndexError, match="Dimension out of range", name="bad-dim"),
        Sample((np.array([1, 2]), 0), raises=NotImplementedError, match="int64", name="int-input"),
    ]


# ---------------------------------------------------------------------------- losses
def pair_samples(rng, dt, diff_away=()):
    """(input, target) pairs, target kept away from the kinks of ``input - target``."""
    def pair(*s):
        x = make(rng, s, dt)
        t = np.asarray(x - away(make(rng, s, dt), diff_away), dtype=dt)
        return x, t
    out = []
    for red in ("mean", "sum", "none"):
        out.append(Sample(pair(3, 4), {"reduction": red}, name=red))
    out += [Sample(pair(2, 3, 2), name="3d"), Sample(pair(), name="0d"), Sample(pair(0, 3), {"reduction": "sum"},
                                                                                   name="size0")]
    return out


def weighted_pair(rng, dt, diff_away=()):
    x = make(rng, (3, 4), dt)
    t = (x - away(make(rng, (3, 4), dt), diff_away)).astype(dt)
    w = make(rng, (3, 4), dt, positive=True)
    return [Sample((x, t, w), {"reduction": r}, name=f"weight-{r}") for r in ("mean", "sum", "none")]


def ce_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    w = make(rng, (5,), dt, positive=True)
    s = [
        Sample((mk(4, 5), labels(rng, (4,), 5)), name="mean"),
        Sample((mk(4, 5), labels(rng, (4,), 5)), {"reduction": "sum"}, name="sum"),
        Sample((mk(4, 5), labels(rng, (4,), 5)), {"reduction": "none"}, name="none"),
        Sample((mk(4, 5), labels(rng, (4,), 5, ignore=-100)), name="ignore-default"),
        Sample((mk(4, 5), np.array([1, 3, 3, 0])), {"ignore_index": 3}, name="ignore-3"),
        Sample((mk(4, 5), labels(rng, (4,), 5)), {"label_smoothing": 0.2}, name="smooth"),
        Sample((mk(4, 5), labels(rng, (4,), 5, ignore=-100)), {"label_smoothing": 0.1, "reduction": "none"},
               name="smooth-none-ignore"),
        Sample((mk(2, 3, 2), labels(rng, (2, 2), 3)), name="spatial"),
        Sample((mk(2, 3, 2), labels(rng, (2, 2), 3, ignore=1)), {"ignore_index": 1, "reduction": "sum"},
               name="spatial-ignore"),
        Sample((mk(5), np.array(2)), name="unbatched"),
        Sample((noncontig(mk(3, 4)), labels(rng, (3,), 4)), name="noncontig"),
        Sample((mk(1, 3) * 1e3, np.array([0])), name="extreme"),
        Sample((mk(3, 4), np.array([0, 1, 5])), raises=IndexError, match="Target 5 is out of bounds", name="oob"),
        Sample((mk(3, 4), np.array([0, 1])), raises=ValueError, match=re.escape("(3, 4)"), name="batch-mismatch"),
        Sample((mk(2, 3, 4), np.array([[0, 1, 2], [0, 1, 2]])), raises=RuntimeError, match=re.escape("(2, 3)"),
               name="spatial-mismatch"),
        Sample((mk(3, 4), np.array([0, 1, 2])), {"reduction": "avg"}, raises=ValueError,
               match="not a valid value for reduction", name="bad-reduction"),
    ]
    return s + [Sample((mk(4, 5), labels(rng, (4,), 5, ignore=-100), w), kw, grad=(True, False, False), name=n)
                for n, kw in [("w-mean", {}), ("w-sum", {"reduction": "sum"}), ("w-none", {"reduction": "none"}),
                              ("w-smooth", {"label_smoothing": 0.3}),
                              ("w-smooth-sum", {"label_smoothing": 0.3, "reduction": "sum"})]] + [
        Sample((mk(2, 3, 2), labels(rng, (2, 2), 3, ignore=0), w[:3]), {"ignore_index": 0, "label_smoothing": 0.25},
               grad=(True, False, False), name="spatial-w-smooth-ignore"),
        Sample((mk(2, 3, 2), labels(rng, (2, 2), 3, ignore=-100), w[:3]), {"reduction": "none"},
               grad=(True, False, False), name="spatial-w-none"),
    ]


def ce_prob_samples(rng, dt):
    def probs(*s):
        p = make(rng, s, dt, positive=True)
        return (p / p.sum(axis=1 if len(s) > 1 else 0, keepdims=True)).astype(dt)
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    w = make(rng, (4,), dt, positive=True)
    return [
        Sample((mk(3, 4), probs(3, 4)), name="mean"),
        Sample((mk(3, 4), probs(3, 4)), {"reduction": "none"}, name="none"),
        Sample((mk(2, 4, 2), probs(2, 4, 2)), {"reduction": "sum", "label_smoothing": 0.2}, name="spatial-smooth"),
        Sample((mk(4), probs(4)), name="unbatched"),
        Sample((mk(3, 4), probs(3, 4)), {"label_smoothing": 0.1}, grad=(True, False), name="nograd-target"),
        Sample((mk(3, 4), probs(3, 4), w), {"label_smoothing": 0.1}, grad=(True, True, False), name="weight"),
    ]


def nll_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    w = make(rng, (5,), dt, positive=True)
    return [
        Sample((mk(4, 5), labels(rng, (4,), 5)), name="mean"),
        Sample((mk(4, 5), labels(rng, (4,), 5)), {"reduction": "sum"}, name="sum"),
        Sample((mk(4, 5), labels(rng, (4,), 5, ignore=-100)), {"reduction": "none"}, name="none-ignore"),
        Sample((mk(2, 3, 2), labels(rng, (2, 2), 3, ignore=1)), {"ignore_index": 1}, name="spatial-ignore"),
        Sample((mk(5), np.array(4)), name="unbatched"),
        Sample((mk(4, 5), labels(rng, (4,), 5, ignore=-100), w), {}, grad=(True, False, False), name="w-mean"),
        Sample((mk(4, 5), labels(rng, (4,), 5), w), {"reduction": "none"}, grad=(True, False, False), name="w-none"),
        Sample((mk(3, 4), np.array([0, -3, 1])), raises=IndexError, match="Target -3 is out of bounds", name="oob"),
    ]


def bce_samples(rng, dt):
    def p(*s):
        return make(rng, s, dt, low=0.05, high=0.95)
    out = [Sample((p(3, 4), p(3, 4)), {"reduction": r}, name=r) for r in ("mean", "sum", "none")]
    out += [Sample((p(2, 3), p(2, 3), make(rng, (3,), dt, positive=True)), {}, grad=(True, True, False),
                   name="weight"),
            Sample((p(), p()), name="0d"),
            Sample((p(3) + 1, p(3)), raises=RuntimeError, match="between 0 and 1", name="not-probs"),
            Sample((p(3), p(4)), raises=ValueError, match="different to the input size", name="size")]
    return out


def bce_logits_samples(rng, dt):
    def t(*s):
        return make(rng, s, dt, low=0.0, high=1.0)
    mk = lambda *s: make(rng, s, dt, low=-3, high=3)  # noqa: E731
    out = [Sample((mk(3, 4), t(3, 4)), {"reduction": r}, name=r) for r in ("mean", "sum", "none")]
    return out + [
        Sample((mk(2, 3), t(2, 3), make(rng, (3,), dt, positive=True), None), grad=(True, True, False, False),
               name="weight"),
        Sample((mk(2, 3), t(2, 3), None, make(rng, (3,), dt, positive=True)), grad=(True, True, False, False),
               name="pos_weight"),
        Sample((mk(2, 3), t(2, 3), make(rng, (2, 3), dt, positive=True), make(rng, (3,), dt, positive=True)),
               {"reduction": "sum"}, grad=(True, True, False, False), name="both"),
        Sample((np.array([[0.0, 1e4, -1e4]], dtype=dt), np.array([[1.0, 0.0, 1.0]], dtype=dt)),
               {"reduction": "none"}, name="extreme"),
        Sample((mk(), t()), name="0d"),
        Sample((mk(3), t(4)), raises=ValueError, match="must be the same as input size", name="size"),
    ]


def kl_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    pos = lambda *s: make(rng, s, dt, positive=True)  # noqa: E731
    out = [Sample((mk(3, 4), pos(3, 4)), {"reduction": r}, name=r) for r in ("batchmean", "sum", "none", "mean")]
    out += [Sample((mk(3, 4), mk(3, 4)), {"log_target": True, "reduction": "batchmean"}, name="log_target"),
            Sample((mk(3, 4), np.array([[0, 0.5, 1, 2]] * 3, dtype=dt)), {"reduction": "sum"}, grad=(True, False),
                   name="zero-target")]
    return out


def cos_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    return [
        Sample((mk(3, 4), mk(3, 4)), name="dim1"),
        Sample((mk(2, 3, 2), mk(3, 2)), {"dim": -1}, name="broadcast-neg"),
        Sample((mk(4), mk(4)), {"dim": 0}, name="1d"),
        Sample((noncontig(mk(3, 4)), transposed(mk(3, 4))), {"dim": 0}, name="noncontig"),
    ]


def pdist_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    return [
        Sample((mk(3, 4), mk(3, 4)), name="p2"),
        Sample((mk(3, 4), mk(4)), {"p": 1.0, "keepdim": True}, name="p1-broadcast"),
        Sample((mk(2, 3), mk(2, 3)), {"p": 3.0}, name="p3"),
        Sample((mk(2, 3), mk(2, 3)), {"p": math.inf}, name="pinf"),
    ]


def normalize_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    return [
        Sample((mk(3, 4),), name="default"),
        Sample((mk(2, 3, 2),), {"dim": -1}, name="neg-dim"),
        Sample((mk(3, 4),), {"p": 1.0, "dim": 0}, name="p1"),
        Sample((mk(4),), {"dim": 0, "p": 3.0}, name="1d-p3"),
    ]


def layer_norm_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    return [
        Sample((mk(2, 3, 4), (4,), mk(4), mk(4)), name="affine"),
        Sample((mk(3, 4), [3, 4], mk(3, 4), None), name="2d-shape"),
        Sample((mk(2, 3), (3,), None, None), {"eps": 1e-3}, name="plain"),
        Sample((noncontig(mk(2, 4)), (4,), None, mk(4)), name="bias-only-noncontig"),
        Sample((mk(0, 3), (3,), mk(3), mk(3)), name="size0"),
        Sample((mk(3, 4), (3,), None, None), raises=RuntimeError, match=re.escape("normalized_shape=[3]"),
               name="mismatch"),
    ]


def embedding_samples(rng, dt):
    w = lambda: make(rng, (5, 3), dt)  # noqa: E731
    return [
        Sample((np.array([[0, 2, 2], [4, 2, 1]]), w()), name="repeats"),
        Sample((np.array(3), w()), name="0d-index"),
        Sample((np.zeros((0, 2), dtype=np.int64), w()), name="empty"),
        Sample((np.array([1, 7]), w()), raises=IndexError, match="index 7 is out of range", name="oob"),
    ]


def embedding_grad_samples(rng, dt):
    """padding_idx and scale_grad_by_freq change the gradient on purpose: compared with torch only."""
    w = lambda: make(rng, (5, 3), dt)  # noqa: E731
    return [
        Sample((np.array([1, 0, 1, 3]), w()), {"padding_idx": 1}, name="padding"),
        Sample((np.array([1, 0, 1, 4]), w()), {"padding_idx": -1}, name="padding-neg"),
        Sample((np.array([[1, 1, 3]]), w()), {"scale_grad_by_freq": True}, name="freq"),
        Sample((np.array([[1, 1, 3], [0, 3, 3]]), w()), {"scale_grad_by_freq": True, "padding_idx": 0},
               name="freq-padding"),
    ]


def pad_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    return [
        Sample((mk(2, 3), (1, 2)), name="last"),
        Sample((mk(2, 3), (1, 0, 0, 2)), {"value": 1.5}, name="two-dims-value"),
        Sample((mk(2, 3, 4), (-1, 1, 0, 0, 1, -1)), name="neg-crop-3dims"),
        Sample((noncontig(mk(2, 3)), (2, -1)), name="noncontig"),
        Sample((mk(0, 2), (1, 1)), name="size0"),
        Sample((mk(2, 3), (1,)), raises=RuntimeError, match="divisible by 2", name="odd"),
    ]


def pad_mode_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    out = []
    for mode in ("reflect", "replicate", "circular"):
        out += [
            Sample((mk(1, 2, 4), (2, 1)), {"mode": mode}, name=f"{mode}-1d"),
            Sample((mk(1, 2, 3, 3), (1, 2, 2, 0)), {"mode": mode}, name=f"{mode}-2d"),
            Sample((mk(1, 1, 2, 2, 3), (1, 1, 1, 0, 0, 1)), {"mode": mode}, name=f"{mode}-3d"),
        ]
    return out + [Sample((mk(1, 2, 3), (3, 3)), {"mode": "reflect"}, raises=RuntimeError,
                         match="Padding size should be less than", name="reflect-too-wide")]


def margin_samples(rng, dt):
    sign = lambda *s: np.where(rng.random(s) < 0.5, -1.0, 1.0).astype(dt)  # noqa: E731
    x1 = make(rng, (6,), dt)
    x2 = (x1 - away(make(rng, (6,), dt), (0.0,))).astype(dt)
    y = sign(6)
    # keep -y (x1 - x2) + margin away from the hinge
    return [Sample((x1, x2, y), {"margin": 0.0}, grad=(True, True, False), name="m0"),
            Sample((x1, x2, y), {"margin": 0.05, "reduction": "sum"}, grad=(True, True, False), name="sum")]


OPS = [
    # ------------------------------------------------------------ softmax family
    OpInfo("softmax", lambda lib, a, dim: lib.softmax(a, dim), softmax_samples),
    OpInfo("log_softmax", lambda lib, a, dim: lib.log_softmax(a, dim), softmax_samples),
    OpInfo("softmax_method", lambda lib, a, dim: a.softmax(dim) + a.log_softmax(dim),
           lambda r, d: softmax_samples(r, d)[:3]),
    OpInfo("F.softmax_dtype", lambda lib, a, dim: F(lib).softmax(a, dim=dim, dtype=lib.float64),
           lambda r, d: softmax_samples(r, d)[:2]),
    OpInfo("F.log_softmax", lambda lib, a, dim: F(lib).log_softmax(a, dim=dim), lambda r, d: softmax_samples(r, d)[:3]),
    OpInfo("F.softmin", lambda lib, a, dim: F(lib).softmin(a, dim=dim), lambda r, d: softmax_samples(r, d)[:3]),
    # ------------------------------------------------------------ linear
    OpInfo("F.linear", lambda lib, x, w, b=None: F(lib).linear(x, w, b), lambda r, d: [
        Sample((make(r, (3, 4), d), make(r, (2, 4), d), make(r, (2,), d)), name="2d"),
        Sample((make(r, (2, 3, 4), d), make(r, (2, 4), d)), name="3d-nobias"),
        Sample((make(r, (4,), d), make(r, (2, 4), d), make(r, (2,), d)), name="1d"),
        Sample((noncontig(make(r, (3, 4), d)), transposed(make(r, (2, 4), d)), make(r, (2,), d)), name="noncontig"),
        Sample((make(r, (0, 4), d), make(r, (2, 4), d), make(r, (2,), d)), name="size0"),
        Sample((make(r, (6, 5), d), make(r, (2, 4), d)), raises=RuntimeError,
               match=re.escape("input of shape (6, 5) does not match weight of shape (2, 4): last dim must be 4"),
               name="mismatch"),
    ]),
    OpInfo("F.bilinear", lambda lib, a, b, w, bias=None: F(lib).bilinear(a, b, w, bias), lambda r, d: [
        Sample((make(r, (3, 2), d), make(r, (3, 3), d), make(r, (2, 2, 3), d), make(r, (2,), d)), name="bias"),
        Sample((make(r, (2, 2), d), make(r, (2, 3), d), make(r, (1, 2, 3), d)), name="nobias"),
    ]),
    # ------------------------------------------------------------ activations
    act("F.relu", lambda lib, a: F(lib).relu(a), (0.0,)),
    act("F.relu_inplace", lambda lib, a: F(lib).relu(a * 1, inplace=True), (0.0,)),
    act("F.relu_", lambda lib, a: F(lib).relu_(a * 1), (0.0,)),
    act("F.relu6", lambda lib, a: F(lib).relu6(a * 4), (0.0, 1.5)),
    act("F.leaky_relu", lambda lib, a: F(lib).leaky_relu(a, 0.2), (0.0,)),
    act("F.leaky_relu_", lambda lib, a: F(lib).leaky_relu_(a * 1, 0.1), (0.0,)),
    act("F.elu", lambda lib, a: F(lib).elu(a, alpha=1.5), (0.0,)),
    act("F.elu_inplace", lambda lib, a: F(lib).elu(a * 1, inplace=True), (0.0,)),
    act("F.selu", lambda lib, a: F(lib).selu(a), (0.0,)),
    act("F.celu", lambda lib, a: F(lib).celu(a, alpha=0.7), (0.0,)),
    act("F.gelu", lambda lib, a: F(lib).gelu(a), low=-4, high=4),
    act("F.gelu_tanh", lambda lib, a: F(lib).gelu(a, approximate="tanh"), low=-4, high=4),
    act("F.silu", lambda lib, a: F(lib).silu(a)),
    act("F.mish", lambda lib, a: F(lib).mish(a), low=-4, high=4),
    act("F.softplus", lambda lib, a: F(lib).softplus(a)),
    act("F.softplus_threshold", lambda lib, a: F(lib).softplus(a, beta=2.0, threshold=3.0), (1.5,)),
    act("F.softsign", lambda lib, a: F(lib).softsign(a), (0.0,)),
    act("F.hardtanh", lambda lib, a: F(lib).hardtanh(a, -0.5, 1.0), (-0.5, 1.0)),
    act("F.hardtanh_", lambda lib, a: F(lib).hardtanh_(a * 1), (-1.0, 1.0)),
    act("F.hardsigmoid", lambda lib, a: F(lib).hardsigmoid(a), (-3.0, 3.0), low=-4, high=4),
    act("F.hardswish", lambda lib, a: F(lib).hardswish(a), (-3.0, 3.0), low=-4, high=4),
    act("F.sigmoid", lambda lib, a: F(lib).sigmoid(a)),
    act("F.tanh", lambda lib, a: F(lib).tanh(a)),
    act("F.logsigmoid", lambda lib, a: F(lib).logsigmoid(a), low=-5, high=5),
    act("F.threshold", lambda lib, a: F(lib).threshold(a, 0.5, -2.0), (0.5,)),
    act("F.threshold_", lambda lib, a: F(lib).threshold_(a * 1, 0.5, -2.0), (0.5,)),
    act("F.hardshrink", lambda lib, a: F(lib).hardshrink(a, 0.5), (-0.5, 0.5)),
    act("F.softshrink", lambda lib, a: F(lib).softshrink(a, 0.5), (-0.5, 0.5)),
    act("F.tanhshrink", lambda lib, a: F(lib).tanhshrink(a)),
    act("F.rrelu_eval", lambda lib, a: F(lib).rrelu(a), (0.0,)),
    OpInfo("F.glu", lambda lib, a, dim=-1: F(lib).glu(a, dim), lambda r, d: [
        Sample((make(r, (3, 4), d),), name="last"), Sample((make(r, (4, 3), d), 0), name="dim0"),
        Sample((noncontig(make(r, (2, 2, 2), d)), 1), name="noncontig"),
        Sample((make(r, (3, 5), d),), raises=RuntimeError, match="is size 5", name="odd")]),
    OpInfo("F.prelu", lambda lib, a, w: F(lib).prelu(a, w), lambda r, d: [
        Sample((away(make(r, (2, 3, 2), d), (0.0,)), make(r, (3,), d, positive=True)), name="channels"),
        Sample((away(make(r, (3, 4), d), (0.0,)), np.array([0.25], dtype=d)), name="shared"),
        Sample((away(make(r, (4,), d), (0.0,)), np.array([0.25], dtype=d)), name="1d"),
    ]),
    # ------------------------------------------------------------ regression losses
    OpInfo("F.mse_loss", lambda lib, x, t, **k: F(lib).mse_loss(x, t, **k), pair_samples),
    OpInfo("F.mse_loss_weight", lambda lib, x, t, w, **k: F(lib).mse_loss(x, t, weight=w, **k), weighted_pair),
    OpInfo("F.l1_loss", lambda lib, x, t, **k: F(lib).l1_loss(x, t, **k), lambda r, d: pair_samples(r, d, (0.0,))),
    OpInfo("F.l1_loss_weight", lambda lib, x, t, w, **k: F(lib).l1_loss(x, t, weight=w, **k),
           lambda r, d: weighted_pair(r, d, (0.0,))),
    OpInfo("F.smooth_l1_loss", lambda lib, x, t, **k: F(lib).smooth_l1_loss(x, t, beta=0.5, **k),
           lambda r, d: pair_samples(r, d, (0.0, 0.5, -0.5))),
    OpInfo("F.smooth_l1_loss_beta0", lambda lib, x, t, **k: F(lib).smooth_l1_loss(x, t, beta=0.0, **k),
           lambda r, d: pair_samples(r, d, (0.0,))[:1]),
    OpInfo("F.huber_loss", lambda lib, x, t, **k: F(lib).huber_loss(x, t, delta=0.7, **k),
           lambda r, d: pair_samples(r, d, (0.0, 0.7, -0.7))),
    OpInfo("F.huber_loss_weight", lambda lib, x, t, w, **k: F(lib).huber_loss(x, t, weight=w, **k),
           lambda r, d: weighted_pair(r, d, (0.0, 1.0, -1.0))),
    # ------------------------------------------------------------ classification losses
    OpInfo("F.cross_entropy", lambda lib, x, t, w=None, **k: F(lib).cross_entropy(x, t, weight=w, **k), ce_samples),
    OpInfo("F.cross_entropy_prob", lambda lib, x, t, w=None, **k: F(lib).cross_entropy(x, t, weight=w, **k),
           ce_prob_samples),
    OpInfo("F.nll_loss", lambda lib, x, t, w=None, **k: F(lib).nll_loss(x, t, weight=w, **k), nll_samples),
    OpInfo("F.binary_cross_entropy", lambda lib, x, t, w=None, **k: F(lib).binary_cross_entropy(x, t, weight=w, **k),
           bce_samples),
    OpInfo("F.binary_cross_entropy_with_logits",
           lambda lib, x, t, w=None, pw=None, **k: F(lib).binary_cross_entropy_with_logits(
               x, t, weight=w, pos_weight=pw, **k), bce_logits_samples),
    OpInfo("F.kl_div", lambda lib, x, t, **k: F(lib).kl_div(x, t, **k), kl_samples),
    OpInfo("F.poisson_nll_loss", lambda lib, x, t, **k: F(lib).poisson_nll_loss(x, t, **k), lambda r, d: [
        Sample((make(r, (3, 4), d), make(r, (3, 4), d, positive=True)), name="log_input"),
        Sample((make(r, (3, 4), d, positive=True), make(r, (3, 4), d, positive=True)),
               {"log_input": False, "reduction": "sum"}, name="linear"),
        Sample((make(r, (3, 4), d), make(r, (3, 4), d, low=0.2, high=3.0)), {"full": True, "reduction": "none"},
               name="full"),
    ]),
    OpInfo("F.gaussian_nll_loss", lambda lib, x, t, v, **k: F(lib).gaussian_nll_loss(x, t, v, **k), lambda r, d: [
        Sample((make(r, (3, 4), d), make(r, (3, 4), d), make(r, (3, 4), d, positive=True)), name="hetero"),
        Sample((make(r, (3, 4), d), make(r, (3, 4), d), make(r, (3,), d, positive=True)), {"full": True},
               name="homo"),
    ]),
    OpInfo("F.margin_ranking_loss", lambda lib, a, b, y, **k: F(lib).margin_ranking_loss(a, b, y, **k),
           margin_samples),
    OpInfo("F.soft_margin_loss", lambda lib, x, y, **k: F(lib).soft_margin_loss(x, y, **k), lambda r, d: [
        Sample((make(r, (3, 4), d), np.where(r.random((3, 4)) < 0.5, -1.0, 1.0).astype(d)), grad=(True, False))]),
    OpInfo("F.hinge_embedding_loss", lambda lib, x, y, **k: F(lib).hinge_embedding_loss(x, y, **k), lambda r, d: [
        Sample((away(make(r, (3, 4), d), (1.0,)), np.where(r.random((3, 4)) < 0.5, -1.0, 1.0).astype(d)),
               grad=(True, False))]),
    OpInfo("F.cosine_embedding_loss", lambda lib, a, b, y, **k: F(lib).cosine_embedding_loss(a, b, y, **k),
           lambda r, d: [Sample((make(r, (3, 4), d), make(r, (3, 4), d), np.array([1.0, -1.0, 1.0], dtype=d)),
                                {"margin": -1.0}, grad=(True, True, False))]),
    OpInfo("F.triplet_margin_loss", lambda lib, a, pos, neg, **k: F(lib).triplet_margin_loss(a, pos, neg, **k),
           lambda r, d: [Sample((make(r, (3, 4), d), make(r, (3, 4), d), make(r, (3, 4), d)), {"margin": 5.0}),
                         Sample((make(r, (3, 4), d), make(r, (3, 4), d), make(r, (3, 4), d)),
                                {"margin": 5.0, "swap": True, "p": 1.0})]),
    # ------------------------------------------------------------ distances, normalisation
    OpInfo("F.cosine_similarity", lambda lib, a, b, **k: F(lib).cosine_similarity(a, b, **k), cos_samples),
    OpInfo("F.pairwise_distance", lambda lib, a, b, **k: F(lib).pairwise_distance(a, b, **k), pdist_samples),
    OpInfo("F.normalize", lambda lib, a, **k: F(lib).normalize(a, **k), normalize_samples),
    OpInfo("F.one_hot", lambda lib, a, *n: F(lib).one_hot(a, *n), lambda r, d: [
        Sample((np.array([0, 2, 1]),), name="infer"), Sample((np.array([[0, 2], [3, 1]]), 5), name="2d"),
        Sample((np.zeros((0,), dtype=np.int64), 3), name="empty"),
        Sample((np.array([-1, 0]),), raises=RuntimeError, match="non-negative", name="negative"),
        Sample((np.array([3]), 2), raises=RuntimeError, match="smaller than num_classes", name="too-big")],
        dtypes=(np.float32,), supports_grad=False),
    OpInfo("F.layer_norm", lambda lib, x, s, w, b, **k: F(lib).layer_norm(x, s, w, b, **k), layer_norm_samples),
    OpInfo("F.rms_norm", lambda lib, x, s, w=None, **k: F(lib).rms_norm(x, s, w, **k), lambda r, d: [
        Sample((make(r, (2, 3, 4), d), (4,), make(r, (4,), d)), name="affine"),
        Sample((make(r, (3, 4), d), (3, 4)), {"eps": 1e-3}, name="plain")]),
    OpInfo("F.embedding", lambda lib, i, w, **k: F(lib).embedding(i, w, **k), embedding_samples),
    OpInfo("F.embedding_padding", lambda lib, i, w, **k: F(lib).embedding(i, w, **k), embedding_grad_samples,
           gradcheck=False),
    OpInfo("F.batch_norm", lambda lib, x, rm, rv, w=None, b=None, **k: F(lib).batch_norm(x, rm, rv, w, b, **k),
           lambda r, d: [
        Sample((make(r, (4, 3, 2), d), make(r, (3,), d), make(r, (3,), d, positive=True), make(r, (3,), d),
                make(r, (3,), d)), {"training": True, "momentum": 0.2}, grad=(True, False, False, True, True),
               name="train"),
        Sample((make(r, (5, 3), d), None, None, make(r, (3,), d)), {"training": True}, grad=(True, False, False, True),
               name="train-2d-nostats"),
        Sample((make(r, (2, 3, 2, 2), d), make(r, (3,), d), make(r, (3,), d, positive=True), make(r, (3,), d),
                make(r, (3,), d)), {"eps": 1e-3}, grad=(True, False, False, True, True), name="eval"),
        Sample((make(r, (3, 2, 2, 3), d), make(r, (2,), d), make(r, (2,), d, positive=True), make(r, (2,), d),
                make(r, (2,), d)), {"training": True, "momentum": 0.3}, grad=(True, False, False, True, True),
               name="train-4d"),
        Sample((make(r, (2, 3, 2, 2), d), None, None), {"training": True}, grad=(True, False, False),
               name="train-no-affine"),
        Sample((noncontig(make(r, (2, 3, 3), d)), None, None, make(r, (3,), d)), {"training": True},
               grad=(True, False, False, True), name="train-noncontig-weight-only"),
        Sample((transposed(make(r, (3, 2, 2), d)), None, None, None, make(r, (2,), d)), {"training": True},
               grad=(True, False, False, False, True), name="train-transposed-bias-only"),
        Sample((make(r, (3, 2), d), make(r, (2,), d), make(r, (2,), d, positive=True)), {},
               grad=(True, False, False), name="eval-no-affine"),
        Sample((make(r, (1, 2, 1, 1), d), make(r, (2,), d), make(r, (2,), d, positive=True)), {"training": True},
               raises=ValueError, match="more than 1 value", name="train-one-value"),
    ]),
    OpInfo("F.instance_norm", lambda lib, x, rm=None, rv=None, w=None, b=None, **k: F(lib).instance_norm(
        x, rm, rv, w, b, **k), lambda r, d: [
        Sample((make(r, (2, 3, 4), d), None, None, make(r, (3,), d), make(r, (3,), d)), name="affine"),
        Sample((make(r, (2, 2, 2, 2), d), make(r, (2,), d), make(r, (2,), d, positive=True)), {"momentum": 0.3},
               grad=(True, False, False), name="running"),
        Sample((make(r, (2, 2, 3), d), make(r, (2,), d), make(r, (2,), d, positive=True)),
               {"use_input_stats": False}, grad=(True, False, False), name="eval"),
    ]),
    OpInfo("F.group_norm", lambda lib, x, g, w=None, b=None, **k: F(lib).group_norm(x, g, w, b, **k),
           lambda r, d: [
        Sample((make(r, (2, 4, 3), d), 2, make(r, (4,), d), make(r, (4,), d)), name="affine"),
        Sample((make(r, (2, 6), d), 3), {"eps": 1e-3}, name="2d"),
        Sample((make(r, (1, 2, 2, 2), d), 1, make(r, (2,), d)), name="4d-one-group"),
    ]),
    OpInfo("F.scaled_dot_product_attention", lambda lib, q, k, v, m=None, **kw: F(lib).scaled_dot_product_attention(
        q, k, v, attn_mask=m, **kw), lambda r, d: [
        Sample((make(r, (2, 3, 4), d), make(r, (2, 5, 4), d), make(r, (2, 5, 3), d)), name="plain"),
        Sample((make(r, (1, 2, 3, 2), d), make(r, (1, 2, 3, 2), d), make(r, (1, 2, 3, 2), d)), {"is_causal": True},
               name="causal"),
        Sample((make(r, (2, 3, 2), d), make(r, (2, 4, 2), d), make(r, (2, 4, 2), d), r.random((3, 4)) < 0.7),
               {"scale": 0.3}, name="bool-mask"),
        Sample((make(r, (2, 3, 2), d), make(r, (2, 4, 2), d), make(r, (2, 4, 2), d), make(r, (2, 3, 4), d)),
               grad=(True, True, True, False), name="float-mask"),
        Sample((make(r, (1, 4, 2, 2), d), make(r, (1, 2, 3, 2), d), make(r, (1, 2, 3, 2), d)), {"enable_gqa": True},
               name="gqa"),
    ]),
    OpInfo("F.scaled_dot_product_attention_more", lambda lib, q, k, v, m=None, **kw: F(lib).scaled_dot_product_attention(
        q, k, v, attn_mask=m, **kw), lambda r, d: [
        Sample((make(r, (3, 2), d), make(r, (4, 2), d), make(r, (4, 3), d)), name="unbatched"),
        Sample((make(r, (2, 1, 3, 2), d), make(r, (2, 2, 4, 2), d), make(r, (1, 2, 4, 2), d)), name="broadcast-batch"),
        Sample((make(r, (2, 3, 2), d), make(r, (2, 4, 2), d), make(r, (2, 4, 2), d),
                np.array([[True, False, True, True], [False] * 4, [True, True, False, False]])),
               name="fully-masked-row"),
        Sample((make(r, (2, 3, 2), d), make(r, (2, 4, 2), d), make(r, (2, 4, 2), d), make(r, (3, 4), d)),
               name="float-mask-grad"),
        Sample((transposed(make(r, (2, 3, 2), d)), noncontig(make(r, (2, 4, 2), d)), make(r, (2, 4, 3), d)),
               {"scale": 2.0}, name="noncontig"),
        Sample((make(r, (2, 4, 3, 2), d), make(r, (2, 4, 5, 2), d), make(r, (2, 4, 5, 2), d)), {"is_causal": True},
               name="causal-rect"),
        Sample((make(r, (2, 0, 2), d), make(r, (2, 3, 2), d), make(r, (2, 3, 2), d)), name="empty-query"),
    ]),
    OpInfo("F.multilabel_soft_margin_loss", lambda lib, x, y, w=None, **k: F(lib).multilabel_soft_margin_loss(
        x, y, w, **k), lambda r, d: [
        Sample((make(r, (3, 4), d), (r.random((3, 4)) < 0.5).astype(d)), grad=(True, False), name="mean"),
        Sample((make(r, (3, 4), d), (r.random((3, 4)) < 0.5).astype(d), make(r, (4,), d, positive=True)),
               {"reduction": "none"}, grad=(True, False, False), name="weight"),
    ]),
    OpInfo("F.multi_margin_loss", lambda lib, x, y, w=None, **k: F(lib).multi_margin_loss(x, y, weight=w, **k),
           lambda r, d: [
        Sample((make(r, (3, 4), d), labels(r, (3,), 4)), name="p1"),
        Sample((make(r, (3, 4), d), labels(r, (3,), 4), make(r, (4,), d, positive=True)),
               {"p": 2, "margin": 0.5, "reduction": "sum"}, grad=(True, False, False), name="p2-weight"),
    ]),
    # ------------------------------------------------------------ dropout (deterministic settings only)
    OpInfo("F.dropout_eval", lambda lib, a: F(lib).dropout(a, 0.5, training=False) + F(lib).dropout(a, 0.0),
           lambda r, d: unary(r, d)[:2]),
    OpInfo("F.dropout_variants_eval", lambda lib, a: F(lib).alpha_dropout(a, 0.3) + F(lib).dropout2d(
        a, 0.5, training=False) + F(lib).feature_alpha_dropout(a, 0.2) + F(lib).dropout1d(a, 0.0),
           lambda r, d: [Sample((make(r, (2, 3, 2), d),))]),
    # ------------------------------------------------------------ padding
    OpInfo("F.pad", lambda lib, a, p, **k: F(lib).pad(a, p, **k), pad_samples),
    OpInfo("F.pad_modes", lambda lib, a, p, **k: F(lib).pad(a, p, **k), pad_mode_samples),
]
