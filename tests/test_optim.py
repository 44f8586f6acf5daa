"""nerve.optim optimizers against torch.optim: parameter trajectories, state dicts, validation, hooks."""
import copy
import pickle
import re
import warnings

import numpy as np
import pytest
import torch

import nerve
import nerve.optim as noptim
from nerve.nn import Parameter

STEPS = 40
TOL = {np.float32: dict(rtol=1e-4, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


# ---------------------------------------------------------------------------- a tiny model, twice
def make_problem(dtype, seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal((3, 4)) * 0.5, rng.standard_normal((4, 2)) * 0.5, rng.standard_normal(2) * 0.1,
            rng.standard_normal(5)]  # the last one never gets a gradient: optimizers must skip it
    xs = rng.standard_normal((steps, 8, 3))
    ys = rng.standard_normal((steps, 8, 2))
    return [a.astype(dtype) for a in init], xs.astype(dtype), ys.astype(dtype)


def nerve_params(init):
    return [Parameter(nerve.tensor(a.copy())) for a in init]


def torch_params(init):
    return [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]


def loss_of(ps, x, y):
    w1, w2, b = ps[0], ps[1], ps[2]
    return (((x @ w1).tanh() @ w2 + b - y) ** 2).mean()


def nerve_step(opt, ps, x, y, set_to_none=True):
    opt.zero_grad(set_to_none=set_to_none)
    loss = loss_of(ps, nerve.tensor(x), nerve.tensor(y))
    loss.backward()
    opt.step()
    return loss


def torch_step(opt, ps, x, y, set_to_none=True):
    opt.zero_grad(set_to_none=set_to_none)
    loss = loss_of(ps, torch.from_numpy(x), torch.from_numpy(y))
    loss.backward()
    opt.step()
    return loss


def assert_params_close(nps, tps, dtype, step):
    for i, (a, b) in enumerate(zip(nps, tps)):
        a, b = a._data, b.detach().numpy()
        if not np.allclose(a, b, **TOL[dtype]):  # cheap check first; assert_allclose explains failures
            np.testing.assert_allclose(a, b, **TOL[dtype], err_msg=f"param {i} after step {step}")


def groups_of(ps, group_opts):
    if group_opts is None:
        return ps
    return [dict(params=[ps[0], ps[3]], **group_opts[0]), dict(params=[ps[1], ps[2]], **group_opts[1])]


def run_trajectory(name, kwargs, dtype, group_opts=None):
    init, xs, ys = make_problem(dtype)
    nps, tps = nerve_params(init), torch_params(init)
    nopt = getattr(noptim, name)(groups_of(nps, group_opts), **kwargs)
    topt = getattr(torch.optim, name)(groups_of(tps, group_opts), **kwargs)
    for t in range(STEPS):
        nerve_step(nopt, nps, xs[t], ys[t])
        torch_step(topt, tps, xs[t], ys[t])
        assert_params_close(nps, tps, dtype, t)
    return nopt, topt, nps, tps


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("SGD", dict(lr=0.01, momentum=0.5, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.6), eps=1e-6)),  # weight of the lerp >= 0.5
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.05, amsgrad=True, maximize=True, betas=(0.8, 0.9))),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, eps=1e-6)),  # lerp weight >= 0.5 in the centered average
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, centered=True, momentum=0.5, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.05, initial_accumulator_value=0.2, maximize=True)),
]


