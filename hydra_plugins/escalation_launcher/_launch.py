"""What both of this package's launchers do first in ``launch``, as Hydra's own launchers do.

Hydra's plugin scan skips modules whose name starts with an underscore; this one is
imported by the launcher modules.
"""

from pathlib import Path

from hydra.core.utils import configure_log, setup_globals


def start_launch(launcher) -> Path:
    """Hydra's resolvers, the launcher's logging, and the sweep folder (made, and returned)."""
    setup_globals()
    assert launcher.config is not None
    assert launcher.task_function is not None
    assert launcher.hydra_context is not None
    configure_log(launcher.config.hydra.hydra_logging, launcher.config.hydra.verbose)
    sweep_dir = Path(str(launcher.config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    return sweep_dir
