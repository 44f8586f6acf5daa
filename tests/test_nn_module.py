"""nerve.nn.Module and containers against torch.nn: registration, state_dict, load errors, repr, hooks,
train/eval, dtype conversion, plus nerve.nn.utils (gradient clipping, parameter vectors)."""
from __future__ import annotations

import copy
import math
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import nerve
import nerve.nn as nn


def build(L, T):
    """The same nested model in torch (``L=torch.nn, T=torch``) or nerve."""

    class Net(L.Module):
        def __init__(self):
            super().__init__()
            self.stack = L.Sequential(L.Linear(8, 6), L.ReLU(), L.Dropout(0.1), L.LayerNorm(6), L.Linear(6, 4))
            self.heads = L.ModuleList([L.Linear(4, 3) for _ in range(2)])
            self.register_buffer("step", T.zeros(()))
            self.register_buffer("scratch", T.zeros(2), persistent=False)
            self.scale = L.Parameter(T.ones(3))

        def forward(self, x):
            h = self.stack(x)
            return sum(head(h) for head in self.heads) * self.scale

    return Net()


def pair(seed=0):
    torch.manual_seed(seed)
    t, n = build(torch.nn, torch), build(nn, nerve)
    n.load_state_dict(t.state_dict())
    return t, n


def npy(t):
    return t.detach().numpy()


