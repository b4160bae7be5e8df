"""A deliberately broken plugin: its forward raises. Runs with it must fail alone, recorded as failed."""

from torch import nn

from bench import register_architecture


@register_architecture("broken")
def build_broken(spec, width: int = 8) -> nn.Module:
    """Raises in forward."""
    return Broken()


class Broken(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(nn.init.normal_(nn.Parameter(__import__("torch").empty(1))))

    def forward(self, x):
        raise RuntimeError("broken plugin: forward is not implemented")
