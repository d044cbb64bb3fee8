"""The layers of ember.nn, one file per kind (as torch.nn.modules)."""

from ember.nn.modules.activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from ember.nn.modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from ember.nn.modules.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d
from ember.nn.modules.dropout import Dropout, Dropout2d
from ember.nn.modules.flatten import Flatten, Unflatten
from ember.nn.modules.linear import Bilinear, Identity, Linear
from ember.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from ember.nn.modules.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from ember.nn.modules.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)

# Recurrent layers.
from ember.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from ember.nn.modules.sparse import Embedding

# isort: split
# normalization and resampling layers: GroupNorm, InstanceNorm, adaptive max pooling, Upsample
from ember.nn.modules.normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d
from ember.nn.modules.pooling import AdaptiveMaxPool1d, AdaptiveMaxPool2d
from ember.nn.modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

# isort: split
# more losses (margins, embeddings, likelihoods) and the distance layers
from ember.nn.modules.distance import CosineSimilarity, PairwiseDistance
from ember.nn.modules.loss import (
    CosineEmbeddingLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)

# isort: split
# attention
from ember.nn.modules.attention import MultiheadAttention
from ember.nn.modules.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

# isort: split
# padding, pixel and channel shuffling, Softmax2d, Fold and Unfold; 3-d, unpooling and LP
# pooling, 3-d normalization, and the dropouts beyond Dropout/Dropout2d
from ember.nn.modules.activation import Softmax2d
from ember.nn.modules.dropout import AlphaDropout, Dropout1d, Dropout3d, FeatureAlphaDropout
from ember.nn.modules.fold import Fold, Unfold
from ember.nn.modules.normalization import BatchNorm3d, InstanceNorm3d
from ember.nn.modules.padding import (
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from ember.nn.modules.pixelshuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
from ember.nn.modules.pooling import (
    AdaptiveAvgPool3d,
    AdaptiveMaxPool3d,
    AvgPool3d,
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
from ember.nn.modules.embedding_bag import EmbeddingBag
from ember.nn.modules.loss import CTCLoss
from ember.nn.modules.normalization import LocalResponseNorm, RMSNorm

# isort: split
# DataParallel (a pass-through on the CPU)
from ember.nn.modules.parallel import DataParallel

# isort: split
# the randomized leaky ReLU
from ember.nn.modules.activation import RReLU

# isort: split
# 3-d transposed convolution
from ember.nn.modules.conv import ConvTranspose3d

# isort: split
# fractional max pooling
from ember.nn.modules.pooling import FractionalMaxPool2d, FractionalMaxPool3d

# isort: split
# the adaptive softmax
from ember.nn.modules.adaptive import AdaptiveLogSoftmaxWithLoss

# isort: split
# lazy modules: the input size comes from the first batch
from ember.nn.modules.lazy import (
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyConvTranspose3d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
    LazyLinear,
    LazyModuleMixin,
)

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
    "GELU",
    "GLU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "ReLU6",
    "HuberLoss",
    "Identity",
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
    "ModuleDict",
    "ModuleList",
    "MSELoss",
    "NLLLoss",
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
__all__ += ["DataParallel"]
__all__ += [
    "LazyModuleMixin",
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
__all__ += ["ConvTranspose3d"]
__all__ += ["LazyConvTranspose3d"]
__all__ += ["FractionalMaxPool2d", "FractionalMaxPool3d"]
__all__ += ["AdaptiveLogSoftmaxWithLoss"]
