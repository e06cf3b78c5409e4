"""The wargames a server holds: each game by its short code, each team by its token.

A game lives in memory from its creation until its debrief is read and nobody touches it
for :data:`~sim.app.game.ABANDONED_AFTER` seconds (or it is abandoned before its end): every
request sweeps out games gone quiet, so an abandoned game's engine and debrief are freed.
Its engine is freed as soon as its debrief is built (:meth:`sim.app.game.Game.finish`).
"""

from __future__ import annotations

import secrets
import threading
import time

from sim.app.form import checked
from sim.app.game import ABANDONED_AFTER, NAMED, ROLES, Game, GameError, new_code
from sim.app.seminar import SCENARIO_DOCTRINE, preset_values, scenarios, us_doctrines

#: games a server holds at once (each is a few megabytes)
MAX_GAMES = 40
#: the clock a decision may be given (seconds; 0 or empty: no clock)
MAX_TIMER = 3600


class UnknownGameError(GameError):
    """A code no game has (or no longer has)."""


class NotATeamError(GameError):
    """A request without the token of a team that joined the game."""


class Games:
    """The games of one server."""

    def __init__(self) -> None:
        self._games: dict[str, Game] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._games)

    def sweep(self, now: float | None = None) -> None:
        """Drop the games nobody has touched for :data:`ABANDONED_AFTER` seconds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            for code in [c for c, g in self._games.items() if now - g.touched > ABANDONED_AFTER]:
                del self._games[code]

    def create(self, form: dict) -> tuple[Game, str]:
        """A new game from the page's form; the creating team's token."""
        self.sweep()
        play = str(form.get("play", ""))
        if play not in ROLES:
            raise GameError(f"play: {play!r} is not a role (choose us or iran)")
        other = str(form.get("other", "model"))
        if other not in ("model", "team"):
            raise GameError(f"other: {other!r} is not allowed (choose model or team)")
        timer = _timer(form.get("timer", ""))
        scenario = str(form.get("scenario", "dec2019_crisis"))
        doctrine = str(form.get("doctrine", SCENARIO_DOCTRINE))
        settings = {
            "scenario": scenario,
            "doctrine_a": doctrine,
            "doctrine_b": SCENARIO_DOCTRINE,
            "seed": str(form.get("seed", "0")),
        }
        if scenario not in scenarios():
            raise GameError(f"scenario: {scenario!r} is not an option ({', '.join(scenarios())})")
        doctrines = [SCENARIO_DOCTRINE, *us_doctrines()]
        if doctrine not in doctrines:
            raise GameError(f"doctrine: {doctrine!r} is not an option ({', '.join(doctrines)})")
        values = preset_values(scenario, doctrine)
        settings.update({name: f"{value:g}" for name, value in values.items()})
        _, config, _ = checked(settings)  # FormError names a bad field
        roles = tuple(r for r in ROLES if r == play or other == "team")
        with self._lock:
            if len(self._games) >= MAX_GAMES:
                raise GameError(f"this server holds {MAX_GAMES} games already: end one first")
            code = new_code(self._games)
            game = Game(config, roles, timer=timer, code=code)
            self._games[code] = game
        return game, self._join(game, play)

    def _join(self, game: Game, role: str) -> str:
        if role not in game.roles:
            played = " and ".join(NAMED[r] for r in game.roles)
            raise GameError(f"role: {NAMED[role]} is played by the model (teams play: {played})")
        if role in game.tokens:
            raise GameError(f"role: {NAMED[role]} is already taken in game {game.code}")
        token = secrets.token_urlsafe(12)
        game.tokens[role] = token
        return token

    def join(self, code: str, role: str) -> tuple[Game, str]:
        """Join game ``code`` as ``role``: the team's token."""
        game = self.get(code)
        if role not in ROLES:
            raise GameError(f"role: {role!r} is not a role (choose us or iran)")
        with game.lock:
            return game, self._join(game, role)

    def get(self, code: str) -> Game:
        self.sweep()
        game = self._games.get(str(code).strip().upper())
        if game is None:
            raise UnknownGameError(
                f"no game has the code {code!r} (check it; a game left alone "
                f"for {ABANDONED_AFTER // 60} minutes ends)"
            )
        game.touched = time.monotonic()
        return game

    def role_of(self, game: Game, token) -> str:
        for role, known in game.tokens.items():
            if token and secrets.compare_digest(str(token), known):
                return role
        raise NotATeamError("this device has not joined the game: join it with its code")

    def end(self, code: str) -> None:
        """Forget game ``code`` (its memory is freed)."""
        with self._lock:
            self._games.pop(code, None)


def _timer(text) -> int | None:
    typed = str(text).strip()
    if typed in ("", "0"):
        return None
    if not typed.isdigit() or not 10 <= int(typed) <= MAX_TIMER:
        raise GameError(
            f"timer: {typed!r} is not allowed (seconds from 10 to {MAX_TIMER}, "
            "or empty for no clock)"
        )
    return int(typed)
