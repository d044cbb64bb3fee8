"""ember.hub: checkpoints fetched by URL into a local cache (torch.hub's weights half).

`load_state_dict_from_url(url)` downloads a file once into `<hub dir>/checkpoints` and
loads it with `ember.load`, which reads torch.save files without running code from them,
so torchvision-style weight URLs work. The hub directory is, in order: the folder given to
`set_dir`; `$EMBER_HOME/hub`; `$TORCH_HOME/hub` (so that weights a PyTorch installation
already cached, or a machine provisioned for it offline, are reused: the files are the
same); `$XDG_CACHE_HOME/ember/hub`; `~/.cache/ember/hub`.

torch.hub's other half, `load`, `list` and `help`, imports a repository's `hubconf.py`
and runs it. ember never runs downloaded code, so those raise and say what to do instead.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlparse

from ember.datasets._download import download
from ember.serialization import load as _load

ENV_EMBER_HOME = "EMBER_HOME"
ENV_TORCH_HOME = "TORCH_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
# a file named like resnet18-f37072fd.pth carries the first hex digits of its sha256
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")

_hub_dir: str | None = None


def _ember_home() -> str:
    home = os.getenv(ENV_EMBER_HOME) or os.getenv(ENV_TORCH_HOME)
    if not home:
        home = os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "ember")
    return os.path.expanduser(home)


def get_dir() -> str:
    """The folder where downloaded checkpoints are cached, under `checkpoints/` (torch.hub.get_dir)."""
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_ember_home(), "hub")


def set_dir(d: str | os.PathLike) -> None:
    """Use folder d as the hub directory from now on (torch.hub.set_dir)."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
    """Download url to the file dst (torch.hub.download_url_to_file).

    The data goes to a temporary file beside dst, which is renamed only once complete and,
    when hash_prefix is given, only if its sha256 starts with it; otherwise RuntimeError.
    file:// URLs work too. progress=False hides the progress bar.
    """
    download(
        [url],
        Path(os.path.expanduser(os.fspath(dst))),
        md5=None,
        sha256_prefix=hash_prefix,
        progress=progress,
    )


def _is_legacy_zip_format(filename: str) -> bool:
    """Whether the file is a zip of exactly one file: how old torchvision weights were shipped."""
    if not zipfile.is_zipfile(filename):
        return False
    with zipfile.ZipFile(filename) as archive:
        members = archive.infolist()
    # (an ember.save file of an empty dict is a zip of index.json alone)
    return len(members) == 1 and not members[0].is_dir() and members[0].filename != "index.json"


def _legacy_zip_load(filename: str, model_dir: str, map_location: Any, weights_only: bool) -> Any:
    with zipfile.ZipFile(filename) as archive:
        (member,) = archive.infolist()
        # the member is written under its base name only, never outside model_dir
        target = os.path.join(model_dir, os.path.basename(member.filename))
        with archive.open(member) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
    return _load(target, map_location=map_location, weights_only=weights_only)


def load_state_dict_from_url(
    url: str,
    model_dir: str | None = None,
    map_location: Any = None,
    progress: bool = True,
    check_hash: bool = False,
    file_name: str | None = None,
    weights_only: bool = False,
) -> dict[str, Any]:
    """Load the checkpoint at url, downloading it first unless it is cached
    (torch.hub.load_state_dict_from_url).

    The file is kept as `<model_dir or get_dir()/checkpoints>/<file_name or the URL's file
    name>`. check_hash=True requires the file's sha256 to start with the hex digits of the
    name's first run of them between a dash and a dot (`resnet18-f37072fd.pth`), as torch.hub
    reads them (in `a-b.c-12345678.pth` that is `b`). The file may be an ember.save or a
    torch.save file, or a zip holding one; it is read with ember.load, which never runs
    code from it (weights_only changes nothing).
    """
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stderr.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            found = HASH_REGEX.search(filename)
            hash_prefix = found.group(1) if found else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    if _is_legacy_zip_format(cached_file):
        return _legacy_zip_load(cached_file, model_dir, map_location, weights_only)
    return _load(cached_file, map_location=map_location, weights_only=weights_only)


def _runs_repository_code(function: str) -> NoReturn:
    raise NotImplementedError(
        f"ember.hub.{function} imports a repository's hubconf.py and runs it; ember does not run "
        "downloaded code. Build the model in your program (or copy its definition) and load its "
        "weights with model.load_state_dict(ember.hub.load_state_dict_from_url(url)), which reads "
        "torch.save files without running code."
    )


def load(repo_or_dir: str, model: str, *args: Any, **kwargs: Any) -> Any:
    """torch.hub.load: raises NotImplementedError, as it would run a repository's code."""
    _runs_repository_code("load")


def list(github: str, force_reload: bool = False, **kwargs: Any) -> Any:  # noqa: A001 (torch's name)
    """torch.hub.list: raises NotImplementedError, as it would run a repository's code."""
    _runs_repository_code("list")


def help(github: str, model: str, force_reload: bool = False, **kwargs: Any) -> Any:  # noqa: A001
    """torch.hub.help: raises NotImplementedError, as it would run a repository's code."""
    _runs_repository_code("help")


__all__ = ["download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url", "set_dir"]


def __getattr__(name: str) -> Any:
    """`ember.hub.tqdm`, as `from torch.hub import tqdm` finds it: tqdm's class when tqdm is
    installed, else a plain text bar with the same calls; imported on first use only."""
    if name == "tqdm":
        try:
            from tqdm import tqdm
        except ImportError:
            from ember._progress import _TextBar as tqdm
        return tqdm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