def _case_id(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_trajectory_matches_torch(case, dtype):
    name, kwargs = case
    nopt, topt, nps, tps = run_trajectory(name, kwargs, dtype)
    # the unused parameter never moved and has no state, as in torch
    np.testing.assert_array_equal(nps[3].detach().numpy(), make_problem(dtype)[0][3])
    assert_state_matches(nopt, topt, dtype)


def assert_state_matches(nopt, topt, dtype):
    nsd, tsd = nopt.state_dict(), topt.state_dict()
    assert sorted(nsd["state"]) == sorted(tsd["state"])
    for k, tstate in tsd["state"].items():
        nstate = nsd["state"][k]
        assert sorted(nstate) == sorted(tstate), k
        for key, tv in tstate.items():
            nv = nstate[key]
            assert isinstance(nv, nerve.Tensor)
            assert nv.shape == tuple(tv.shape), key
            assert str(nv.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1], key
            np.testing.assert_allclose(nv.numpy(), tv.numpy(), rtol=1e-3 if dtype == np.float32 else 1e-9,
                                       atol=1e-6 if dtype == np.float32 else 1e-12, err_msg=key)
    assert len(nsd["param_groups"]) == len(tsd["param_groups"])
    for ng, tg in zip(nsd["param_groups"], tsd["param_groups"]):
        assert ng == tg


@pytest.mark.parametrize("name,group_opts", [
    ("SGD", [dict(lr=0.2, momentum=0.5), dict(nesterov=True, momentum=0.9)]),
    ("Adam", [dict(lr=0.03, amsgrad=True), dict(betas=(0.5, 0.9), weight_decay=0.1)]),
    ("AdamW", [dict(lr=0.03), dict(weight_decay=0.2)]),
    ("RMSprop", [dict(centered=True), dict(momentum=0.9, lr=0.02)]),
    ("Adagrad", [dict(lr_decay=0.1), dict(lr=0.3, initial_accumulator_value=0.5)]),
])
def test_param_groups_match_torch(name, group_opts):
    defaults = dict(lr=0.01) if name != "SGD" else dict(lr=0.05)
    nopt, topt, _, _ = run_trajectory(name, defaults, np.float64, group_opts)
    assert repr(nopt) == repr(topt)
    assert_state_matches(nopt, topt, np.float64)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)),
                                         ("RMSprop", dict(lr=0.01, momentum=0.5)), ("Adagrad", dict(lr=0.1))])
def test_defaults_and_repr_match_torch(name, kwargs):
    init, _, _ = make_problem(np.float32)
    nopt = getattr(noptim, name)(nerve_params(init), **kwargs)
    topt = getattr(torch.optim, name)(torch_params(init), **kwargs)
    assert nopt.defaults == topt.defaults
    assert repr(nopt) == repr(topt)
    for name_ in ("AdamW", "SGD", "Adam", "RMSprop", "Adagrad"):
        assert getattr(noptim, name_)(nerve_params(init)).defaults == \
            getattr(torch.optim, name_)(torch_params(init)).defaults


# ---------------------------------------------------------------------------- state dicts
@pytest.mark.parametrize("case", [c for c in CASES if c[0] != "SGD" or "momentum" in c[1]][::2],
                         ids=lambda c: _case_id(c))
