"""Errors a user can act on: they name the op, the shapes/dtypes/devices involved and what would fit,
and use PyTorch's exception types."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import nerve


def raises_like_torch(fn, match=None):
    """``fn(lib)`` raises the same exception type for nerve and torch; returns nerve's message."""
    with pytest.raises(Exception) as t_info:
        fn(torch)
    with pytest.raises(type(t_info.value)) as n_info:
        fn(nerve)
    msg = str(n_info.value)
    if match is not None:
        assert match in msg, msg
    return msg


# ============================================================================ shapes
def test_matmul_shape_mismatch_message():
    msg = raises_like_torch(lambda T: T.ones(64, 784) @ T.ones(512, 10))
    assert msg == "matmul: cannot multiply (64x784) by (512x10): 784 != 512"
    msg = raises_like_torch(lambda T: T.ones(64, 784).matmul(T.ones(512)))
    assert "(64x784)" in msg and "(512)" in msg and "784 != 512" in msg
    msg = raises_like_torch(lambda T: T.mm(T.ones(2, 3), T.ones(4, 5)))
    assert "(2x3)" in msg and "(4x5)" in msg and "3 != 4" in msg


def test_matmul_batch_mismatch_names_shapes():
    msg = raises_like_torch(lambda T: T.ones(2, 3, 4) @ T.ones(5, 4, 3))
    assert "matmul" in msg and "2x3x4" in msg and "5x4x3" in msg


@pytest.mark.parametrize("op,name", [(lambda a, b: a + b, "add"), (lambda a, b: a * b, "mul"),
                                     (lambda a, b: a - b, "sub"), (lambda a, b: a / b, "div")])
def test_broadcast_errors_name_op_and_shapes(op, name):
    msg = raises_like_torch(lambda T: op(T.ones(2, 3), T.ones(4)))
    assert name in msg and "(2, 3)" in msg and "(4,)" in msg
    msg = raises_like_torch(lambda T: op(T.ones(2, 3), T.ones(3, 2)))
    assert "(2, 3)" in msg and "(3, 2)" in msg


def test_inplace_broadcast_error():
    msg = raises_like_torch(lambda T: T.ones(2, 3).add_(T.ones(4, 2, 3)))
    assert "add_" in msg and "(2, 3)" in msg and "(4, 2, 3)" in msg


def test_view_and_dim_errors():
    msg = raises_like_torch(lambda T: T.ones(2, 3).view(4))
    assert "view" in msg and "[4]" in msg and "6" in msg
    msg = raises_like_torch(lambda T: T.ones(2, 3).sum(dim=2))
    assert "[-2, 1]" in msg and "2" in msg
    raises_like_torch(lambda T: T.ones(2, 3).transpose(0, 3))


# ============================================================================ dtypes
def test_matmul_dtype_mismatch_names_dtypes():
    msg = raises_like_torch(lambda T: T.ones(2, 3, dtype=T.int64) @ T.ones(3, 2))
    assert "int64" in msg and "float32" in msg


def test_requires_grad_on_integer_tensor_names_dtype():
    for fn in (lambda T: T.ones(3, dtype=T.int64).requires_grad_(),
               lambda T: T.tensor([1, 2], requires_grad=True),
               lambda T: T.zeros(2, dtype=T.int32, requires_grad=True)):
        msg = raises_like_torch(fn)
        assert "floating point" in msg and "int" in msg, msg


def test_inplace_dtype_cast_error_names_dtypes():
    msg = raises_like_torch(lambda T: T.ones(2, dtype=T.int64).add_(1.5))
    assert "float32" in msg and "int64" in msg


# ============================================================================ devices
def test_device_parsing_errors():
    msg = raises_like_torch(lambda T: T.device("tpu"))
    assert "tpu" in msg and "cpu" in msg and "cuda" in msg
    with pytest.raises(TypeError, match="device"):
        nerve.device(3.5)


