"""A plugin whose forward kills its own process with SIGKILL, as the out-of-memory killer would.

Only for executors that train in worker processes: the driver must record the run as failed with the
signal and finish the sweep. (Under the serial executor it would kill the caller.)
"""

import os
import signal

import torch
from torch import nn

from bench import register_architecture


@register_architecture("sigkill")
def build_sigkill(spec, width: int = 8) -> nn.Module:
    """Kills its process in forward."""
    return SigKill()


class SigKill(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        os.kill(os.getpid(), signal.SIGKILL)
