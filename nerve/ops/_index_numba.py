"""A compiled row scatter-add (optional: used when numba is installed).

``out[idx[i]] += vals[i]`` row by row, in index order: the embedding gradient (index_add of a
(tokens, dim) gradient into the table). NumPy's composition sorts the indices, gathers the rows in
that order and sums runs of equal indices with ``reduceat`` (three passes and a copy of the
gradient); this is one pass, and its sums are np.add.at's: each row of ``out`` gets its rows added
one at a time, in index order (reduceat's vectorised sums can differ in the last bits).
"""
from __future__ import annotations

import numba as nb


@nb.njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
def scatter_rows(out, idx, vals):
    """``out[idx[i]] += vals[i]`` for each i in order (2-D out and vals, rows of the same length)."""
    for i in range(idx.size):
        o, v = out[idx[i]], vals[i]
        for j in range(v.size):
            o[j] += v[j]
