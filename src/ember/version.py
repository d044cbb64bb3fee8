"""torch.version for ember: the build facts environment reports print next to
`torch.__version__`. ember is built for no accelerator, so `cuda`, `hip`, `rocm` and `xpu`
are None, as in PyTorch's CPU builds."""

from __future__ import annotations

from ember import __version__ as __version__  # ember's own version, not PyTorch's

cuda: str | None = None
hip: str | None = None
rocm: str | None = None
xpu: str | None = None
debug = False
git_version = "unknown"  # ember is not built from a recorded commit
