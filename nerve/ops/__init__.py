"""Differentiable ops on Tensors. Importing this package attaches the Tensor methods."""
from ..autograd import engine as _engine
from . import creation, elementwise, index, join, linalg, nnops, reduce, shape, sort
from .creation import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .join import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .nnops import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .sort import *  # noqa: F401,F403
from .elementwise import add as _add
from .shape import cast as _cast, sum_to as _sum_to

__all__ = (creation.__all__ + elementwise.__all__ + index.__all__ + join.__all__ + linalg.__all__
           + nnops.__all__ + reduce.__all__ + shape.__all__ + sort.__all__)

_engine.register_ops(_sum_to, _cast, _add)
