"""Embedding: a lookup table of learnable vectors indexed by integers."""

from __future__ import annotations

from typing import Any

from ember import creation
from ember._tensor import Tensor
from ember.autograd import no_grad
from ember.nn import functional as F
from ember.nn import init
from ember.nn.module import Module
from ember.nn.parameter import Parameter


def _padding_index(padding_idx: int | None, num_embeddings: int, message: str) -> int | None:
    """padding_idx made non-negative; out of [-num_embeddings, num_embeddings) raises
    PyTorch's AssertionError with `message` (its wording differs between the layers)."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(message)
    return padding_idx % num_embeddings


def _set_table(module: Module, _weight: Tensor | None, requires_grad: bool, device: Any, dtype: Any) -> None:
    """module.weight, the (num_embeddings, embedding_dim) table: `_weight` itself, checked, or
    a new one from reset_parameters (Embedding and EmbeddingBag)."""
    shape = (module.num_embeddings, module.embedding_dim)
    if _weight is None:
        module.weight = Parameter(
            creation.empty(*shape, dtype=dtype, device=device), requires_grad=requires_grad
        )
        module.reset_parameters()
    else:
        if tuple(_weight.shape) != shape:
            raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
        module.weight = Parameter(_weight, requires_grad=requires_grad)


def _reset_table(module: Module) -> None:
    """Rows from N(0, 1), the padding row zero (Embedding and EmbeddingBag)."""
    init.normal_(module.weight)
    if module.padding_idx is not None:
        with no_grad():
            module.weight[module.padding_idx].fill_(0)


def _max_norm_repr(module: Module) -> str:
    """The max_norm, norm_type and scale_grad_by_freq part of both layers' reprs, each shown
    only when it is not the default, as PyTorch's reprs do."""
    text = ""
    if module.max_norm is not None:
        text += f", max_norm={module.max_norm}"
    if module.norm_type != 2:
        text += f", norm_type={module.norm_type}"
    if module.scale_grad_by_freq:
        text += f", scale_grad_by_freq={module.scale_grad_by_freq}"
    return text


def _pretrained_shape(embeddings: Tensor) -> tuple[int, int]:
    """The (rows, columns) of a from_pretrained table, which must be a matrix."""
    if embeddings.dim() != 2:
        raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
    rows, cols = embeddings.shape
    return rows, cols


class Embedding(Module):
    """weight[input]: row i of a (num_embeddings, embedding_dim) table per index (torch.nn.Embedding).

    Rows start from N(0, 1); the row at `padding_idx` starts at zero and receives no gradient.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_index(
            padding_idx, num_embeddings, "Padding_idx must be within num_embeddings"
        )
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        self.weight: Parameter  # declared for readers: _set_table sets it
        _set_table(self, _weight, not _freeze, device, dtype)

    def reset_parameters(self) -> None:
        _reset_table(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        text += _max_norm_repr(self)
        if self.sparse:
            text += ", sparse=True"
        return text

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose table is `embeddings` (frozen unless freeze=False)."""
        rows, cols = _pretrained_shape(embeddings)
        return cls(
            rows,
            cols,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
            _weight=embeddings,
            _freeze=freeze,
        )
