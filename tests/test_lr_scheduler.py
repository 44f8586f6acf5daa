"""nerve.optim.lr_scheduler against torch.optim.lr_scheduler: lr sequences, param groups, state dicts."""
import math
import pickle
import warnings

import numpy as np
import pytest
import torch

import nerve
import nerve.optim as noptim
from nerve.nn import Parameter
from nerve.optim import lr_scheduler as nsched
from torch.optim import lr_scheduler as tsched

STEPS = 45


def make_opts(opt_name="SGD", two_groups=True, **kw):
    """The same optimizer in nerve and torch, with two param groups of different lrs."""
    kw = kw or (dict(lr=0.1, momentum=0.9) if opt_name == "SGD" else dict(lr=0.01))
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    nps = [Parameter(nerve.tensor(a)) for a in arrays]
    tps = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]

    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}] if two_groups else ps
    return getattr(noptim, opt_name)(groups(nps), **kw), getattr(torch.optim, opt_name)(groups(tps), **kw)


def group_view(opt):
    return [{k: v for k, v in g.items() if k not in ("params",)} for g in opt.param_groups]


def run_lrs(opt, sched, steps=STEPS, metrics=None):
    """lr sequence (and momentum/betas) of ``steps`` scheduler steps, each after an optimizer step."""
    seq = [(list(sched.get_last_lr()), group_view(opt))]
    for t in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[t])
        seq.append((list(sched.get_last_lr()), group_view(opt)))
    return seq


def assert_same_sequence(nseq, tseq):
    assert len(nseq) == len(tseq)
    for t, ((nl, ng), (tl, tg)) in enumerate(zip(nseq, tseq)):
        assert nl == tl, f"get_last_lr() at step {t}: {nl} != {tl}"  # bit-exact: same float arithmetic
        assert ng == tg, f"param groups at step {t}:\n{ng}\n{tg}"


def compare(factory, opt_name="SGD", steps=STEPS, metrics=None, two_groups=True, **opt_kw):
    nopt, topt = make_opts(opt_name, two_groups, **opt_kw)
    nsch, tsch = factory(nopt, nsched), factory(topt, tsched)
    assert_same_sequence(run_lrs(nopt, nsch, steps, metrics), run_lrs(topt, tsch, steps, metrics))
    assert getattr(nsch, "last_epoch", None) == getattr(tsch, "last_epoch", None)
    return nsch, tsch


SCHEDULERS = {
    "StepLR": lambda o, m: m.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-default": lambda o, m: m.StepLR(o, step_size=3),
    "MultiStepLR": lambda o, m: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda o, m: m.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda o, m: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "CosineAnnealingLR-long": lambda o, m: m.CosineAnnealingLR(o, T_max=50),
    "CosineAnnealingWarmRestarts": lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=7),
    "CosineAnnealingWarmRestarts-Tmult2": lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                                      eta_min=0.01),
    "CosineAnnealingWarmRestarts-Tmult3": lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=3),
    "LinearLR": lambda o, m: m.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=12),
    "LinearLR-default": lambda o, m: m.LinearLR(o),
    "LinearLR-decay": lambda o, m: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=30),
    "LambdaLR": lambda o, m: m.LambdaLR(o, lr_lambda=lambda e: 0.9 ** e),
    "LambdaLR-list": lambda o, m: m.LambdaLR(o, lr_lambda=[lambda e: 1 / (1 + e), lambda e: e % 4 + 1]),
    "MultiplicativeLR": lambda o, m: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.95 if e % 2 else 1.01),
    "ConstantLR": lambda o, m: m.ConstantLR(o, factor=0.5, total_iters=8),
    "ConstantLR-default": lambda o, m: m.ConstantLR(o),
    "PolynomialLR": lambda o, m: m.PolynomialLR(o, total_iters=30, power=2.0),
    "PolynomialLR-default": lambda o, m: m.PolynomialLR(o),
    "SequentialLR": lambda o, m: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=10), m.ExponentialLR(o, gamma=0.9)], milestones=[10]),
    "SequentialLR-3": lambda o, m: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.2, total_iters=3), m.CosineAnnealingLR(o, T_max=12, eta_min=0.002),
            m.StepLR(o, step_size=4, gamma=0.7)], milestones=[5, 20]),
    "SequentialLR-chained": lambda o, m: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.8)], milestones=[8]),
    "ChainedScheduler": lambda o, m: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.1, total_iters=4), m.ExponentialLR(o, gamma=0.9)]),
    "ChainedScheduler-cos": lambda o, m: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.2, total_iters=5), m.CosineAnnealingLR(o, T_max=20)], optimizer=o),
    "OneCycleLR": lambda o, m: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS),
    "OneCycleLR-linear": lambda o, m: m.OneCycleLR(o, max_lr=0.8, total_steps=STEPS, anneal_strategy="linear"),
    "OneCycleLR-three-phase": lambda o, m: m.OneCycleLR(o, max_lr=0.8, total_steps=STEPS, three_phase=True),
    "OneCycleLR-three-phase-linear": lambda o, m: m.OneCycleLR(
        o, max_lr=0.8, epochs=5, steps_per_epoch=9, three_phase=True, anneal_strategy="linear", pct_start=0.25,
        div_factor=10.0, final_div_factor=100.0, base_momentum=0.8, max_momentum=[0.9, 0.99]),
    "OneCycleLR-no-momentum": lambda o, m: m.OneCycleLR(o, max_lr=0.3, total_steps=STEPS + 5,
                                                        cycle_momentum=False),
    "CyclicLR": lambda o, m: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5),
    "CyclicLR-triangular2": lambda o, m: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=4,
                                                    step_size_down=6, mode="triangular2"),
    "CyclicLR-exp_range": lambda o, m: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range",
                                                  gamma=0.95),
    "CyclicLR-scale_fn": lambda o, m: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                 scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations"),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_lr_sequence_matches_torch(name):
    compare(SCHEDULERS[name])