def test_cuda_without_cupy_says_install_cupy():
    if nerve.cuda.is_available():
        pytest.skip("a GPU is available here")
    assert nerve.cuda.device_count() == 0
    for fn in (lambda: nerve.ones(2).to("cuda"), lambda: nerve.ones(2, device="cuda"),
               lambda: nerve.ones(2).cuda(), lambda: nerve.tensor([1.0], device=nerve.device("cuda", 0)),
               lambda: nerve.cuda.synchronize()):
        with pytest.raises(RuntimeError, match="CuPy"):
            fn()


# ============================================================================ autograd
def test_backward_without_grad_says_so():
    msg = raises_like_torch(lambda T: T.ones(2).sum().backward())
    assert "does not require grad" in msg and "requires_grad_" in msg
    with nerve.no_grad():
        y = (nerve.ones(2, requires_grad=True) * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_implicit_gradient_for_non_scalar_says_so():
    msg = raises_like_torch(lambda T: (T.ones(2, 3, requires_grad=True) * 2).backward())
    assert "only for scalar outputs" in msg and "(2, 3)" in msg and "sum()" in msg


def test_gradient_shape_mismatch():
    msg = raises_like_torch(lambda T: (T.ones(2, 3, requires_grad=True) * 2).backward(T.ones(3, 2)))
    assert "(3, 2)" in msg and "(2, 3)" in msg


def test_second_backward_error():
    def f(T):
        x = T.ones(2, requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward()
        y.backward()
    msg = raises_like_torch(f)
    assert "Trying to backward through the graph a second time" in msg and "retain_graph=True" in msg


def test_inplace_on_leaf_error():
    msg = raises_like_torch(lambda T: T.ones(2, requires_grad=True).mul_(2))
    assert "leaf Variable that requires grad" in msg and "no_grad" in msg


def test_modified_by_inplace_error_names_versions():
    def f(T):
        x = T.ones(2, requires_grad=True)
        y = x.sigmoid()
        y.mul_(2)
        y.sum().backward()
    msg = raises_like_torch(f)
    assert "modified by an inplace operation" in msg and "version 1" in msg and "version 0" in msg


def test_grad_unused_input_error():
    def f(T):
        a = T.ones(2, requires_grad=True)
        b = T.ones(2, requires_grad=True)
        T.autograd.grad((a * 2).sum(), [a, b])
    msg = raises_like_torch(f)
    assert "allow_unused=True" in msg


def test_grad_input_without_requires_grad():
    def f(T):
        a = T.ones(2, requires_grad=True)
        T.autograd.grad((a * 2).sum(), [T.ones(2)])
    msg = raises_like_torch(f)
    assert "does not require grad" in msg


def test_numpy_on_requires_grad():
    msg = raises_like_torch(lambda T: T.ones(2, requires_grad=True).numpy())
    assert "detach().numpy()" in msg


def test_item_on_many_elements():
    msg = raises_like_torch(lambda T: T.ones(3).item())
    assert "3 elements" in msg


def test_bool_of_many_elements():
    msg = raises_like_torch(lambda T: bool(T.ones(3)))
    assert "ambiguous" in msg


def test_custom_function_bad_gradient_shape():
    class Bad(nerve.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return nerve.ones(5)

    class TBad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return torch.ones(5)

    with pytest.raises(RuntimeError, match=r"returned an invalid gradient at index 0 - got \[5\] but expected "
                                           r"shape compatible with \[2\]"):
        TBad.apply(torch.ones(2, requires_grad=True)).sum().backward()
    with pytest.raises(RuntimeError, match=r"returned an invalid gradient at index 0 - got \[5\] but expected "
                                           r"shape compatible with \[2\]"):
        Bad.apply(nerve.ones(2, requires_grad=True)).sum().backward()


def test_set_default_dtype_rejects_integers():
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)
    with pytest.raises(TypeError, match="floating point"):
        nerve.set_default_dtype(nerve.int64)
    assert nerve.get_default_dtype() is nerve.float32


def test_no_numpy_exception_escapes_elementwise():
    # raw NumPy errors (ValueError about broadcasting) must not reach the user
    for fn in (lambda: nerve.ones(2, 3) + nerve.ones(3, 2), lambda: nerve.ones(2, 3) * np.ones(4),
               lambda: nerve.ones(2, 3) @ nerve.ones(2, 3)):
        with pytest.raises(RuntimeError):
            fn()