# ---------------------------------------------------------------------------- registration & iteration
def test_state_dict_keys_and_order_match_torch():
    t, n = pair()
    assert list(n.state_dict()) == list(t.state_dict())
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [k for k, _ in n.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert [k for k, _ in n.named_modules()] == [k for k, _ in t.named_modules()]
    assert [k for k, _ in n.named_children()] == [k for k, _ in t.named_children()]
    assert "scratch" not in n.state_dict()
    for k, v in n.state_dict().items():
        assert isinstance(v, nerve.Tensor) and not isinstance(v, nn.Parameter) and not v.requires_grad
        np.testing.assert_array_equal(v.numpy(), t.state_dict()[k].numpy())
    assert isinstance(n.state_dict(keep_vars=True)["scale"], nn.Parameter)
    sd = n.state_dict(prefix="model.")
    assert list(sd)[0] == "model.scale"


def test_state_dict_shares_memory_and_has_metadata():
    _, n = pair()
    sd = n.state_dict()
    sd["stack.0.bias"].numpy()[0] = 123.0
    assert n.stack[0].bias.detach().numpy()[0] == 123.0
    assert sd._metadata[""] == {"version": 1} and "stack.0" in sd._metadata


def test_forward_matches_torch_after_loading_torch_tensors():
    t, n = pair()
    t.eval()
    n.eval()
    x = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    np.testing.assert_allclose(npy(n(nerve.tensor(x))), npy(t(torch.tensor(x))), rtol=1e-5, atol=1e-6)


def test_load_state_dict_accepts_numpy_and_nerve_values():
    t, _ = pair()
    n2 = build(nn, nerve)
    r = n2.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert r.missing_keys == [] and r.unexpected_keys == [] and repr(r) == "<All keys matched successfully>"
    n3 = build(nn, nerve)
    n3.load_state_dict(n2.state_dict())
    for (k, a), (_, b) in zip(n3.state_dict().items(), t.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    # copies, not aliases
    assert not np.shares_memory(n3.stack[0].weight._data, n2.stack[0].weight._data)


def test_load_state_dict_strict_errors_match_torch():
    t, n = pair()
    sd = t.state_dict()
    sd["stack.0.weight"] = torch.zeros(20, 8)
    sd["foo"] = torch.zeros(1)
    sd["heads.5.weight"] = torch.zeros(1)
    del sd["step"]
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict(sd)
    with pytest.raises(RuntimeError) as ne:
        n.load_state_dict(sd)
    msg = str(ne.value)
    assert msg == str(te.value).replace("torch.Size([20, 8])", "(20, 8)").replace("torch.Size([6, 8])", "(6, 8)")
    assert msg.startswith("Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: \"step\". ")
    assert 'Unexpected key(s) in state_dict: "foo", "heads.5.weight". ' in msg
    assert ("size mismatch for stack.0.weight: copying a param with shape (20, 8) from checkpoint, the shape in "
            "current model is (6, 8).") in msg


def test_load_state_dict_non_strict():
    t, n = pair()
    sd = t.state_dict()
    del sd["step"]
    sd["extra"] = torch.ones(1)
    r = n.load_state_dict(sd, strict=False)
    assert r == t.load_state_dict(sd, strict=False)
    assert r.missing_keys == ["step"] and r.unexpected_keys == ["extra"]
    sd["stack.0.bias"] = torch.zeros(7)
    with pytest.raises(RuntimeError, match=r"size mismatch for stack\.0\.bias"):
        n.load_state_dict(sd, strict=False)
    with pytest.raises(TypeError, match="dict-like"):
        n.load_state_dict([1, 2])


def test_load_state_dict_keeps_parameter_identity_and_assign():
    t, n = pair()
    w = n.stack[0].weight
    n.load_state_dict(t.state_dict())
    assert n.stack[0].weight is w
    n.load_state_dict(t.state_dict(), assign=True)
    assert n.stack[0].weight is not w and isinstance(n.stack[0].weight, nn.Parameter)
    assert n.stack[0].weight.requires_grad
    m = nn.Linear(2, 2)
    m.load_state_dict({"weight": np.eye(2), "bias": np.zeros(2)}, assign=True)
    assert m.weight.dtype == nerve.float64  # assign keeps the checkpoint's tensor


def test_load_0d_from_1_element():
    m = nn.Module()
    m.register_buffer("s", nerve.zeros(()))
    m.load_state_dict({"s": np.array([3.0], dtype=np.float32)})
    assert m.s.item() == 3.0


def test_load_state_dict_hooks():
    m = nn.Linear(2, 2)
    seen = []
    m.register_load_state_dict_post_hook(lambda mod, keys: seen.append((mod, list(keys.missing_keys))))
    m.register_load_state_dict_pre_hook(lambda mod, sd, prefix, *a: sd.setdefault(prefix + "bias", np.ones(2)))
    m.load_state_dict({"weight": np.eye(2)})
    assert seen == [(m, [])] and np.all(m.bias.detach().numpy() == 1)
    def drop_bias(mod, sd, prefix, meta):
        del sd[prefix + "bias"]

    m.register_state_dict_post_hook(drop_bias)
    assert list(m.state_dict()) == ["weight"]


def test_extra_state_roundtrip():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.k = 1

        def get_extra_state(self):
            return {"k": self.k}

        def set_extra_state(self, state):
            self.k = state["k"]

    a, b = WithExtra(), WithExtra()
    a.k = 5
    sd = a.state_dict()
    assert list(sd) == ["_extra_state"]
    b.load_state_dict(sd)
    assert b.k == 5


def test_parameters_buffers_children_and_duplicates():
    shared = nn.Linear(2, 2)
    m = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(m.parameters())) == 2
    assert len(list(m.named_parameters(remove_duplicate=False))) == 4
    assert [k for k, _ in m.named_modules()] == ["", "0", "1"]
    assert [k for k, _ in m.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(m.children())) == 2
    assert list(m.parameters(recurse=False)) == []
    _, n = pair()
    assert [k for k, _ in n.named_parameters(recurse=False)] == ["scale"]
    assert [k for k, _ in n.named_buffers(prefix="p")] == ["p.step", "p.scratch"]


def test_setattr_registration_rules():
    m = nn.Module()
    m.w = nn.Parameter(nerve.ones(2))
    assert "w" in m._parameters
    with pytest.raises(TypeError, match="cannot assign 'nerve.FloatTensor' as parameter 'w'"):
        m.w = nerve.ones(2)
    m.w = None
    assert m.w is None and "w" in m._parameters
    m.sub = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="as child module 'sub'"):
        m.sub = 3
    m.register_buffer("b", nerve.zeros(1))
    m.b = nerve.ones(1)
    assert m._buffers["b"].item() == 1
    with pytest.raises(TypeError, match="as buffer 'b'"):
        m.b = 3
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("sub", nerve.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("nl", _nonleaf_param())
    m.plain = 5
    assert m.plain == 5 and "plain" in m.__dict__
    del m.w, m.sub, m.b, m.plain
    assert not m._parameters and not m._modules and not m._buffers
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'zzz'"):
        m.zzz

    class NoInit(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="cannot assign module before Module.__init__"):
        NoInit()


def test_buffer_class_registers_buffers():
    m = nn.Module()
    m.a = nn.Buffer(nerve.ones(2))
    m.b = nn.Buffer(nerve.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["a"] and [k for k, _ in m.named_buffers()] == ["a", "b"]
    m.a = nerve.zeros(3)  # plain tensors replace a registered buffer
    assert m._buffers["a"].shape == (3,)
    t = torch.nn.Module()
    t.a = torch.nn.Buffer(torch.ones(2))
    t.b = torch.nn.Buffer(torch.zeros(1), persistent=False)
    assert list(t.state_dict()) == ["a"]


def _nonleaf_param():
    p = nn.Parameter(nerve.ones(1))
    q = nn.Parameter(nerve.ones(1))
    q.grad_fn = (p * 2).grad_fn
    return q


def test_dir_and_get_submodule():
    _, n = pair()
    d = dir(n)
    assert "stack" in d and "heads" in d and "step" in d and "scale" in d and "forward" in d
    assert "0" not in dir(n.stack)
    assert n.get_submodule("stack.0") is n.stack[0]
    assert n.get_submodule("") is n
    assert n.get_parameter("heads.1.bias") is n.heads[1].bias
    assert n.get_buffer("step") is n.step
    with pytest.raises(AttributeError, match="Sequential has no attribute `9`"):
        n.get_submodule("stack.9")
    with pytest.raises(AttributeError, match="`step` is not an nn.Module"):
        n.get_submodule("step")
    with pytest.raises(AttributeError, match="`stack` is not an nn.Parameter"):
        n.get_parameter("stack")
    new = nn.Linear(4, 3)
    n.set_submodule("heads.0", new)
    assert n.heads[0] is new


# ---------------------------------------------------------------------------- repr
def test_repr_matches_torch():
    t, n = pair()
    assert repr(n) == repr(t)
    mods = [
        lambda L, T: L.ModuleList([L.Linear(2, 2), L.Linear(2, 2), L.ReLU(), L.Linear(2, 2)]),
        lambda L, T: L.ModuleList(),
        lambda L, T: L.ModuleDict({"a": L.Linear(1, 2), "b": L.Sequential(L.Tanh(), L.Softmax(dim=-1))}),
        lambda L, T: L.ParameterList([L.Parameter(T.ones(2, 3)), T.zeros(4, dtype=T.float64)]),
        lambda L, T: L.ParameterDict({"b": L.Parameter(T.ones(2)), "a": T.zeros(3, 1)}),
        lambda L, T: L.Sequential(OrderedDict([("fc", L.Linear(3, 1)), ("act", L.GELU(approximate="tanh"))])),
        lambda L, T: L.Sequential(),
        lambda L, T: L.Sequential(L.Flatten(), L.Unflatten(1, (2, 2)), L.Embedding(5, 2, padding_idx=0),
                                  L.BatchNorm2d(3), L.GroupNorm(2, 4), L.RMSNorm([2, 3]),
                                  L.CrossEntropyLoss(label_smoothing=0.1), L.Softplus(), L.Hardtanh(),
                                  L.PReLU(4), L.Threshold(0.5, 1.0), L.ELU(inplace=True), L.Identity()),
    ]
    for make in mods:
        assert repr(make(nn, nerve)) == repr(make(torch.nn, torch)).replace("torch.", "nerve.")


# ---------------------------------------------------------------------------- containers
def test_sequential_api():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(a, b)
    assert len(s) == 2 and s[0] is a and s[-1] is b
    assert list(s) == [a, b]
    s.append(c)
    assert s[2] is c
    sl = s[1:]
    assert isinstance(sl, nn.Sequential) and list(sl) == [b, c] and list(sl._modules) == ["1", "2"]
    d = nn.Tanh()
    s.insert(0, d)
    assert list(s) == [d, a, b, c]
    s.extend([nn.Sigmoid()])
    assert len(s) == 5
    del s[0]
    assert list(s._modules) == ["0", "1", "2", "3"] and s[0] is a
    s[1] = nn.GELU()
    assert isinstance(s[1], nn.GELU)
    with pytest.raises(IndexError, match="index 10 is out of range"):
        s[10]
    od = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert od.fc is a and list(od.state_dict()) == ["fc.weight", "fc.bias"]
    x = nerve.randn(4, 2)
    np.testing.assert_allclose(npy(nn.Sequential(a, b)(x)), npy(b(a(x))))
    assert len(nn.Sequential(a) + nn.Sequential(b)) == 2
    assert len(nn.Sequential(a, b) * 2) == 4
    assert s.pop(0) is a


def test_modulelist_and_moduledict_api():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and isinstance(ml[1:], nn.ModuleList)
    ml.append(nn.ReLU())
    ml.insert(0, nn.Tanh())
    assert isinstance(ml[0], nn.Tanh) and isinstance(ml[-1], nn.ReLU) and len(ml) == 5
    ml.extend([nn.Sigmoid()])
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(5)]
    with pytest.raises(NotImplementedError, match="missing the required \"forward\" function"):
        ml(nerve.ones(1))
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
    assert list(md.keys()) == ["b", "a"] and "a" in md and len(md) == 2
    md["c"] = nn.Linear(1, 1)
    assert list(md.state_dict()) == ["c.weight", "c.bias"]
    assert isinstance(md.pop("b"), nn.ReLU) and list(md) == ["a", "c"]
    md.update([("d", nn.Identity())])
    assert list(md.values())[-1].__class__ is nn.Identity


def test_parameterlist_and_parameterdict():
    pl = nn.ParameterList([nerve.ones(2), nn.Parameter(nerve.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    pl.append(nerve.ones(1))
    assert [k for k, _ in pl.named_parameters()] == ["0", "1", "2"]
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        pl(1)
    pd = nn.ParameterDict({"b": nerve.ones(2), "a": nerve.ones(1)})
    assert list(pd.keys()) == ["a", "b"]  # a plain dict is inserted in sorted order, as PyTorch
    pd["c"] = nerve.zeros(1)
    assert isinstance(pd["c"], nn.Parameter) and "c" in pd
    assert [k for k, _ in pd.named_parameters()] == ["a", "b", "c"]
    assert pd.get("zz", 3) == 3 and pd.pop("a").shape == (1,)


# ---------------------------------------------------------------------------- modes, conversion, grads
def test_train_eval_recursive():
    _, n = pair()
    assert all(m.training for m in n.modules())
    assert n.eval() is n
    assert not any(m.training for m in n.modules())
    n.train()
    assert all(m.training for m in n.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        n.train("yes")


def test_to_float64_keeps_parameter_identity():
    _, n = pair()
    params = list(n.parameters())
    opt = nerve.optim.SGD(n.parameters(), lr=0.1)
    n(nerve.randn(3, 8)).sum().backward()
    n.register_buffer("count", nerve.zeros((), dtype=nerve.int64))
    assert n.to(nerve.float64) is n
    assert all(a is b for a, b in zip(n.parameters(), params)) and len(list(n.parameters())) == len(params)
    assert all(p.dtype == nerve.float64 and p.grad.dtype == nerve.float64 for p in n.parameters())
    assert n.step.dtype == nerve.float64 and n.count.dtype == nerve.int64
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in n.parameters())
    before = n.stack[0].weight.detach().numpy().copy()
    opt.step()
    assert not np.array_equal(before, n.stack[0].weight.detach().numpy())  # the optimizer still holds them
    out = n(nerve.randn(3, 8, dtype=nerve.float64))
    assert out.dtype == nerve.float64
    n.float()
    assert n.stack[0].weight.dtype == nerve.float32
    n.to(dtype=nerve.float64, device="cpu")
    assert n.stack[0].weight.dtype == nerve.float64
    n.to(nerve.zeros(1))
    assert n.stack[0].weight.dtype == nerve.float32
    n.half().float()
    n.cpu()
    with pytest.raises(TypeError, match="only accepts floating point"):
        n.to(nerve.int64)


def test_zero_grad_requires_grad_apply():
    _, n = pair()
    n(nerve.randn(2, 8)).sum().backward()
    assert all(p.grad is not None for p in n.parameters())
    n.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in n.parameters())
    n.zero_grad()
    assert all(p.grad is None for p in n.parameters())
    n.requires_grad_(False)
    assert not any(p.requires_grad for p in n.parameters())
    seen = []
    n.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"

    @nerve.no_grad()
    def init(m):
        if isinstance(m, nn.Linear):
            m.weight.fill_(1.0)

    n.requires_grad_(True).apply(init)
    assert np.all(n.heads[1].weight.detach().numpy() == 1)


def test_deepcopy_and_pickle():
    _, n = pair()
    m = copy.deepcopy(n)
    assert m.stack[0].weight is not n.stack[0].weight
    np.testing.assert_array_equal(npy(m.stack[0].weight), npy(n.stack[0].weight))
    assert isinstance(m.stack[0].weight, nn.Parameter)
    p = pickle.loads(pickle.dumps(n.stack))
    assert list(p.state_dict()) == list(n.stack.state_dict())


def test_shape_error_names_module_path():
    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.stack = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))

        def forward(self, x):
            return self.stack(self.flatten(x))

    model = NeuralNetwork()
    with pytest.raises(RuntimeError) as e:
        model(nerve.randn(64, 512))
    assert str(e.value) == "Linear(in_features=784) in model.stack.0 got input of shape (64, 512): last dim must be 784"
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=512\) in model\.stack\.2 got input of shape \(2, 3\)"):
        model.stack[2].register_forward_pre_hook(lambda m, a: (nerve.randn(2, 3),))
        model(nerve.randn(2, 784))
    with pytest.raises(RuntimeError, match=r"^Linear\(in_features=784\) got input"):
        model.stack[0](nerve.randn(1, 3))
    # the call stack is unwound after errors
    from nerve.nn.modules.module import _call_stack
    assert _call_stack() == []


