"""Layer 4, planning and execution: profiles, presets, the plan, the job a worker runs, executors, and the
searches built on runs (learning-rate selection, sample complexity), plus the contract checks of check-arch.
"""
