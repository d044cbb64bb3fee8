"""The layers of ember.nn, one file per kind (as torch.nn.modules)."""

from ember.nn.modules import module as module  # the global hooks, as torch.nn.modules.module
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
    RReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softmax2d,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from ember.nn.modules.adaptive import (
    AdaptiveLogSoftmaxWithLoss,
)
from ember.nn.modules.attention import (
    MultiheadAttention,
)
from ember.nn.modules.container import (
    Container,
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)
from ember.nn.modules.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
)
from ember.nn.modules.distance import (
    CosineSimilarity,
    PairwiseDistance,
)
from ember.nn.modules.dropout import (
    AlphaDropout,
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    FeatureAlphaDropout,
)
from ember.nn.modules.embedding_bag import (
    EmbeddingBag,
)
from ember.nn.modules.flatten import (
    Flatten,
    Unflatten,
)
from ember.nn.modules.fold import (
    Fold,
    Unfold,
)
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
from ember.nn.modules.linear import (
    Bilinear,
    Identity,
    Linear,
)
from ember.nn.modules.linear_cross_entropy_options import LinearCrossEntropyOptions
from ember.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    LinearCrossEntropyLoss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    NLLLoss2d,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from ember.nn.modules.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    CrossMapLRN2d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LayerNorm,
    LocalResponseNorm,
    RMSNorm,
    SyncBatchNorm,
)
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
from ember.nn.modules.parallel import (
    DataParallel,
)
from ember.nn.modules.pixelshuffle import (
    ChannelShuffle,
    PixelShuffle,
    PixelUnshuffle,
)
from ember.nn.modules.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AdaptiveMaxPool3d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    FractionalMaxPool2d,
    FractionalMaxPool3d,
    LPPool1d,
    LPPool2d,
    LPPool3d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
    MaxUnpool3d,
)
from ember.nn.modules.rnn import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RNNBase,
    RNNCell,
    RNNCellBase,
)
from ember.nn.modules.sparse import (
    Embedding,
)
from ember.nn.modules.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from ember.nn.modules.upsampling import (
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveLogSoftmaxWithLoss",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AlphaDropout",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "Bilinear",
    "CELU",
    "ChannelShuffle",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "Container",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "CrossEntropyLoss",
    "CrossMapLRN2d",
    "CTCLoss",
    "DataParallel",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "ELU",
    "Embedding",
    "EmbeddingBag",
    "FeatureAlphaDropout",
    "Flatten",
    "Fold",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "GaussianNLLLoss",
    "GELU",
    "GLU",
    "GroupNorm",
    "GRU",
    "GRUCell",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "Identity",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
    "LazyLinear",
    "LazyModuleMixin",
    "LeakyReLU",
    "Linear",
    "LinearCrossEntropyLoss",
    "LinearCrossEntropyOptions",
    "LocalResponseNorm",
    "LogSigmoid",
    "LogSoftmax",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "LSTM",
    "LSTMCell",
    "MarginRankingLoss",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
    "Mish",
    "ModuleDict",
    "ModuleList",
    "MSELoss",
    "MultiheadAttention",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "NLLLoss2d",
    "PairwiseDistance",
    "ParameterDict",
    "ParameterList",
    "PixelShuffle",
    "PixelUnshuffle",
    "PoissonNLLLoss",
    "PReLU",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReLU",
    "ReLU6",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "RMSNorm",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "RReLU",
    "SELU",
    "Sequential",
    "Sigmoid",
    "SiLU",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "Softmax",
    "Softmax2d",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "SyncBatchNorm",
    "Tanh",
    "Tanhshrink",
    "Threshold",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "Unflatten",
    "Unfold",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]

# PyTorch keeps BatchNorm, InstanceNorm and ChannelShuffle in modules of their own, and code
# imports from those paths (`from torch.nn.modules.batchnorm import _BatchNorm`, for
# isinstance checks). ember keeps them in normalization.py and pixelshuffle.py, so each
# such path is a small module object holding the same names, registered where `import`
# looks first (as ember.distributions does for its paths). ember's _BatchNorm is also the
# base of the instance norms, and stands for PyTorch's _NormBase too.
_TORCH_MODULES = {
    "batchnorm": (
        "normalization:BatchNorm1d BatchNorm2d BatchNorm3d SyncBatchNorm _BatchNorm _BatchNorm=_NormBase "
        "lazy:LazyBatchNorm1d LazyBatchNorm2d LazyBatchNorm3d _LazyNorm=_LazyNormBase"
    ),
    "instancenorm": (
        "normalization:InstanceNorm1d InstanceNorm2d InstanceNorm3d _InstanceNorm _BatchNorm=_NormBase "
        "lazy:LazyInstanceNorm1d LazyInstanceNorm2d LazyInstanceNorm3d _LazyNorm=_LazyNormBase"
    ),
    "channelshuffle": "pixelshuffle:ChannelShuffle",
}


def _register_torch_module_paths() -> None:
    import importlib
    import sys
    import types

    for name, spec in _TORCH_MODULES.items():
        path = f"{__name__}.{name}"
        module = types.ModuleType(path, f"torch.nn.modules.{name}, from ember.nn.modules")
        source = None
        for word in spec.split():
            if ":" in word:
                file, word = word.split(":")
                source = importlib.import_module(f"{__name__}.{file}")
            ours, _, theirs = word.partition("=")
            setattr(module, theirs or ours, getattr(source, ours))
        module.__all__ = [n for n in vars(module) if not n.startswith("_")]  # type: ignore[attr-defined]
        sys.modules[path] = module
        globals()[name] = module


# names PyTorch's layer modules also hold, defined elsewhere in ember (`from
# torch.nn.modules.activation import MultiheadAttention`, `from torch.nn.modules.linear
# import NonDynamicallyQuantizableLinear`, ...)
_ALSO_IN = {
    "activation": "MultiheadAttention NonDynamicallyQuantizableLinear",
    "linear": "LazyLinear LazyModuleMixin NonDynamicallyQuantizableLinear",
    "conv": (
        "LazyConv1d LazyConv2d LazyConv3d LazyConvTranspose1d LazyConvTranspose2d LazyConvTranspose3d "
        "LazyModuleMixin"
    ),
    "sparse": "EmbeddingBag",
}


def _add_reexports() -> None:
    from ember.nn.modules import activation, attention, conv, linear, sparse

    modules = {"activation": activation, "linear": linear, "conv": conv, "sparse": sparse}
    for name, names in _ALSO_IN.items():
        for cls in names.split():
            setattr(modules[name], cls, globals().get(cls) or getattr(attention, cls))


_register_torch_module_paths()
_add_reexports()
