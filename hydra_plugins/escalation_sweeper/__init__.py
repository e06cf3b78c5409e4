"""escalation-sim's Hydra sweeper (Hydra finds plugins only in the ``hydra_plugins`` namespace).

``hydra/sweeper=jobs_checked_once`` (the project's default) is Hydra's basic sweeper without
the serial composition of every job before the launch: the launcher composes each job
anyway (in parallel under joblib, on the nodes of a cluster), ``escalation-sim`` checks a
sweep's values before it starts, and a job whose configuration fails is recorded as failed
(``sim.sweep.run_job``). For 1,000 jobs this saves minutes of serial work.
"""

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper


class Sweeper(BasicSweeper):
    """Hydra's basic sweeper, composing each job once (in the launcher)."""

    def validate_batch_is_legal(self, batch) -> None:
        return None
