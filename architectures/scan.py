"""The first-order linear recurrence `h_t = a_t * h_{t-1} + b_t` (with `h_{-1} = 0`) over the time axis.

Every function takes `a` and `b` with time on dimension 1 (`(B, T, ...)`); products are elementwise over
the trailing dimensions and `a` broadcasts against `b` (a time-invariant `a` of shape `(1, 1, N)` is
fine). Real and complex dtypes work, and everything is differentiable (plain autograd ops).

The recurrence is a scan with the associative operator `(a1, b1) . (a2, b2) = (a2 * a1, a2 * b1 + b2)`.

- `sequential_scan`: the reference, one Python step per position.
- `parallel_scan` (used by the models): the work-efficient odd-even (Blelloch-style) scan, as in
  `jax.lax.associative_scan`: combine neighbouring pairs, scan the half-length sequence of pairs
  recursively (that gives `h` at odd positions), then one vectorised step fills the even positions.
  Depth 2 * ceil(log2 T), total work O(T).
- `hillis_steele_scan`: the step-efficient Hillis-Steele scan (ceil(log2 T) steps but O(T log T) work).
  Kept for comparison: on CPU its extra passes over the `(B, T, ...)` tensors make it 4-20x slower than
  `parallel_scan` at the sizes this benchmark uses.
"""

from __future__ import annotations

import torch


def _broadcast(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if a.dim() < 2 or b.dim() < 2:
        raise ValueError(f"scan expects (B, T, ...) tensors; got a {tuple(a.shape)} and b {tuple(b.shape)}")
    shape = torch.broadcast_shapes(a.shape, b.shape)
    return a.expand(shape), b.expand(shape)


def sequential_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Reference: `h_t = a_t * h_{t-1} + b_t` by a Python loop over `T` (dimension 1)."""
    a, b = _broadcast(a, b)
    h = torch.zeros_like(b[:, 0])
    out = []
    # unbind, not a[:, t]: indexing's backward writes a full-size zero tensor per step (O(T^2) memory traffic)
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):
        h = torch.addcmul(b_t, a_t, h)
        out.append(h)
    return torch.stack(out, dim=1)


def _odd_even(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # split/unbind rather than slicing: a slice's backward fills a full-size zero tensor, theirs do not
    length = b.shape[1]
    if length == 1:
        return b
    if length % 2:  # scan the even-length prefix, then one step for the last position
        (a_head, a_last), (b_head, b_last) = a.split([length - 1, 1], dim=1), b.split([length - 1, 1], dim=1)
        h = _odd_even(a_head, b_head)
        return torch.cat([h, torch.addcmul(b_last, a_last, h.narrow(1, length - 2, 1))], dim=1)
    a_even, a_odd = a.unflatten(1, (length // 2, 2)).unbind(2)
    b_even, b_odd = b.unflatten(1, (length // 2, 2)).unbind(2)
    # the pair (2i, 2i+1) composed into one step; its scan is h at the odd positions 2i+1
    h_odd = _odd_even(a_odd * a_even, torch.addcmul(b_odd, a_odd, b_even))
    if length == 2:
        return torch.stack([b_even, h_odd], dim=2).flatten(1, 2)
    # h_{2i} = a_{2i} h_{2i-1} + b_{2i}, with h_{-1} = 0
    half = length // 2
    b_first, b_rest = b_even.split([1, half - 1], dim=1)
    h_even = torch.cat(
        [b_first, torch.addcmul(b_rest, a_even.split([1, half - 1], dim=1)[1], h_odd.split([half - 1, 1], dim=1)[0])],
        dim=1,
    )
    return torch.stack([h_even, h_odd], dim=2).flatten(1, 2)


def parallel_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Same result as `sequential_scan` by the odd-even parallel scan: 2 * ceil(log2 T) vectorised steps."""
    a, b = _broadcast(a, b)
    return _odd_even(a, b)


def hillis_steele_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Same result by Hillis-Steele: step k composes every position with the one `2**k` earlier."""
    a, b = _broadcast(a, b)
    length = b.shape[1]
    offset = 1
    while offset < length:
        # positions < offset have nothing `offset` steps back: they keep their (a, b) (identity element)
        a_now = a[:, offset:]
        b = torch.cat([b[:, :offset], torch.addcmul(b[:, offset:], a_now, b[:, :-offset])], dim=1)
        if offset * 2 < length:  # the last step's `a` is never read again
            a = torch.cat([a[:, :offset], a_now * a[:, :-offset]], dim=1)
        offset *= 2
    return b


def scan(a: torch.Tensor, b: torch.Tensor, mode: str = "parallel") -> torch.Tensor:
    """Dispatch on `mode`: "parallel" (`parallel_scan`) or "sequential" (`sequential_scan`)."""
    if mode == "parallel":
        return parallel_scan(a, b)
    if mode == "sequential":
        return sequential_scan(a, b)
    raise ValueError(f"scan mode must be 'parallel' or 'sequential'; got {mode!r}")
