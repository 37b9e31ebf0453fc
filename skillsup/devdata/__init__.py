"""Data for development and benchmarks: the demo (``flask seed-demo``) and the benchmark data
set (``flask seed-bench``).

Nothing here is part of the running portal: ``create_app()`` never imports this package (a test
checks it). The commands in :mod:`skillsup.cli` import it when they run.
"""
