"""Stateless versions of the layers and the losses (torch.nn.functional), usually imported as F.

The functions are written in `ember.nn._functional` (activations, layers, normalization,
losses, LP pooling and unpooling) and in `ember.ops` (convolution, pooling, folding,
interpolation); this module gathers them under PyTorch's names.
"""

from ember.nn._functional.activation import (
    celu,
    elu,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    selu,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanh,
    tanhshrink,
    threshold,
)
from ember.nn._functional.layers import (
    bilinear,
    dropout,
    dropout1d,
    dropout2d,
    embedding,
    linear,
    one_hot,
    pad,
)
from ember.nn._functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ember.nn._functional.normalization import (
    batch_norm,
    cosine_similarity,
    group_norm,
    instance_norm,
    layer_norm,
    normalize,
    pairwise_distance,
)
from ember.ops.conv import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    interpolate,
    max_pool1d,
    max_pool2d,
    unfold,
)

# isort: split
# more losses (margins, embeddings, likelihoods) and pdist
from ember.nn._functional.loss import gaussian_nll_loss, poisson_nll_loss
from ember.nn._functional.loss_margin import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from ember.ops.api.linalg import pdist

# isort: split
# attention
from ember.nn._functional.attention import scaled_dot_product_attention

# isort: split
# pixel and channel shuffling; 3-d, unpooling and LP pooling; the dropouts beyond
# dropout/dropout1d/dropout2d
from ember.nn._functional.layers import alpha_dropout, dropout3d, feature_alpha_dropout
from ember.nn._functional.pooling import (
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d_with_indices,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d_with_indices,
    max_pool2d_with_indices,
    max_pool3d_with_indices,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)
from ember.nn._functional.shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle
from ember.ops.pool import avg_pool3d, max_pool3d
from ember.ops.resize import adaptive_avg_pool3d, adaptive_max_pool3d

# isort: split
# RMSNorm, local response normalization, EmbeddingBag and CTC
from ember.nn._functional.embedding_bag import embedding_bag
from ember.nn._functional.loss_ctc import ctc_loss
from ember.nn._functional.normalization import local_response_norm, rms_norm

# isort: split
# spatial sampling (spatial transformers)
from ember.ops.sample import affine_grid, grid_sample

# isort: split
# the randomized leaky ReLU
from ember.nn._functional.activation import rrelu, rrelu_

# isort: split
# 3-d transposed convolution
from ember.ops.conv import conv_transpose3d

# isort: split
# fractional max pooling
from ember.nn._functional.fractional_pool import (
    fractional_max_pool2d,
    fractional_max_pool2d_with_indices,
    fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
)

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "celu",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "dropout1d",
    "dropout2d",
    "elu",
    "embedding",
    "fold",
    "gelu",
    "glu",
    "group_norm",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "huber_loss",
    "instance_norm",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool1d",
    "max_pool2d",
    "mish",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pairwise_distance",
    "prelu",
    "relu",
    "relu6",
    "relu_",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanh",
    "tanhshrink",
    "threshold",
    "unfold",
    # more losses (margins, embeddings, likelihoods) and pdist
    "cosine_embedding_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "pdist",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    # attention
    "scaled_dot_product_attention",
    # pixel and channel shuffling
    "channel_shuffle",
    "pixel_shuffle",
    "pixel_unshuffle",
    # 3-d, unpooling and LP pooling, and the dropouts beyond dropout/dropout1d/dropout2d
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "alpha_dropout",
    "avg_pool3d",
    "dropout3d",
    "feature_alpha_dropout",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d",
    "max_pool3d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    # spatial sampling (spatial transformers)
    "affine_grid",
    "grid_sample",
]

__all__ += ["rms_norm", "local_response_norm", "embedding_bag", "ctc_loss"]

__all__ += ["rrelu", "rrelu_"]
__all__ += ["conv_transpose3d"]
__all__ += [
    "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
]
