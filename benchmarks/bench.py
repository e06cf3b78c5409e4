"""Run the benchmark from a source checkout: ``python benchmarks/bench.py [--quick] ...``.

The code lives in ``sim/bench.py`` (the ``escalation-bench`` command, ``make bench``).
"""

from sim.bench import main

if __name__ == "__main__":
    main()
