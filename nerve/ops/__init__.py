"""Differentiable ops on Tensors. Importing this package attaches the Tensor methods."""
import warnings as _warnings

from ..autograd import engine as _engine
from . import creation as _creation, elementwise as _elementwise, index as _index, join as _join
from . import linalg as _linalg, nnops as _nnops, reduce as _reduce, shape as _shape, sorting as _sort
from .creation import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .join import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .nnops import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from . import pool as _pool
from .pool import *  # noqa: F401,F403
from . import conv as _conv
from .conv import *  # noqa: F401,F403
from . import attention as _attention  # noqa: F401 - fused attention node (nn.functional uses it)

__all__ = (_creation.__all__ + _elementwise.__all__ + _index.__all__ + _join.__all__ + _linalg.__all__
           + _nnops.__all__ + _reduce.__all__ + _shape.__all__ + _sort.__all__ + _pool.__all__ + _conv.__all__)

_engine.register_ops(_shape.sum_to, _shape.cast)

# PyTorch computes inf/nan silently (inf * 0, log(0)); NumPy warns. Silence NumPy's floating-point
# RuntimeWarnings raised inside nerve's own modules only: a filter costs nothing per op, unlike an
# errstate context around every ufunc call, and leaves users' NumPy code untouched.
_warnings.filterwarnings("ignore", message=r"(invalid value|divide by zero|overflow|underflow) encountered",
                         category=RuntimeWarning, module=r"nerve\.")