@pytest.mark.parametrize("name", ["OneCycleLR", "OneCycleLR-three-phase", "CyclicLR", "StepLR", "SequentialLR"])
def test_lr_sequence_with_adam_matches_torch(name):
    # OneCycleLR/CyclicLR cycle Adam's beta1 instead of the momentum
    compare(SCHEDULERS[name], opt_name="Adam")


def test_onecycle_step_past_total_raises_like_torch():
    nopt, topt = make_opts()
    ns = nsched.OneCycleLR(nopt, max_lr=0.1, total_steps=3)
    ts = tsched.OneCycleLR(topt, max_lr=0.1, total_steps=3)
    for s, o in ((ns, nopt), (ts, topt)):
        for _ in range(3):
            o.step()
            s.step()
        with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
            s.step()


# ---------------------------------------------------------------------------- ReduceLROnPlateau
def _metrics(n=60, seed=0):
    rng = np.random.default_rng(seed)
    base = np.concatenate([np.linspace(1.0, 0.5, 15), np.full(20, 0.5), np.linspace(0.5, 0.45, 10),
                           np.full(n - 45, 0.45)])
    vals = base + rng.standard_normal(n) * 0.002
    vals[20] = 0.4999  # a tiny improvement that only counts in some threshold modes
    return [float(v) for v in vals]


PLATEAU = [
    dict(),
    dict(patience=0),
    dict(patience=2, factor=0.5),
    dict(patience=2, cooldown=3, factor=0.5),
    dict(patience=1, threshold=0.01, threshold_mode="abs", factor=0.7),
    dict(patience=1, threshold=0.05, threshold_mode="rel", factor=0.7),
    dict(patience=1, factor=0.3, min_lr=0.004),
    dict(patience=1, factor=0.3, min_lr=[0.01, 0.001], cooldown=1),
    dict(patience=1, factor=0.5, eps=0.02),
    dict(mode="max", patience=2, factor=0.5),
    dict(mode="max", patience=1, threshold=0.001, threshold_mode="abs", cooldown=2, factor=0.5),
]


@pytest.mark.parametrize("kw", PLATEAU, ids=[",".join(f"{k}={v}" for k, v in d.items()) or "default"
                                             for d in PLATEAU])
def test_reduce_lr_on_plateau_matches_torch(kw):
    metrics = _metrics()
    if kw.get("mode") == "max":
        metrics = [-m for m in metrics]
    ns, ts = compare(lambda o, m: m.ReduceLROnPlateau(o, **kw), steps=len(metrics), metrics=metrics)
    for attr in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch", "min_lrs"):
        assert getattr(ns, attr) == getattr(ts, attr), attr


