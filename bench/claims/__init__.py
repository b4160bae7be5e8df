"""Layer 6, claims: the papers' headline separations as runnable, statistically judged experiments."""
