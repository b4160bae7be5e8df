"""Built-in tasks. Importing this package imports every module under it, nested packages included (a suite
such as `tasks/chomsky/` keeps one module per task in level folders); each module registers its task(s).

Helper modules (`common`, `base`, and any name starting with `_`) define no task and are left to be
imported by the modules that use them.
"""

import importlib
import pkgutil

HELPERS = ("common", "base")

for _module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
    _leaf = _module.name.rsplit(".", 1)[-1]
    if not _leaf.startswith("_") and _leaf not in HELPERS:
        importlib.import_module(_module.name)
