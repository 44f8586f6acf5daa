"""Op-table entries: conv1d, conv2d, conv_transpose1d, conv_transpose2d.

Shapes stay tiny (gradgradcheck is quadratic in the number of elements) while covering stride,
padding (int, pair, 'same', 'valid'), dilation, groups (incl. depthwise), bias or none, unbatched
input, size-0 batches, non-contiguous inputs and weights, output_padding, and the error cases.
"""
import warnings

import numpy as np

from . import OpInfo, Sample, make, noncontig, transposed


def _fn(name):
    def call(lib, *args, **kwargs):
        if lib.__name__ == "torch":
            with warnings.catch_warnings():  # torch warns that 'same' with an even kernel pads a copy
                warnings.simplefilter("ignore", UserWarning)
                return getattr(lib.nn.functional, name)(*args, **kwargs)
        f = getattr(getattr(getattr(lib, "nn", None), "functional", None), name, None)
        return (f or getattr(lib, name))(*args, **kwargs)
    return call


def conv2d_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(2, 3, 5, 5), mk(2, 3, 3, 3), mk(2)), name="bias"),
        Sample((mk(1, 2, 5, 4), mk(3, 2, 2, 3), None), {"stride": 2, "padding": 1}, name="stride-pad"),
        Sample((mk(1, 2, 5, 5), mk(2, 2, 2, 2), mk(2)), {"stride": (2, 1), "padding": (0, 1), "dilation": (2, 1)},
               name="tuples-dilation"),
        Sample((mk(1, 4, 4, 4), mk(2, 2, 2, 2), mk(2)), {"groups": 2, "padding": 1}, name="groups"),
        Sample((mk(2, 3, 4, 4), mk(3, 1, 3, 3), None), {"groups": 3, "padding": "same"}, name="depthwise-same"),
        Sample((mk(1, 2, 5, 5), mk(4, 1, 2, 2), mk(4)), {"groups": 2, "padding": "same", "dilation": 2},
               name="depthwise-mult-same-even"),
        Sample((mk(1, 2, 5, 4), mk(3, 2, 2, 3), None), {"padding": "same"}, name="same-even-kernel"),
        Sample((mk(1, 2, 4, 5), mk(2, 2, 3, 2), mk(2)), {"padding": "valid"}, name="valid"),
        Sample((mk(2, 4, 4), mk(3, 2, 2, 2), mk(3)), {"stride": 2, "padding": (1, 0)}, name="unbatched"),
        Sample((noncontig(mk(1, 2, 4, 4)), transposed(mk(2, 2, 3, 3)), mk(2)), {"padding": 1}, name="noncontig"),
        Sample((mk(1, 3, 3, 3), mk(2, 3, 1, 1), mk(2)), name="1x1"),
        Sample((mk(0, 2, 4, 4), mk(2, 2, 3, 3), mk(2)), name="size0-batch"),
        Sample((mk(1, 2, 3, 3), mk(2, 2, 3, 3), None), {"stride": 3, "padding": 2, "dilation": 2}, name="big-pad"),
        # errors
        Sample((mk(4, 4), mk(2, 1, 3, 3), None), raises=RuntimeError, match="expected input with 4 dims",
               name="input-2d"),
        Sample((mk(1, 2, 4, 4), mk(2, 3, 3, 3), None), raises=RuntimeError,
               match=r"expected input\[1, 2, 4, 4\] to have 3 channels, but got 2", name="channels"),
        Sample((mk(1, 2, 2, 2), mk(2, 2, 3, 3), None), raises=RuntimeError, match="Kernel size can't be greater",
               name="kernel-too-big"),
        Sample((mk(1, 4, 4, 4), mk(3, 2, 3, 3), None), {"groups": 2}, raises=RuntimeError,
               match="divisible by 2", name="groups-weight"),
        Sample((mk(1, 2, 4, 4), mk(2, 2, 3, 3), mk(3)), raises=RuntimeError, match="bias", name="bias-size"),
        Sample((mk(1, 2, 4, 4), mk(2, 2, 3, 3), None), {"padding": "same", "stride": 2}, raises=RuntimeError,
               match="strided", name="same-strided"),
        Sample((mk(1, 2, 4, 4), mk(2, 2, 3, 3), None), {"padding": "full"}, raises=RuntimeError,
               match="Invalid padding string", name="bad-padding"),
        Sample((mk(1, 2, 4, 4), mk(2, 2, 3, 3), None), {"stride": 0}, raises=RuntimeError,
               match="non-positive stride", name="stride0"),
        Sample((mk(1, 2, 4, 4), mk(2, 2, 3, 3), None), {"padding": -1}, raises=RuntimeError,
               match="negative padding", name="neg-padding"),
        Sample((mk(1, 2, 4, 4), mk(2, 2, 3, 3).astype(np.float64 if dt == np.float32 else np.float32), None),
               raises=RuntimeError, match="should be the same", name="dtype-mismatch"),
    ]


