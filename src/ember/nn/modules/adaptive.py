"""AdaptiveLogSoftmaxWithLoss: a softmax over many classes that is cheap for the frequent ones
(Grave et al., 2017, "Efficient softmax approximation for GPUs"; torch.nn.AdaptiveLogSoftmaxWithLoss).

The classes, sorted by frequency, are split by `cutoffs` into a shortlist and clusters. The
`head` scores the shortlist classes plus one entry per cluster; each cluster's classes are
scored by a small `tail` network (a projection to `in_features / div_value**(i+1)` features,
then to the cluster's classes). log p(class) is the head's log-probability for a shortlist
class, and for a clustered one the head's log-probability of its cluster plus the class's
log-probability within the cluster. Training only runs the tails of the clusters that the
batch's targets fall in.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.nn import functional as F
from ember.nn.module import Module
from ember.nn.modules.container import ModuleList, Sequential
from ember.nn.modules.linear import Linear
from ember.ops.api.shape import cat

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: `forward(input, target)` gives (output, loss), with output the
    log-probability of each target and loss their negative mean; `log_prob(input)` gives
    every class's log-probability and `predict(input)` the most likely class."""

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        cutoffs: Sequence[int],
        div_value: float = 4.0,
        head_bias: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (
            cutoffs != sorted(cutoffs)
            or min(cutoffs) <= 0
            or max(cutoffs) > n_classes - 1
            or len(set(cutoffs)) != len(cutoffs)
            or any(int(c) != c for c in cutoffs)
        ):
            raise ValueError(
                "cutoffs should be a sequence of unique, positive integers sorted in an increasing order, "
                "where each value is between 1 and n_classes-1"
            )
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        factory = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(
                Sequential(
                    Linear(in_features, hidden, bias=False, **factory),
                    Linear(hidden, size, bias=False, **factory),
                )
            )

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for projection, output in self.tail:
            projection.reset_parameters()
            output.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        if target_.dim() == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError(
                    f"1D target tensor expects 2D input tensors, but found inputs with size {input_.shape}"
                )
        elif target_.dim() == 0:
            if input_.dim() != 1:
                raise RuntimeError(
                    f"0D target tensor expects 1D input tensors, but found inputs with size {input_.shape}"
                )
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.dim() > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = np.asarray(target_._data).reshape(-1).astype(np.int64)
        if target.size and (target.min() < 0 or target.max() >= self.n_classes):
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{target.min()}, {target.max()}] were found. "
            )
        # the head entry of each row: its class if in the shortlist, else its cluster's entry
        cluster = np.searchsorted(self.cutoffs, target, side="right")  # 0: shortlist, i: cluster i
        head_entry = np.where(cluster == 0, target, self.shortlist_size + cluster - 1)
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = head_logprob.gather(1, Tensor(head_entry[:, None])).squeeze(1)
        # plus, for rows in a cluster, the class's log-probability within it (only the tails
        # of clusters that occur are run); the pieces are put back in row order at the end
        rows, pieces = [np.flatnonzero(cluster == 0)], [input.new_zeros(int((cluster == 0).sum()))]
        for i in range(1, self.n_clusters + 1):
            in_cluster = np.flatnonzero(cluster == i)
            if in_cluster.size == 0:
                continue
            relative = target[in_cluster] - self.cutoffs[i - 1]
            cluster_logprob = F.log_softmax(self.tail[i - 1](input[in_cluster]), dim=1)
            rows.append(in_cluster)
            pieces.append(cluster_logprob.gather(1, Tensor(relative[:, None])).squeeze(1))
        order = np.argsort(np.concatenate(rows), kind="stable")
        output = output + cat(pieces)[order]
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        """log p of every class, (batch, n_classes), from the head's output."""
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, : self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, dim=1)

    def log_prob(self, input: Tensor) -> Tensor:
        """The log-probability of every class: (N, in_features) -> (N, n_classes)."""
        batched = input.dim() > 1
        x = input if batched else input.unsqueeze(0)
        out = self._get_full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row; the full distribution is computed only for the
        rows whose best head entry is a cluster."""
        batched = input.dim() > 1
        x = input if batched else input.unsqueeze(0)
        head_output = self.head(x)
        best = head_output.argmax(dim=1)
        in_cluster = np.flatnonzero(best._data >= self.shortlist_size)
        if in_cluster.size:
            full = self._get_full_log_prob(x[in_cluster], head_output[in_cluster])
            best._data[in_cluster] = full.argmax(dim=1)._data
        return best if batched else best.squeeze(0)