def test_reduce_lr_on_plateau_accepts_tensor_metric_and_validates():
    nopt, _ = make_opts()
    s = nsched.ReduceLROnPlateau(nopt, patience=0)
    s.step(nerve.tensor(1.0))
    s.step(nerve.tensor(2.0))
    assert s.get_last_lr() == pytest.approx([0.01, 0.005])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        nsched.ReduceLROnPlateau(nopt, factor=1.0)
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 3"):
        nsched.ReduceLROnPlateau(nopt, min_lr=[0, 0, 0])
    with pytest.raises(ValueError, match="mode avg is unknown"):
        nsched.ReduceLROnPlateau(nopt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode x is unknown"):
        nsched.ReduceLROnPlateau(nopt, threshold_mode="x")


# ---------------------------------------------------------------------------- param groups and state dicts
@pytest.mark.parametrize("name", ["StepLR", "OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts-Tmult2",
                                  "SequentialLR", "LambdaLR"])
def test_param_groups_get_initial_lr_like_torch(name):
    nopt, topt = make_opts()
    SCHEDULERS[name](nopt, nsched)
    SCHEDULERS[name](topt, tsched)
    assert group_view(nopt) == group_view(topt)
    assert "initial_lr" in nopt.param_groups[0]


def _state_comparable(sd):
    out = {}
    for k, v in sd.items():
        if k in ("_schedulers",):
            out[k] = [_state_comparable(s) for s in v]
        elif k in ("lr_lambdas", "_scale_fn_custom", "_scale_fn_ref"):
            continue
        else:
            out[k] = v
    return out


@pytest.mark.parametrize("name", [n for n in SCHEDULERS if n != "CyclicLR-scale_fn"] + ["ReduceLROnPlateau"])
def test_state_dict_matches_torch_and_resumes(name):
    metrics = _metrics()
    factory = SCHEDULERS.get(name, lambda o, m: m.ReduceLROnPlateau(o, patience=1, cooldown=2, factor=0.5))
    feed = metrics if name == "ReduceLROnPlateau" else None
    nopt, topt = make_opts()
    ns, ts = factory(nopt, nsched), factory(topt, tsched)
    half = 20
    for t in range(half):
        for o, s in ((nopt, ns), (topt, ts)):
            o.step()
            s.step() if feed is None else s.step(feed[t])
    nsd, tsd = ns.state_dict(), ts.state_dict()
    assert sorted(nsd) == sorted(tsd)
    assert _state_comparable(nsd) == _state_comparable(tsd)

    # resume into fresh objects (scheduler first, then the optimizer's state, as torch recommends)
    nsd = pickle.loads(pickle.dumps(nsd))
    osd = pickle.loads(pickle.dumps(nopt.state_dict()))
    nopt2, _ = make_opts()
    ns2 = factory(nopt2, nsched)
    ns2.load_state_dict(nsd)
    nopt2.load_state_dict(osd)
    rest = feed[half:] if feed else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = run_lrs(nopt, ns, STEPS - half, rest)
        b = run_lrs(nopt2, ns2, STEPS - half, rest)
    assert_same_sequence(a, b)


def test_lambda_lr_state_dict_drops_functions_keeps_callable_objects():
    class Factor:
        def __init__(self, k):
            self.k = k

        def __call__(self, e):
            return self.k ** e

    nopt, _ = make_opts()
    s = nsched.LambdaLR(nopt, lr_lambda=[lambda e: 1.0, Factor(0.5)])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [None, {"k": 0.5}]
    nopt2, _ = make_opts()
    s2 = nsched.LambdaLR(nopt2, lr_lambda=[lambda e: 1.0, Factor(0.9)])
    s2.load_state_dict({**sd, "lr_lambdas": [None, {"k": 0.25}]})
    assert s2.lr_lambdas[1].k == 0.25


def test_scheduler_with_last_epoch_needs_initial_lr():
    nopt, topt = make_opts()
    with pytest.raises(KeyError, match="initial_lr"):
        nsched.StepLR(nopt, step_size=3, last_epoch=5)
    for g in nopt.param_groups:
        g["initial_lr"] = g["lr"]
    for g in topt.param_groups:
        g["initial_lr"] = g["lr"]
    assert_same_sequence(run_lrs(nopt, nsched.CosineAnnealingLR(nopt, T_max=10, last_epoch=5)),
                         run_lrs(topt, tsched.CosineAnnealingLR(topt, T_max=10, last_epoch=5)))


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
                                  "ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts-Tmult2", "LambdaLR"])