# ---------------------------------------------------------------------------- hooks
def test_forward_pre_hook_and_forward_hook():
    m = nn.Linear(3, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    x = nerve.randn(4, 3)
    out = m(x)
    np.testing.assert_allclose(npy(out), np.broadcast_to(npy(m.bias) + 1, (4, 2)), rtol=1e-6)
    assert calls == [(4, 2)]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(npy(m(x)), npy(nn.functional.linear(x, m.weight, m.bias)))

    def kw_pre(mod, args, kwargs):
        return args, {"scale": 10.0}

    class K(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    k = K()
    k.register_forward_pre_hook(kw_pre, with_kwargs=True)
    seen = []
    k.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs), with_kwargs=True)
    assert k(nerve.ones(1)).item() == 10.0 and seen == [{"scale": 10.0}]
    order = []
    k.register_forward_hook(lambda *a: order.append("b"))
    k.register_forward_hook(lambda *a: order.append("a"), prepend=True)
    k(nerve.ones(1))
    assert order == ["a", "b"]
    with k.register_forward_pre_hook(lambda mod, args: nerve.zeros(1)):
        assert k(nerve.ones(1)).item() == 0.0
    assert k(nerve.ones(1)).item() == 10.0


def test_forward_hook_always_call_and_global_hooks():
    from nerve.nn.modules.module import register_module_forward_hook

    class Bad(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    b = Bad()
    ran = []
    b.register_forward_hook(lambda *a: ran.append(1), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        b(1)
    assert ran == [1]
    seen = []
    h = register_module_forward_hook(lambda mod, args, out: seen.append(type(mod).__name__))
    try:
        nn.Sequential(nn.ReLU())(nerve.ones(1))
    finally:
        h.remove()
    assert seen == ["ReLU", "Sequential"]


def _hook_model(L):
    class M(L.Module):
        def __init__(self):
            super().__init__()
            self.fc = L.Linear(3, 2)

        def forward(self, a, b, k=None):
            return self.fc(a) * 2 + self.fc(b), a.sum() * 3

    return M()


def test_full_backward_hooks_match_torch():
    logs = []
    grads = []
    for L, T in ((torch.nn, torch), (nn, nerve)):
        torch.manual_seed(0)
        m = _hook_model(L)
        if L is nn:
            m.load_state_dict(tm.state_dict())
        tm = m
        log = []

        def hook(mod, gi, go, log=log):
            log.append(("full", [None if g is None else npy(g).round(5).tolist() for g in gi],
                        [None if g is None else npy(g).round(5).tolist() for g in go]))
            return (gi[0] * 10, gi[1], gi[2])

        def prehook(mod, go, log=log):
            log.append(("pre", len(go)))
            return (go[0] * 2, go[1])

        m.register_full_backward_hook(hook)
        m.register_full_backward_pre_hook(prehook)
        rng = np.random.default_rng(1)
        a = T.tensor(rng.standard_normal((2, 3)).astype(np.float32)).requires_grad_(True)
        b = T.tensor(rng.standard_normal((2, 3)).astype(np.float32)).requires_grad_(True)
        o1, o2 = m(a, b, 7)
        (o1.sum() + o2).backward()
        logs.append(log)
        grads.append((npy(a.grad), npy(b.grad), npy(m.fc.weight.grad)))
    assert logs[0] == logs[1]
    for x, y in zip(*grads):
        np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-6)


def test_full_backward_hook_without_input_grads():
    m = nn.Linear(2, 2)
    log = []
    m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, tuple(g.shape for g in go))))
    m(nerve.ones(3, 2)).sum().backward()
    assert log == [((None,), ((3, 2),))]