def test_state_dict_resume_is_bit_exact(case):
    name, kwargs = case
    init, xs, ys = make_problem(np.float32, seed=1)
    ps = nerve_params(init)
    opt = getattr(noptim, name)(ps, **kwargs)
    ps2 = nerve_params(init)
    opt2 = getattr(noptim, name)(ps2, **kwargs)
    for t in range(STEPS // 2):
        nerve_step(opt, ps, xs[t], ys[t])
        nerve_step(opt2, ps2, xs[t], ys[t])
    saved = pickle.loads(pickle.dumps(opt2.state_dict()))
    weights = [p.detach().numpy().copy() for p in ps2]
    del opt2, ps2
    ps3 = [Parameter(nerve.tensor(w)) for w in weights]
    opt3 = getattr(noptim, name)(ps3, **kwargs)
    opt3.load_state_dict(saved)
    for t in range(STEPS // 2, STEPS):
        nerve_step(opt, ps, xs[t], ys[t])
        nerve_step(opt3, ps3, xs[t], ys[t])
    for a, b in zip(ps, ps3):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    sd, sd3 = opt.state_dict(), opt3.state_dict()
    assert sd["param_groups"] == sd3["param_groups"]
    for k in sd["state"]:
        for key in sd["state"][k]:
            np.testing.assert_array_equal(sd["state"][k][key].numpy(), sd3["state"][k][key].numpy())


def test_state_dict_structure_like_torch():
    init, xs, ys = make_problem(np.float32)
    nps = nerve_params(init)
    opt = noptim.Adam([{"params": nps[:2]}, {"params": nps[2:], "lr": 0.1}], lr=0.01, amsgrad=True)
    nerve_step(opt, nps, xs[0], ys[0])
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1, 2]  # param 3 has no grad, so no state
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert sd["state"][0]["step"].shape == () and sd["state"][0]["step"].item() == 1.0
    assert sd["state"][0]["step"].dtype == nerve.float32
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.1 and sd["param_groups"][0]["lr"] == 0.01
    # SGD without momentum keeps no state at all
    sgd = noptim.SGD(nps, lr=0.1)
    nerve_step(sgd, nps, xs[0], ys[0])
    assert sgd.state_dict()["state"] == {}


def test_load_state_dict_casts_to_param_dtype_and_keeps_step():
    init, xs, ys = make_problem(np.float32)
    ps = nerve_params(init)
    opt = noptim.Adam(ps, lr=0.01)
    nerve_step(opt, ps, xs[0], ys[0])
    ps64 = [Parameter(nerve.tensor(a.astype(np.float64))) for a in init]
    opt64 = noptim.Adam(ps64, lr=0.01)
    opt64.load_state_dict(opt.state_dict())
    st = opt64.state[ps64[0]]
    assert st["exp_avg"].dtype == nerve.float64
    assert st["step"].dtype == nerve.float32
    nerve_step(opt64, ps64, xs[1].astype(np.float64), ys[1].astype(np.float64))
    assert st["step"].item() == 2.0


def test_load_state_dict_accepts_numpy_arrays():
    init, xs, ys = make_problem(np.float64)
    ps, ps2 = nerve_params(init), nerve_params(init)
    opt, opt2 = noptim.Adam(ps, lr=0.01), noptim.Adam(ps2, lr=0.01)
    for t in range(3):
        nerve_step(opt, ps, xs[t], ys[t])
        nerve_step(opt2, ps2, xs[t], ys[t])
    sd = opt2.state_dict()
    as_numpy = {"state": {k: {n: v.numpy().copy() for n, v in st.items()} for k, st in sd["state"].items()},
                "param_groups": sd["param_groups"]}
    opt3 = noptim.Adam(ps2, lr=0.01)
    opt3.load_state_dict(as_numpy)
    for t in range(3, 6):
        nerve_step(opt, ps, xs[t], ys[t])
        nerve_step(opt3, ps2, xs[t], ys[t])
    for a, b in zip(ps, ps2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_load_state_dict_errors():
    init, _, _ = make_problem(np.float32)
    ps = nerve_params(init)
    opt = noptim.SGD([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.1)
    other = noptim.SGD(nerve_params(init), lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        other.load_state_dict(opt.state_dict())
    other = noptim.SGD([{"params": ps[:1]}, {"params": ps[1:]}], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        other.load_state_dict(opt.state_dict())


def test_load_state_dict_restores_group_options():
    init, _, _ = make_problem(np.float32)
    opt = noptim.SGD(nerve_params(init), lr=0.1, momentum=0.9)
    opt.param_groups[0]["lr"] = 0.0123
    opt2 = noptim.SGD(nerve_params(init), lr=0.5)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.param_groups[0]["lr"] == 0.0123 and opt2.param_groups[0]["momentum"] == 0.9
    assert opt2.param_groups[0]["params"][0] is not opt.param_groups[0]["params"][0]


# ---------------------------------------------------------------------------- zero_grad / closure / misc
def test_zero_grad_set_to_none_false_matches_torch():
    # A zero gradient still moves a momentum optimizer; a None gradient skips the parameter.
    init, xs, ys = make_problem(np.float64)
    for set_to_none in (True, False):
        nps, tps = nerve_params(init), torch_params(init)
        nopt = noptim.SGD(nps, lr=0.1, momentum=0.9)
        topt = torch.optim.SGD(tps, lr=0.1, momentum=0.9)
        for t in range(10):
            if t % 3 == 2:  # no backward this step
                nopt.zero_grad(set_to_none)
                topt.zero_grad(set_to_none)
                nopt.step()
                topt.step()
            else:
                nerve_step(nopt, nps, xs[t], ys[t], set_to_none)
                torch_step(topt, tps, xs[t], ys[t], set_to_none)
            assert_params_close(nps, tps, np.float64, t)
        nopt.zero_grad(set_to_none)
        if set_to_none:
            assert all(p.grad is None for p in nps[:3])
        else:
            assert all(p.grad is not None and not p.grad.numpy().any() for p in nps[:3])


def test_zero_grad_default_sets_none():
    init, xs, ys = make_problem(np.float32)
    ps = nerve_params(init)
    opt = noptim.SGD(ps, lr=0.1)
    nerve_step(opt, ps, xs[0], ys[0])
    assert ps[0].grad is not None
    opt.zero_grad()
    assert ps[0].grad is None


def test_closure_returns_loss_and_runs_with_grad():
    init, xs, ys = make_problem(np.float64)
    nps, tps = nerve_params(init), torch_params(init)
    nopt = noptim.Adam(nps, lr=0.01)
    topt = torch.optim.Adam(tps, lr=0.01)
    for t in range(5):
        def nclosure():
            nopt.zero_grad()
            loss = loss_of(nps, nerve.tensor(xs[t]), nerve.tensor(ys[t]))
            loss.backward()
            return loss

        def tclosure():
            topt.zero_grad()
            loss = loss_of(tps, torch.from_numpy(xs[t]), torch.from_numpy(ys[t]))
            loss.backward()
            return loss
        with nerve.no_grad():  # the closure still records its graph
            nloss = nopt.step(nclosure)
        tloss = topt.step(tclosure)
        np.testing.assert_allclose(nloss.item(), tloss.item(), rtol=1e-12)
        assert_params_close(nps, tps, np.float64, t)
    assert nopt.step() is None


def test_step_bumps_version_counter_and_is_in_place():
    init, xs, ys = make_problem(np.float32)
    ps = nerve_params(init)
    arrays = [p._data for p in ps]
    versions = [p._version for p in ps]
    opt = noptim.AdamW(ps, lr=0.01)
    nerve_step(opt, ps, xs[0], ys[0])
    assert all(p._data is a for p, a in zip(ps, arrays))
    assert [p._version > v for p, v in zip(ps, versions)] == [True, True, True, False]


def test_lr_as_tensor_and_changed_lr():
    init, xs, ys = make_problem(np.float64)
    nps, tps = nerve_params(init), torch_params(init)
    nopt = noptim.SGD(nps, lr=nerve.tensor(0.1), momentum=0.9)
    topt = torch.optim.SGD(tps, lr=torch.tensor(0.1), momentum=0.9)
    for t in range(10):
        if t == 5:
            for g in nopt.param_groups:
                g["lr"] = 0.02
            for g in topt.param_groups:
                g["lr"] = 0.02
        nerve_step(nopt, nps, xs[t], ys[t])
        torch_step(topt, tps, xs[t], ys[t])
        assert_params_close(nps, tps, np.float64, t)


def test_add_param_group_midway_matches_torch():
    init, xs, ys = make_problem(np.float64)
    for name, kw in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)), ("Adagrad", dict(lr=0.1)),
                     ("RMSprop", dict(lr=0.01, centered=True))]:
        nps, tps = nerve_params(init), torch_params(init)
        nopt = getattr(noptim, name)(nps[:1], **kw)
        topt = getattr(torch.optim, name)(tps[:1], **kw)
        for t in range(12):
            if t == 4:
                nopt.add_param_group({"params": nps[1:3], "lr": 0.05})
                topt.add_param_group({"params": tps[1:3], "lr": 0.05})
                if name == "Adagrad":  # torch's Adagrad only creates state in its constructor
                    for p in tps[1:3]:
                        topt.state[p] = {"step": torch.tensor(0.0), "sum": torch.zeros_like(p)}
            nerve_step(nopt, nps, xs[t], ys[t])
            torch_step(topt, tps, xs[t], ys[t])
            assert_params_close(nps, tps, np.float64, t)
        assert nopt.param_groups[1]["lr"] == 0.05
        assert nopt.param_groups[1].keys() == topt.param_groups[1].keys()


def test_named_parameters():
    init, xs, ys = make_problem(np.float32)
    ps = nerve_params(init)
    opt = noptim.SGD([("w1", ps[0]), ("w2", ps[1])], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w1", "w2"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w1", "w2"]


def test_pickle_and_deepcopy_optimizer():
    init, xs, ys = make_problem(np.float32)
    ps = nerve_params(init)
    opt = noptim.Adam(ps, lr=0.01)
    nerve_step(opt, ps, xs[0], ys[0])
    opt2 = copy.deepcopy(opt)
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    opt3 = pickle.loads(pickle.dumps(opt))
    p3 = opt3.param_groups[0]["params"][0]
    np.testing.assert_array_equal(opt3.state[p3]["exp_avg"].numpy(), opt.state[ps[0]]["exp_avg"].numpy())


# ---------------------------------------------------------------------------- validation (messages as torch)
def _both_raise(exc, pattern, nerve_fn, torch_fn):
    with pytest.raises(exc, match=pattern):
        nerve_fn()
    with pytest.raises(exc, match=pattern):
        torch_fn()


@pytest.mark.parametrize("name,kwargs,pattern", [
    ("SGD", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("SGD", dict(lr=0.1, momentum=-1), "Invalid momentum value: -1"),
    ("SGD", dict(lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
    ("Adam", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("Adam", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("Adam", dict(betas=(1.0, 0.999)), re.escape("Invalid beta parameter at index 0: 1.0")),
    ("Adam", dict(betas=(0.9, -0.1)), re.escape("Invalid beta parameter at index 1: -0.1")),
    ("AdamW", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("RMSprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    ("RMSprop", dict(momentum=-0.1), "Invalid momentum value: -0.1"),
    ("Adagrad", dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
    ("Adagrad", dict(initial_accumulator_value=-0.1), "Invalid initial_accumulator_value value: -0.1"),
])
def test_hyperparameter_validation(name, kwargs, pattern):
    init, _, _ = make_problem(np.float32)
    _both_raise(ValueError, pattern, lambda: getattr(noptim, name)(nerve_params(init), **kwargs),
                lambda: getattr(torch.optim, name)(torch_params(init), **kwargs))


def test_params_validation():
    init, _, _ = make_problem(np.float32)
    nps, tps = nerve_params(init), torch_params(init)
    _both_raise(ValueError, "optimizer got an empty parameter list",
                lambda: noptim.SGD([], lr=0.1), lambda: torch.optim.SGD([], lr=0.1))
    _both_raise(ValueError, "some parameters appear in more than one parameter group",
                lambda: noptim.SGD([{"params": nps[:2]}, {"params": nps[1:]}], lr=0.1),
                lambda: torch.optim.SGD([{"params": tps[:2]}, {"params": tps[1:]}], lr=0.1))
    _both_raise(TypeError, "should be an iterable of Tensors or dicts",
                lambda: noptim.SGD(nps[0], lr=0.1), lambda: torch.optim.SGD(tps[0], lr=0.1))
    _both_raise(TypeError, "optimizer can only optimize Tensors",
                lambda: noptim.SGD([nps[0], 1.0], lr=0.1), lambda: torch.optim.SGD([tps[0], 1.0], lr=0.1))
    _both_raise(TypeError, "ordered collections",
                lambda: noptim.SGD([{"params": set(nps)}]), lambda: torch.optim.SGD([{"params": set(tps)}]))
    _both_raise(ValueError, "can't optimize a non-leaf Tensor",
                lambda: noptim.SGD([nps[0] * 2], lr=0.1), lambda: torch.optim.SGD([tps[0] * 2], lr=0.1))
    _both_raise(TypeError, "param_group must be a dict",
                lambda: noptim.SGD(nps, lr=0.1).add_param_group(nps[0]),
                lambda: torch.optim.SGD(tps, lr=0.1).add_param_group(tps[0]))
    _both_raise(ValueError, "with/without names",
                lambda: noptim.SGD([("a", nps[0]), nps[1]]), lambda: torch.optim.SGD([("a", tps[0]), tps[1]]))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        noptim.SGD([nps[0], nps[0]], lr=0.1)
    with pytest.raises(NotImplementedError, match="differentiable"):
        noptim.Adam(nps, differentiable=True)


# ---------------------------------------------------------------------------- subclassing and hooks
class MySGD(noptim.Optimizer):
    def __init__(self, params, lr=noptim.optimizer.required, momentum=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @nerve.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with nerve.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad
                if group["momentum"]:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = d_p.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(d_p)
                    d_p = state["momentum_buffer"]
                p.add_(d_p, alpha=-group["lr"])
        return loss


class MySGDChild(MySGD):
    def step(self, closure=None):
        return super().step(closure)


def test_user_subclass_matches_torch_sgd():
    init, xs, ys = make_problem(np.float64)
    nps, tps = nerve_params(init), torch_params(init)
    nopt = MySGDChild(nps, lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tps, lr=0.1, momentum=0.9)
    assert isinstance(nopt.state, __import__("collections").defaultdict)
    calls = []
    h = nopt.register_step_pre_hook(lambda opt, a, k: calls.append("pre"))
    nopt.register_step_post_hook(lambda opt, a, k: calls.append("post"))
    for t in range(10):
        nerve_step(nopt, nps, xs[t], ys[t])
        torch_step(topt, tps, xs[t], ys[t])
        assert_params_close(nps, tps, np.float64, t)
    assert calls == ["pre", "post"] * 10  # once per step, though step() is wrapped twice
    h.remove()
    nopt.step()
    assert calls[-1] == "post" and len(calls) == 21
    sd = nopt.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2] and "momentum_buffer" in sd["state"][0]
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        MySGD(nerve_params(init))
    assert repr(noptim.optimizer.required) == "<required parameter>"


def test_pre_hook_can_replace_args_and_global_hooks():
    init, xs, ys = make_problem(np.float32)
    ps = nerve_params(init)
    opt = noptim.SGD(ps, lr=0.1)
    seen = []
    h1 = noptim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: seen.append(type(o).__name__))
    h2 = opt.register_step_pre_hook(lambda o, a, k: ((), {"closure": lambda: 42}))
    try:
        assert opt.step() == 42
    finally:
        h1.remove()
        h2.remove()
    assert seen == ["SGD"]
    opt.step()
    assert seen == ["SGD"]
    bad = opt.register_step_pre_hook(lambda o, a, k: 3)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()
    bad.remove()


def test_state_dict_hooks():
    init, _, _ = make_problem(np.float32)
    opt = noptim.SGD(nerve_params(init), lr=0.1)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    loaded = []
    opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items() if k != "extra"})
    opt.register_load_state_dict_post_hook(lambda o: loaded.append(True))
    opt.load_state_dict(opt.state_dict())
    assert loaded == [True]


def test_step_reuses_scratch_buffers():
    # The hot path allocates no per-parameter temporaries: its scratch buffers are made once.
    rng = np.random.default_rng(0)
    ps = [Parameter(nerve.tensor(rng.standard_normal((256, 256)).astype(np.float32))) for _ in range(4)]
    for p in ps:
        p.grad = nerve.tensor(rng.standard_normal((256, 256)).astype(np.float32))
    opt = noptim.Adam(ps, lr=1e-3, weight_decay=0.01, amsgrad=True)
    opt.step()
    bufs = dict(opt._scratch_bufs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            opt.step()
    assert opt._scratch_bufs.keys() == bufs.keys()
    assert all(opt._scratch_bufs[k] is bufs[k] for k in bufs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_wrong_grad_shape_is_explained(name):
    p = Parameter(nerve.zeros(3, 2))
    p.grad = nerve.ones(2)  # would broadcast silently
    opt = getattr(noptim, name)([p])
    with pytest.raises(RuntimeError, match=re.escape(f"{name}.step: a parameter of shape (3, 2) has a .grad of "
                                                     "shape (2,)")):
        opt.step()
    assert not opt.state.get(p) or opt.state[p]["step"].item() == 0


ADAM_CASES = [c for c in CASES if c[0] in ("Adam", "AdamW")]


@pytest.mark.skipif(nerve.optim.adam._ak is None, reason="numba not installed")
@pytest.mark.parametrize("case", ADAM_CASES, ids=[_case_id(c) for c in ADAM_CASES])
def test_adam_kernel_matches_numpy_passes_bitwise(case, monkeypatch):
    """Large float32 parameters take the compiled single-pass update: the same numbers as the NumPy passes
    (nan and inf gradients included), and close to PyTorch."""
    name, kwargs = case
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((64, 100)).astype(np.float32)
    grads = [rng.standard_normal((64, 100)).astype(np.float32) for _ in range(5)]
    grads[3][0, :3] = [np.nan, np.inf, -np.inf]
    results = []
    for kernel in (True, False):
        if not kernel:
            monkeypatch.setattr(nerve.optim.adam, "_ak", None)
        p = nerve.nn.Parameter(nerve.tensor(w0.copy()))
        opt = getattr(noptim, name)([p], **kwargs)
        for g in grads:
            p.grad = nerve.tensor(g)
            opt.step()
        results.append((p.detach().numpy().copy(), {k: v.numpy().copy() for k, v in opt.state[p].items()}))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for k in results[0][1]:
        np.testing.assert_array_equal(results[0][1][k], results[1][1][k], err_msg=k)
    tp = torch.nn.Parameter(torch.tensor(w0.copy()))
    topt = getattr(torch.optim, name)([tp], **kwargs)
    for g in grads[:3]:
        tp.grad = torch.tensor(g)
        topt.step()
    p = nerve.nn.Parameter(nerve.tensor(w0.copy()))
    opt = getattr(noptim, name)([p], **kwargs)
    for g in grads[:3]:
        p.grad = nerve.tensor(g)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-6, atol=1e-7)
