"""Neural-network building blocks (``torch.nn``).

``nerve.nn.functional`` holds the stateless functions, ``nerve.nn.init`` the weight initialisers,
``nerve.nn.utils`` gradient clipping and parameter/vector conversion.
"""
from . import functional  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
from . import init  # noqa: F401
from .modules import (  # noqa: F401
    CELU, ELU, GELU, GLU, SELU, AlphaDropout, BatchNorm1d, BatchNorm2d, BatchNorm3d, BCELoss, BCEWithLogitsLoss,
    Bilinear, CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
    CosineEmbeddingLoss, CosineSimilarity, CrossEntropyLoss, Dropout, Dropout1d, Dropout2d, Dropout3d, Embedding,
    FeatureAlphaDropout, Flatten, GaussianNLLLoss, GroupNorm, Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
    HingeEmbeddingLoss, HuberLoss, Identity, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, KLDivLoss, L1Loss,
    LayerNorm, LeakyReLU, Linear, LogSigmoid, LogSoftmax, MarginRankingLoss, Mish, Module, ModuleDict, ModuleList,
    MSELoss, MultiLabelSoftMarginLoss, MultiMarginLoss, NLLLoss, PairwiseDistance, ParameterDict, ParameterList,
    PoissonNLLLoss, PReLU, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReLU, ReLU6, ReplicationPad1d,
    ReplicationPad2d, ReplicationPad3d, RMSNorm, RReLU, Sequential, Sigmoid, SiLU, SmoothL1Loss, SoftMarginLoss,
    Softmax, Softmax2d, Softmin, Softplus, Softshrink, Softsign, Tanh, Tanhshrink, Threshold, TripletMarginLoss,
    TripletMarginWithDistanceLoss, Unflatten, ZeroPad1d, ZeroPad2d, ZeroPad3d,
)
# Convolution, pooling and resampling layers (also reachable as nerve.nn.modules.conv / .pooling / .upsampling).
from .modules.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Fold, Unfold  # noqa: F401
from .modules.pooling import (  # noqa: F401
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
    MaxPool2d,
)
from .modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: F401
from .modules.attention import MultiheadAttention  # noqa: F401
from .modules.transformer import (  # noqa: F401
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
)
from .modules.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding  # noqa: F401
from .modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from . import utils  # noqa: F401
