"""What both sides share: the layer under ``shared_memory`` and ``message_passing``.

* :mod:`contract.cli` — the command line every pattern takes (one-line errors, exit 2);
* :mod:`contract.unit` — the unit of work (``square``) and how items are cut into parts;
* :mod:`contract.faults` — ``--fault raise:W`` / ``kill:W``;
* :mod:`contract.tracing` — the ``--trace`` lines on stderr;
* :mod:`contract.streams` — stderr lines written whole, so that processes never run theirs
  together, and a quiet end (141) when stdout is closed early (`| head`);
* :mod:`contract.outputs` — what each pattern prints, built by the same code for both stdouts.

It imports neither side nor ``bench`` (``tests/test_layers.py`` checks), and each module imports
only what starting a pattern needs.
"""
