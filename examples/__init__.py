"""The bare examples: each pattern in a few lines, run as ``python -m examples.<side>.<name>``."""

import signal

# `python -m examples.shared_memory.pool | head -c 1`: an example is a Unix filter like `seq`,
# which SIGPIPE ends silently when its reader has gone (141 in the shell). Python ignores
# SIGPIPE, and would print "Exception ignored ... BrokenPipeError" at exit instead. Restored
# here, not in each file, to keep the examples bare: `python -m` imports this package first,
# in the workers multiprocessing spawns too (a forked worker inherits the setting). The full
# programs keep SIGPIPE ignored and catch the error (contract/streams.py says why: a socket
# whose peer died must raise, not kill). Here a worker or the Manager's server killed so would
# only have printed a traceback, and every example's peers outlive the writes made to them.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
