"""Hydra's config repository, parsing each config file once while the files stay as they
are: what makes a composition after the first cheaper (a tenth of a second of the third
Hydra takes is spent reading YAML).

Used by :func:`sim.config.compose` (keyed on the config files' names, sizes and modification
times) and by the project's launchers (keyed on the launch: a file edited between two
launches is read again).
"""

from __future__ import annotations

import copy
from typing import Any

from hydra._internal.config_repository import ConfigRepository

#: the parsed config files of the current key in this process: (its key, results)
_parsed: dict[str, Any] = {"launch": None, "results": {}}


class ParsedOnce(ConfigRepository):
    """Hydra's config repository, parsing each config file once per launch in a process.

    Hydra composes every job from a fresh copy of the repository (``copy.deepcopy``) and
    may change the results it loads while merging them, so the copies share the store of
    parsed results and each load returns a deep copy: the job is composed from the same
    objects as if the file had just been read.
    """

    def __init__(self, repository: ConfigRepository, launch_id: str) -> None:
        self.sources = repository.sources
        self.launch_id = launch_id

    def __deepcopy__(self, memo: dict[int, Any]) -> ParsedOnce:
        twin = copy.copy(self)
        twin.sources = copy.deepcopy(self.sources, memo)
        return twin

    def load_config(self, config_path: str) -> Any:
        if _parsed["launch"] != self.launch_id:
            _parsed.update(launch=self.launch_id, results={})
        key = (tuple((s.scheme(), s.provider, s.path) for s in self.sources), config_path)
        results = _parsed["results"]
        if key not in results:
            results[key] = super().load_config(config_path)
        return copy.deepcopy(results[key])


def parse_once(loader: Any, launch_id: str) -> None:
    """Have Hydra's config ``loader`` parse each file once for ``launch_id`` (a new id
    reads the files again)."""
    repository = getattr(loader, "repository", None)
    if isinstance(repository, ParsedOnce):
        repository.launch_id = launch_id
    elif isinstance(repository, ConfigRepository):
        loader.repository = ParsedOnce(repository, launch_id)
