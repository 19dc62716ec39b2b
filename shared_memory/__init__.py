"""The patterns with :mod:`multiprocessing`: processes that share state.

One module a pattern; run one with ``python -m shared_memory.<pattern> --workers 4``.
Each reads like the textbook: its ``run()`` shows the pattern, and what every pattern
needs to start, watch and stop its workers (a dead worker reported, never waited for)
sits in :mod:`shared_memory.runtime`. The bare version of each, without options,
faults or trace, is ``examples/shared_memory/<pattern>.py``.
"""
