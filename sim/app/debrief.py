"""The wargame's debrief: the game beside its doctrine's run, the doctrine's spread, the log.

At the end of a game (:class:`sim.app.game.Game`) its two rows are packaged: row 0 is the
game, row 1 the same replicate with every actor under its doctrine (the same random draws:
common random numbers). The debrief holds

- the timeline: each day's news in the game and in the doctrine's run;
- each decision, what the doctrine's actor did in the two weeks after it in its own run,
  and the two runs' tolls over those two weeks;
- the doctrine's outcome distribution over ``replicates`` replicates from the game's
  start (:func:`sim.app.ensemble.side_spread`), with the game's outcome and the doctrine's
  run of the game's replicate marked;
- files: a PNG of it all, a markdown handout, and the game's log as CSV with the columns
  of ``events.parquet`` (:func:`read_log` reads it back).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from sim.app.ensemble import OUTCOMES, side_spread
from sim.app.history import ATTACK_KINDS, ROLES, US_STRIKE_KINDS, news

#: days after a decision whose toll the debrief shows
AFTER_DAYS = 14
#: the actor whose acts a played role's doctrine decides
ACTOR_OF = {"us": "us", "iran": "iran"}


def _toll(events: pd.DataFrame, first: int, last: int) -> dict:
    days = events["day"].to_numpy()
    window = events[(days >= first) & (days <= last)]
    kind = window["kind"].astype(str)
    return {
        "attacks": int(kind.isin(ATTACK_KINDS).sum()),
        "killed_us": int(window["killed_us"].sum()),
        "us_strikes": int(kind.isin(US_STRIKE_KINDS).sum()),
        "highest_rung": int(window["rung"].max()) if len(window) else 0,
    }


def build(game, replicates: int) -> dict:
    """The debrief of ``game`` (its engine is read here for the last time)."""
    game_run, doctrine_run = game.sim.results()
    names = game.names
    runs = {"game": game_run, "doctrine": doctrine_run}
    days = game.sim.day
    timeline = []
    by_day = {
        side: {int(d): frame for d, frame in run.events.groupby("day", sort=True)}
        for side, run in runs.items()
    }
    for day in range(days):
        lines = {
            side: news(by_day[side][day], names) if day in by_day[side] else [] for side in runs
        }
        if lines["game"] or lines["doctrine"]:
            timeline.append({"day": day, "date": game._date(day), **lines})
    decisions = []
    for d in game.decisions:
        last = min(d.day + AFTER_DAYS, days - 1)
        doctrine = doctrine_run.events
        acts = doctrine[
            (doctrine["actor"].astype(str) == ACTOR_OF[d.role])
            & doctrine["day"].between(d.day, last)
        ]
        decisions.append(
            {
                "day": d.day,
                "date": d.date,
                "role": ROLES[d.role],
                "choice": d.said + (" (time ran out)" if d.timed_out else ""),
                "doctrine_did": [
                    f"{game._date(int(e_day))}: {line}"
                    for e_day, line in zip(acts["day"], news(acts, names), strict=True)
                ],
                "game_after": _toll(game_run.events, d.day, last),
                "doctrine_after": _toll(doctrine_run.events, d.day, last),
            }
        )
    spread = side_spread(game.config, replicates)
    outcomes = {}
    for key, label in OUTCOMES.items():
        values = np.asarray(spread[key])
        mine = float(np.rint(game_run.replicates[key].iloc[0]))
        theirs = float(np.rint(doctrine_run.replicates[key].iloc[0]))
        outcomes[key] = {
            "label": label,
            "game": mine,
            "doctrine_same_draws": theirs,
            "values": values.tolist(),
            "share_below": float(np.mean(values < mine)),
            "share_above": float(np.mean(values > mine)),
            "median": float(np.median(values)),
        }
    rungs = {r.level: r.name for r in game.config.ladder.rungs}
    data = {
        "code": game.code,
        "seed": game.config.seed,
        "replicate": game.replicate,
        "scenario": game.config.scenario.name,
        "roles": [ROLES[r] for r in game.roles],
        "doctrines": {
            "us": game.config.doctrine.us.name,
            "iran": game.config.doctrine.iran.name,
        },
        "days": days,
        "end": {side: _end(run, rungs) for side, run in runs.items()},
        "rung": {side: run.daily["rung"].astype(int).tolist() for side, run in runs.items()},
        "timeline": timeline,
        "decisions": decisions,
        "outcomes": outcomes,
        "replicates": replicates,
    }
    data["files"] = {
        "png": figure(data),
        "md": handout(data),
        "csv": log_csv(game_run.events),
    }
    return data


def _end(run, rungs: dict[int, str]) -> dict:
    row = run.replicates.iloc[0]
    top = int(row["max_rung"])
    return {
        "outcome": str(row["outcome"]),
        "highest_rung": f"{top} {rungs.get(top, '')}".strip(),
        "killed_us": int(round(row["killed_us"])),
        "attacks": int(row["attacks"]),
    }


def log_csv(events: pd.DataFrame) -> bytes:
    """The game's events as CSV, the columns of ``events.parquet`` in their order."""
    return events.to_csv(index=False).encode("utf-8")