# ---------------------------------------------------------------------------- nn.utils
def _grads_pair(seed):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (2, 2, 2)]
    arrays = [rng.standard_normal(s).astype(np.float32) * 3 for s in shapes]
    gs = [rng.standard_normal(s).astype(np.float32) * 2 for s in shapes]
    tp = [torch.tensor(a, requires_grad=True) for a in arrays]
    np_ = [nn.Parameter(nerve.tensor(a)) for a in arrays]
    for t, n, g in zip(tp, np_, gs):
        t.grad = torch.tensor(g)
        n.grad = nerve.tensor(g)
    return tp, np_


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    tp, np_ = _grads_pair(0)
    tt = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type)
    nt = nn.utils.clip_grad_norm_(np_, max_norm, norm_type=norm_type)
    assert isinstance(nt, nerve.Tensor) and nt.shape == () and nt.dtype == nerve.float32
    np.testing.assert_allclose(nt.item(), tt.item(), rtol=1e-5)
    for t, n in zip(tp, np_):
        np.testing.assert_allclose(n.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_clip_grad_norm_edge_cases():
    p = nn.Parameter(nerve.ones(3))
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0  # no grads
    p.grad = nerve.tensor([3.0, 4.0, 0.0])
    total = nn.utils.clip_grad_norm_(p, 1.0)  # a single tensor
    assert abs(total.item() - 5.0) < 1e-6
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8, 0.0], rtol=1e-5)
    p.grad = nerve.tensor([float("nan"), 1.0, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert abs(nn.utils.get_total_norm([nerve.tensor([3.0, 4.0])]).item() - 5.0) < 1e-6


def test_clip_grad_value_matches_torch():
    tp, np_ = _grads_pair(1)
    torch.nn.utils.clip_grad_value_(tp, 1.5)
    nn.utils.clip_grad_value_(np_, 1.5)
    for t, n in zip(tp, np_):
        np.testing.assert_array_equal(n.grad.numpy(), t.grad.numpy())


def test_parameters_to_vector_roundtrip():
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    tm = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    m.load_state_dict(tm.state_dict())
    v = nn.utils.parameters_to_vector(m.parameters())
    np.testing.assert_array_equal(v.detach().numpy(), torch.nn.utils.parameters_to_vector(tm.parameters()).detach())
    assert v.requires_grad and v.shape == (11,)
    params = list(m.parameters())
    nn.utils.vector_to_parameters(nerve.arange(11, dtype=nerve.float32), m.parameters())
    assert all(a is b for a, b in zip(params, m.parameters()))
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(m[1].bias.detach().numpy(), [10])
    with pytest.raises(TypeError, match="expected nerve.Tensor"):
        nn.utils.vector_to_parameters(np.zeros(11), m.parameters())


def test_nn_exports():
    import torch.nn as tnn
    names = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Parameter",
             "Linear", "Identity", "Flatten", "Unflatten", "Dropout", "ReLU", "GELU", "Softmax", "LogSoftmax",
             "CrossEntropyLoss", "MSELoss", "BCEWithLogitsLoss", "Embedding", "LayerNorm", "BatchNorm2d"]
    for name in names:
        assert hasattr(nn, name) and hasattr(tnn, name), name
    assert nn.init.kaiming_uniform_ and nn.functional.relu and nn.utils.clip_grad_norm_
