"""Neural-network building blocks (torch.nn): Module, Parameter, layers, losses, init, utils."""

from ember.nn import functional, init, utils
from ember.nn.module import Module
from ember.nn.modules import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Bilinear,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    CrossEntropyLoss,
    Dropout,
    Dropout2d,
    Embedding,
    Flatten,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    HuberLoss,
    Identity,
    KLDivLoss,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    MaxPool1d,
    MaxPool2d,
    Mish,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    ParameterDict,
    ParameterList,
    PReLU,
    ReLU,
    ReLU6,
    Sequential,
    Sigmoid,
    SiLU,
    SmoothL1Loss,
    Softmax,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
    Unflatten,
)

# Recurrent layers.
from ember.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from ember.nn.parameter import Parameter

# isort: split
# normalization and resampling layers: GroupNorm, InstanceNorm, adaptive max pooling, Upsample
from ember.nn.modules import (
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)

# isort: split
# more losses (margins, embeddings, likelihoods) and the distance layers
from ember.nn.modules import (
    CosineEmbeddingLoss,
    CosineSimilarity,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    PairwiseDistance,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)

# isort: split
# attention
from ember.nn.modules import (
    MultiheadAttention,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

# isort: split
# padding, pixel and channel shuffling, Softmax2d, Fold and Unfold
from ember.nn.modules import (
    ChannelShuffle,
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    Fold,
    PixelShuffle,
    PixelUnshuffle,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    Softmax2d,
    Unfold,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)

# isort: split
# 3-d, unpooling and LP pooling, 3-d normalization, and the dropouts beyond Dropout/Dropout2d
from ember.nn.modules import (
    AdaptiveAvgPool3d,
    AdaptiveMaxPool3d,
    AlphaDropout,
    AvgPool3d,
    BatchNorm3d,
    Dropout1d,
    Dropout3d,
    FeatureAlphaDropout,
    InstanceNorm3d,
    LPPool1d,
    LPPool2d,
    LPPool3d,
    MaxPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
    MaxUnpool3d,
)

# isort: split
# RMSNorm, local response normalization, EmbeddingBag and CTC
from ember.nn.modules import CTCLoss, EmbeddingBag, LocalResponseNorm, RMSNorm

# isort: split
# buffers assigned as attributes, DataParallel (a pass-through on the CPU)
from ember.nn import parallel
from ember.nn.modules import DataParallel
from ember.nn.parameter import Buffer

# isort: split
# the randomized leaky ReLU
from ember.nn.modules import RReLU

# isort: split
# 3-d transposed convolution
from ember.nn.modules import ConvTranspose3d, LazyConvTranspose3d

# isort: split
# fractional max pooling
from ember.nn.modules import FractionalMaxPool2d, FractionalMaxPool3d

# isort: split
# the adaptive softmax
from ember.nn.modules import AdaptiveLogSoftmaxWithLoss

# isort: split
# lazy modules and their placeholder parameters and buffers
from ember.nn.modules import (
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
    LazyLinear,
)
from ember.nn.parameter import UninitializedBuffer, UninitializedParameter

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "Bilinear",
    "CELU",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "ELU",
    "Embedding",
    "Flatten",
    "functional",
    "GELU",
    "GLU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "ReLU6",
    "HuberLoss",
    "Identity",
    "init",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MaxPool1d",
    "MaxPool2d",
    "Mish",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MSELoss",
    "NLLLoss",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "PReLU",
    "ReLU",
    "SELU",
    "Sequential",
    "Sigmoid",
    "SiLU",
    "SmoothL1Loss",
    "Softmax",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "Tanh",
    "Tanhshrink",
    "Threshold",
    "Unflatten",
    "utils",
    # Recurrent layers.
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    # normalization and resampling layers: GroupNorm, InstanceNorm, adaptive max pooling, Upsample
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
    # more losses (margins, embeddings, likelihoods) and the distance layers
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "PairwiseDistance",
    "PoissonNLLLoss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    # attention
    "MultiheadAttention",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    # padding, pixel and channel shuffling, Softmax2d, Fold and Unfold
    "ChannelShuffle",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "Fold",
    "PixelShuffle",
    "PixelUnshuffle",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "Softmax2d",
    "Unfold",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    # 3-d, unpooling and LP pooling, 3-d normalization, and the dropouts beyond Dropout/Dropout2d
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool3d",
    "AvgPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
    "BatchNorm3d",
    "InstanceNorm3d",
    "AlphaDropout",
    "Dropout1d",
    "Dropout3d",
    "FeatureAlphaDropout",
]

__all__ += ["RMSNorm", "LocalResponseNorm", "EmbeddingBag", "CTCLoss"]
__all__ += ["Buffer", "DataParallel", "parallel"]
__all__ += [
    "UninitializedBuffer",
    "UninitializedParameter",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
    "LazyLinear",
]
__all__ += ["RReLU"]
__all__ += ["ConvTranspose3d", "LazyConvTranspose3d"]
__all__ += ["FractionalMaxPool2d", "FractionalMaxPool3d"]
__all__ += ["AdaptiveLogSoftmaxWithLoss"]
