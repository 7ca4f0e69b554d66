"""The benchmark suite of issue 9: ``python -m bench`` (full) or ``--quick`` (CI).

See ``bench/README.md``.
"""