def conv1d_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(2, 3, 6), mk(2, 3, 3), mk(2)), name="bias"),
        Sample((mk(1, 2, 7), mk(3, 2, 2), None), {"stride": 2, "padding": 1, "dilation": 2}, name="stride-dil"),
        Sample((mk(2, 4, 5), mk(4, 1, 3), mk(4)), {"groups": 4, "padding": "same"}, name="depthwise-same"),
        Sample((mk(1, 4, 6), mk(2, 2, 4), None), {"groups": 2, "padding": "same"}, name="groups-same-even"),
        Sample((mk(3, 6), mk(2, 3, 2), mk(2)), {"padding": "valid", "stride": (3,)}, name="unbatched"),
        Sample((noncontig(mk(2, 2, 5)), transposed(mk(2, 2, 3)), None), {"padding": (1,)}, name="noncontig"),
        Sample((mk(5, 5), mk(2, 5, 3), None), {}, name="unbatched-2d-input"),
        Sample((mk(1, 2, 3, 3), mk(2, 2, 3), None), raises=RuntimeError, match="expected input with 3 dims",
               name="input-4d"),
        Sample((mk(1, 2, 2), mk(2, 2, 3), None), raises=RuntimeError, match="Kernel size can't be greater",
               name="kernel-too-big"),
    ]


def conv_transpose2d_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(2, 2, 3, 3), mk(2, 3, 3, 3), mk(3)), name="bias"),
        Sample((mk(1, 2, 3, 3), mk(2, 2, 3, 3), mk(2)), {"stride": 2, "padding": 1, "output_padding": 1},
               name="stride2-outpad"),
        Sample((mk(1, 4, 2, 3), mk(4, 1, 2, 3), None),
               {"stride": (2, 3), "padding": (0, 1), "output_padding": (1, 2), "groups": 2}, name="groups-tuples"),
        Sample((mk(1, 2, 3, 2), mk(2, 1, 2, 2), mk(2)), {"groups": 2, "dilation": 2, "output_padding": 1},
               name="depthwise-dilation-outpad"),
        Sample((mk(2, 3, 3), mk(2, 2, 2, 2), mk(2)), {"stride": 2}, name="unbatched"),
        Sample((noncontig(mk(1, 2, 3, 3)), transposed(mk(2, 2, 2, 2)), None), {"padding": 1}, name="noncontig"),
        Sample((mk(0, 2, 3, 3), mk(2, 2, 2, 2), mk(2)), name="size0-batch"),
        Sample((mk(1, 2, 3, 3), mk(3, 2, 3, 3), None), raises=RuntimeError, match="to have 3 channels",
               name="channels"),
        Sample((mk(1, 2, 3, 3), mk(2, 2, 3, 3), None), {"output_padding": 1}, raises=RuntimeError,
               match="output padding must be smaller", name="outpad-too-big"),
        Sample((mk(1, 2, 3, 3), mk(2, 2, 3, 3), None), {"padding": "same"}, raises=TypeError, match="padding",
               name="string-padding"),
        Sample((mk(1, 3, 3, 3), mk(3, 2, 3, 3), None), {"groups": 2}, raises=RuntimeError, match="divisible by 2",
               name="groups-weight"),
        Sample((mk(3, 3), mk(3, 2, 3, 3), None), raises=RuntimeError, match="expected input with 4 dims",
               name="input-2d"),
    ]


def conv_transpose1d_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)
    return [
        Sample((mk(2, 2, 4), mk(2, 3, 3), mk(3)), name="bias"),
        Sample((mk(1, 2, 4), mk(2, 2, 3), None), {"stride": 3, "padding": 1, "output_padding": 2}, name="stride3"),
        Sample((mk(1, 4, 3), mk(4, 1, 2), mk(2)), {"groups": 2, "dilation": 2, "stride": 2}, name="groups-dil"),
        Sample((mk(2, 3), mk(2, 2, 3), None), {"stride": (2,), "output_padding": (1,)}, name="unbatched"),
        Sample((noncontig(mk(1, 2, 5)), transposed(mk(2, 2, 2)), None), name="noncontig"),
    ]


_tol = {"atol": 1e-5, "rtol": 1e-5}
OPS = [
    OpInfo("conv2d", _fn("conv2d"), conv2d_samples, **_tol),
    OpInfo("conv1d", _fn("conv1d"), conv1d_samples, **_tol),
    OpInfo("conv_transpose2d", _fn("conv_transpose2d"), conv_transpose2d_samples, **_tol),
    OpInfo("conv_transpose1d", _fn("conv_transpose1d"), conv_transpose1d_samples, **_tol),
]
