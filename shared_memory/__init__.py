"""The patterns with :mod:`multiprocessing`: processes that share state.

One module a pattern; run one with ``python -m shared_memory.<pattern> --workers 4``.
"""
