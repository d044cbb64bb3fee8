"""Python's multiprocessing, with tensors that processes share (torch.multiprocessing).

Every name of the standard library's `multiprocessing` is here (Process, Queue, Pool,
get_context, set_start_method, ...), the same objects. What this package adds:

- reductions registered with multiprocessing's pickler (see reductions.py): a tensor put on
  a queue, sent through a pipe or a Pool, or given to a process started by spawn or
  forkserver arrives as a view of the same shared memory, not a copy. Children started by
  fork share a tensor that was moved to shared memory before they started
  (`share_memory_()`, `Module.share_memory()`), as in PyTorch;
- `Tensor.share_memory_()`, `Tensor.is_shared()`, and storages' counterparts;
- the sharing strategies ("file_descriptor", "file_system": see _memory.py);
- `spawn` and `start_processes`: N processes running fn(i, *args), whose failures are
  raised in the parent with the child's traceback (see spawn.py).

The reductions are registered when this package is imported, which `import ember` does.
"""

import multiprocessing as _multiprocessing

from ember.multiprocessing import reductions
from ember.multiprocessing._memory import (
    get_all_sharing_strategies,
    get_sharing_strategy,
    set_sharing_strategy,
)
from ember.multiprocessing.spawn import (
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    SpawnContext,
    spawn,
    start_processes,
)

__all__ = [
    "ProcessContext",
    "ProcessException",
    "ProcessExitedException",
    "ProcessRaisedException",
    "SpawnContext",
    "get_all_sharing_strategies",
    "get_sharing_strategy",
    "reductions",
    "set_sharing_strategy",
    "spawn",
    "start_processes",
]

# the standard library's names, listed by its own __all__ (they are its default context's
# methods, so the list is that module's to keep)
for _name in _multiprocessing.__all__:
    globals()[_name] = getattr(_multiprocessing, _name)
__all__ += _multiprocessing.__all__
del _name

reductions.init_reductions()