def read_log(path_or_buffer) -> pd.DataFrame:
    """A game's log (CSV) back as a frame with the types of ``events.parquet``'s columns."""
    frame = pd.read_csv(path_or_buffer, keep_default_na=False, na_values={"date": [""]})
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def figure(data: dict) -> bytes:
    """The debrief as a PNG: the rung day by day in the game and the doctrine's run, the
    decisions marked; the doctrine's outcome distribution with the game marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 7.5), dpi=100)
    grid = fig.add_gridspec(2, 3, height_ratios=[1.1, 1], hspace=0.45, wspace=0.3)
    top = fig.add_subplot(grid[0, :])
    for side, colour, label in (
        ("doctrine", "#999999", "doctrine (same draws)"),
        ("game", "#c0392b", "the game"),
    ):
        top.step(
            range(len(data["rung"][side])),
            data["rung"][side],
            where="post",
            color=colour,
            label=label,
            lw=1.6 if side == "game" else 1.2,
        )
    for d in data["decisions"]:
        top.axvline(d["day"], color="#2c3e50", alpha=0.25, lw=0.8)
    top.set_xlabel("day of the game (vertical lines: the teams' decisions)")
    top.set_ylabel("rung of the day")
    top.legend(loc="upper right", frameon=False)
    top.set_title(
        f"Wargame {data['code']}: {data['scenario']}, seed {data['seed']}; "
        f"{', '.join(data['roles']) or 'no team'} played; the game ended "
        f"{data['end']['game']['outcome']}, the doctrine's run "
        f"{data['end']['doctrine']['outcome']}",
        fontsize=10,
    )
    for i, o in enumerate(data["outcomes"].values()):
        ax = fig.add_subplot(grid[1, i])
        values = np.asarray(o["values"])
        bins = np.arange(values.min(), max(values.max(), o["game"]) + 2) - 0.5
        if len(bins) > 40:
            bins = 30
        ax.hist(values, bins=bins, color="#bbbbbb")
        ax.axvline(o["game"], color="#c0392b", lw=2, label=f"game: {o['game']:g}")
        ax.axvline(
            o["doctrine_same_draws"],
            color="#2c3e50",
            lw=1.2,
            ls="--",
            label=f"doctrine, same draws: {o['doctrine_same_draws']:g}",
        )
        ax.set_title(f"{o['label']}: doctrine over {data['replicates']:,} replicates", fontsize=9)
        ax.legend(fontsize=8, frameon=False)
        ax.set_ylabel("replicates")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def handout(data: dict) -> str:
    """The debrief as a markdown handout (the PNG beside it: ``debrief.png``)."""
    end = data["end"]
    lines = [
        f"# Wargame debrief: {data['scenario']}, seed {data['seed']}",
        "",
        f"Played: {', '.join(data['roles']) or 'no team'}. The model played the others "
        f"(US doctrine `{data['doctrines']['us']}`, Iran doctrine `{data['doctrines']['iran']}`).",
        "The doctrine's run is the same replicate with every actor under its doctrine: the "
        "same random draws, so every difference comes from the teams' decisions.",
        "",
        "![debrief](debrief.png)",
        "",
        "| | the game | the doctrine, same draws |",
        "| --- | --- | --- |",
    ]
    for key, label in (
        ("outcome", "outcome"),
        ("highest_rung", "highest rung"),
        ("attacks", "militia attacks"),
        ("killed_us", "US killed"),
    ):
        lines.append(f"| {label} | {end['game'][key]} | {end['doctrine'][key]} |")
    lines += ["", f"## Where the game falls among {data['replicates']:,} doctrine runs", ""]
    lines += [
        "| outcome | game | doctrine median | doctrine runs below | above |",
        "| --- | --- | --- | --- | --- |",
    ]
    for o in data["outcomes"].values():
        lines.append(
            f"| {o['label']} | {o['game']:g} | {o['median']:g} | "
            f"{o['share_below']:.0%} | {o['share_above']:.0%} |"
        )
    lines += ["", "## Decisions and their consequences", ""]
    lines += [f"Tolls over the {AFTER_DAYS} days from each decision (game / doctrine's run).", ""]
    lines += [
        "| date | team | decision | attacks | US killed | US strikes | top rung |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for d in data["decisions"]:
        g, o = d["game_after"], d["doctrine_after"]
        lines.append(
            f"| {d['date']} | {d['role']} | {d['choice']} | {g['attacks']} / {o['attacks']} | "
            f"{g['killed_us']} / {o['killed_us']} | {g['us_strikes']} / {o['us_strikes']} | "
            f"{g['highest_rung']} / {o['highest_rung']} |"
        )
    lines += [
        "",
        "## Questions",
        "",
        "1. Which decision moved the game furthest from the doctrine's run, and why?",
        "2. What did you not know when you decided (who attacked, what the other side "
        "would do)? Which of your beliefs were wrong?",
        "3. Is the game's outcome typical of the doctrine's runs, or an outlier?",
        "",
    ]
    return "\n".join(lines)
