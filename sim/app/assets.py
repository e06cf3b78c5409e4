"""Solara's front-end assets, installed locally so the seminar app works with no internet.

Solara's page loads its JavaScript and CSS through a proxy that fetches from a CDN and keeps
a copy in ``<prefix>/share/solara/cdn/``. A seminar room with poor wifi (or none) gets a blank
page, so this module puts the packages there from the npm registry once, at install time
(``make setup`` runs ``python -m sim.app.assets``). The package versions are read from the
installed Solara itself, so an upgrade of Solara fetches the versions it asks for.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: (file inside the solara package, pattern of the npm package it requests, what for)
_REQUESTS = (
    ("server/templates/solara.html.j2", r"@widgetti/solara-vuetify-app@[0-9][\w.\-]*", "page"),
    ("widgets/vue/gridlayout.vue", r"@widgetti/vue-grid-layout@[0-9][\w.\-]*", "grid layout"),
    ("server/templates/solara.html.j2", r"requirejs@[0-9][\w.\-]*", "module loader"),
    ("server/settings.py", r"font-awesome@[0-9][\w.\-]*", "icons"),
)


def solara_packages() -> list[str]:
    """The ``name@version`` npm packages the installed Solara loads from its CDN."""
    import solara  # slow to import; the launcher switches its telemetry off first

    root = Path(solara.__file__).parent
    found = []
    for relative, pattern, what in _REQUESTS:
        text = (root / relative).read_text(encoding="utf-8")
        match = re.search(pattern, text)
        if match is None:
            raise RuntimeError(f"solara {solara.__version__}: no {what} package in {relative}")
        found.append(match.group(0))
    return found


def cache_dir() -> Path:
    """Where Solara's CDN proxy looks for its files (``solara.settings.assets``)."""
    from solara.server import settings  # slow to import, as above

    return Path(settings.assets.proxy_cache_dir)


def installed(package: str, cache: Path | None = None) -> bool:
    """True if ``name@version`` is unpacked in the cache (its package.json is there)."""
    return ((cache or cache_dir()) / package / "package.json").is_file()


def install(packages: list[str] | None = None, cache: Path | None = None) -> list[str]:
    """Unpack each package (``npm pack`` from the registry) into the cache; skip those there.

    Each package is unpacked into a temporary folder beside the target and renamed into
    place, so an interrupted install leaves no half-filled folder. Returns what was added.
    """
    cache = cache or cache_dir()
    packages = solara_packages() if packages is None else packages
    missing = [p for p in packages if not installed(p, cache)]
    if missing and shutil.which("npm") is None:
        raise RuntimeError(
            "npm not found: install Node.js and npm (e.g. apt-get install npm) to fetch "
            + ", ".join(missing)
        )
    for package in missing:
        target = cache / package
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            done = subprocess.run(
                ["npm", "pack", package, "--silent", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                check=False,
            )
            tarballs = list(Path(tmp).glob("*.tgz"))
            if done.returncode != 0 or not tarballs:
                last = (done.stderr.strip().splitlines() or ["no tarball"])[-1]
                raise RuntimeError(f"npm pack {package} failed: {last}")
            with tarfile.open(tarballs[0]) as tar:
                tar.extractall(tmp, filter="data")
            if target.exists():
                shutil.rmtree(target)
            Path(tmp, "package").rename(target)
    return missing


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.app.assets``: install what is missing; ``--check`` only reports."""
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["--check"]):
        print("usage: python -m sim.app.assets [--check]", file=sys.stderr)
        return 2
    try:
        packages = solara_packages()
        cache = cache_dir()
        if args == ["--check"]:
            missing = [p for p in packages if not installed(p, cache)]
            for p in packages:
                print(f"{'missing ' if p in missing else 'ok      '} {p}")
            return 1 if missing else 0
        added = install(packages, cache)
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"solara assets in {cache}: " + (f"added {', '.join(added)}" if added else "all present"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