def test_step_with_epoch_uses_closed_form_like_torch(name):
    nopt, topt = make_opts()
    ns, ts = SCHEDULERS[name](nopt, nsched), SCHEDULERS[name](topt, tsched)
    epochs = [3, 4, 10, 2, 17, 17, 31, 0, 44]
    for s, o in ((ns, nopt), (ts, topt)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for e in epochs:
                o.step()
                s.step(e)
                s.lrs_ = getattr(s, "lrs_", []) + [list(s.get_last_lr())]
        s.warned_ = [str(w.message)[:40] for w in caught]
    assert ns.lrs_ == ts.lrs_
    assert ns.warned_ == ts.warned_


def test_warnings_like_torch():
    nopt, _ = make_opts()
    s = nsched.StepLR(nopt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()
    nopt, _ = make_opts()
    s = nsched.ExponentialLR(nopt, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nopt.step()
        s.step()
        s.step()


def test_scheduler_validation():
    nopt, topt = make_opts()
    for m, o in ((nsched, nopt), (tsched, topt)):
        with pytest.raises(TypeError, match="is not an Optimizer"):
            m.StepLR(object(), step_size=1)
        with pytest.raises(ValueError, match="Expected positive integer T_0"):
            m.CosineAnnealingWarmRestarts(o, T_0=0)
        with pytest.raises(ValueError, match="Expected integer T_mult >= 1"):
            m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0)
        with pytest.raises(ValueError, match="You must define either total_steps"):
            m.OneCycleLR(o, max_lr=0.1)
        with pytest.raises(ValueError, match="anneal_strategy must be one of"):
            m.OneCycleLR(o, max_lr=0.1, total_steps=5, anneal_strategy="exp")
        with pytest.raises(ValueError, match="max_lr must have the same length as optimizer.param_groups"):
            m.OneCycleLR(o, max_lr=[0.1], total_steps=5)
        with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
            m.LambdaLR(o, lr_lambda=[lambda e: 1.0])
        with pytest.raises(ValueError, match="number of milestones"):
            m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)], milestones=[])
        with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
            m.ChainedScheduler([m.ReduceLROnPlateau(o)])
        with pytest.raises(ValueError, match="Starting multiplicative factor"):
            m.LinearLR(o, start_factor=0)
        with pytest.raises(ValueError, match="Constant multiplicative factor"):
            m.ConstantLR(o, factor=2)
    nopt2, _ = make_opts()
    with pytest.raises(ValueError, match="same optimizer"):
        nsched.SequentialLR(nopt, [nsched.StepLR(nopt, 2), nsched.StepLR(nopt2, 3)], milestones=[3])


# ---------------------------------------------------------------------------- schedulers driving training
def _train(mod_opt, mod_sched, lib, opt_name, opt_kw, sched_factory, steps=STEPS):
    rng = np.random.default_rng(3)
    w = rng.standard_normal((3, 2))
    xs = rng.standard_normal((steps, 6, 3))
    ys = rng.standard_normal((steps, 6, 2))
    p = Parameter(nerve.tensor(w)) if lib is nerve else torch.nn.Parameter(torch.tensor(w))
    opt = getattr(mod_opt, opt_name)([p], **opt_kw)
    sched = sched_factory(opt, mod_sched)
    traj = []
    for t in range(steps):
        opt.zero_grad()
        x, y = lib.tensor(xs[t]), lib.tensor(ys[t])
        loss = ((x @ p).tanh() - y).pow(2).mean()
        loss.backward()
        opt.step()
        sched.step()
        traj.append(p.detach().numpy().copy())
    return np.array(traj)


@pytest.mark.parametrize("opt_name,opt_kw,factory", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True),
     lambda o, m: m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS, three_phase=True)),
    ("Adam", dict(lr=0.01, amsgrad=True), lambda o, m: m.OneCycleLR(o, max_lr=0.05, total_steps=STEPS)),
    ("AdamW", dict(lr=0.05), lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2)),
    ("RMSprop", dict(lr=0.01, momentum=0.5), lambda o, m: m.CyclicLR(o, base_lr=0.001, max_lr=0.02,
                                                                     step_size_up=6)),
    ("Adagrad", dict(lr=0.1), lambda o, m: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=8), m.ExponentialLR(o, gamma=0.95)], milestones=[8])),
])
def test_training_with_scheduler_matches_torch(opt_name, opt_kw, factory):
    a = _train(noptim, nsched, nerve, opt_name, opt_kw, factory)
    b = _train(torch.optim, tsched, torch, opt_name, opt_kw, factory)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_cosine_warm_restarts_fractional_epochs_like_torch():
    nopt, topt = make_opts()
    ns = nsched.CosineAnnealingWarmRestarts(nopt, T_0=3, T_mult=2)
    ts = tsched.CosineAnnealingWarmRestarts(topt, T_0=3, T_mult=2)
    iters = 4
    for epoch in range(8):
        for i in range(iters):
            nopt.step()
            topt.step()
            ns.step(epoch + i / iters)
            ts.step(epoch + i / iters)
            assert ns.get_last_lr() == ts.get_last_lr()
            assert ns.T_cur == ts.T_cur and ns.T_i == ts.T_i
    assert math.isclose(ns.get_last_lr()[0], ts.get_last_lr()[0])


def test_user_defined_scheduler_subclass_like_torch():
    def make(base):
        class Warmup(base.LRScheduler):
            def __init__(self, optimizer, warmup, last_epoch=-1):
                self.warmup = warmup
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                f = min(1.0, (self.last_epoch + 1) / self.warmup)
                return [b * f for b in self.base_lrs]
        return Warmup

    nopt, topt = make_opts()
    assert_same_sequence(run_lrs(nopt, make(nsched)(nopt, 6)), run_lrs(topt, make(tsched)(topt, 6)))
