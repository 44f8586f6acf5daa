"""Adam's update of one float32 parameter as a single compiled pass (optional: needs numba).

``adam_update`` (adam.py) runs the update as about a dozen NumPy passes over the parameter, its
gradient and both moments; for the ~1M parameters of the LSTM benchmark that was ~2 ms a step.
Here every element goes through the same float32 operations in the same order (no fused
multiply-adds: Numba leaves contraction off without fastmath), so the result is bit-for-bit the
NumPy passes' (tests/test_optim.py checks it) and a resumed run continues identically.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

_EMPTY = np.empty(0, np.float32)


@nb.njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def adam_f32(d, g, m, v, vmax, w, lerp_small, beta2, omb2, bc2_sqrt, eps, neg_step):
    """d, g, m, v (and vmax, empty without amsgrad): flat float32 arrays; the scalars are float32.

    m = lerp(m, g, weight) as torch.lerp: m + weight (g - m) for a weight under 0.5, else
    g - (1 - weight)(g - m), ``w`` being that factor; v = beta2 v + (1 - beta2) g g; with amsgrad
    vmax = max(vmax, v) (nan-propagating, as np.maximum) replaces v; then
    d = d + (m * -step) / (sqrt(v) / sqrt(1 - beta2^t) + eps).
    """
    ams = vmax.size > 0
    for i in range(d.size):
        gi = g[i]
        t = gi - m[i]
        mi = m[i] + t * w if lerp_small else gi - t * w
        m[i] = mi
        vi = v[i] * beta2 + gi * omb2 * gi
        v[i] = vi
        if ams:
            a = vmax[i]
            if not (a != a or a >= vi):
                a = vi
            vmax[i] = a
            vi = a
        den = math.sqrt(vi) / bc2_sqrt + eps
        d[i] = d[i] + mi * neg_step / den
