"""torch.onnx's entry points for programs that import it: ember cannot write ONNX files.

Training scripts often `import torch.onnx` at the top and export only when asked (the
word_language_model and fast_neural_style examples of pytorch/examples, with
`--onnx-export`). With ember the import works and such a script trains as written;
`export` itself raises NotImplementedError and says how to get an ONNX file: load the
weights into the PyTorch model and export that. `is_in_onnx_export()` is False, so code
that branches on it takes its ordinary path.
"""

from __future__ import annotations

from typing import Any

__all__ = ["export", "is_in_onnx_export"]

_NO_ONNX = (
    "ember cannot export models to ONNX. Save the weights with "
    "ember.save(model.state_dict(), f), load them into the same model built with PyTorch "
    "(converting each tensor with torch.from_numpy(t.numpy())) and export it with torch.onnx.export."
)


def export(model: Any, args: Any = (), f: Any = None, *more: Any, **options: Any) -> Any:
    """Raises NotImplementedError: ember cannot write an ONNX file (torch.onnx.export)."""
    raise NotImplementedError("ember.onnx.export: " + _NO_ONNX)


def is_in_onnx_export() -> bool:
    """False: ember never runs a model for an ONNX export (torch.onnx.is_in_onnx_export)."""
    return False
