"""Built-in architectures. Importing this package imports every module in it; each family registers itself.

Nothing is listed by hand: a new family is a new module here with a `@register_architecture` builder
(most are a mixer on `architectures.backbone`; see its docstring for the mixer protocol). Modules that
register nothing (`backbone`, `attention`, `positions`, `scan`, `base`) are imported too, harmlessly.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
