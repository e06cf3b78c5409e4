"""Compiled loops (numba) for the hottest steps of a day, behind the core's own functions.

At 10,000 replicates a day of the NumPy core is a few hundred whole-array operations, each
a pass over memory with its own temporary. The loops here fuse the densest chains into one
pass. They are not a second set of rules: each computes, to the last bit, what the NumPy
expression named in its docstring computes (the same operations in the same order, no fast
math, no fused multiply-add), and ``tests/test_fused.py`` holds them to that against the
NumPy code on random inputs and on whole runs. Transcendental functions (``exp``,
``expm1``, ``log``) stay in NumPy, whose SIMD versions round differently from the C
library's.

``ESCALATION_KERNELS=numpy`` turns the loops off (the core then runs its NumPy code);
so does a missing numba. Compiled code is cached on disk after the first run.
"""

from __future__ import annotations

import math
import os

import numpy as np

try:  # pragma: no cover - exercised by the environment, not by a test
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover
    AVAILABLE = False

#: whether the core calls the compiled loops (tests flip it to compare both paths)
ENABLED = AVAILABLE and os.environ.get("ESCALATION_KERNELS", "compiled") != "numpy"


def _jit(func):
    return numba.njit(cache=True, nogil=True, error_model="numpy")(func) if AVAILABLE else func


def _inline(func):
    """A helper compiled into its callers (a call would count references to its arrays)."""
    if not AVAILABLE:
        return func
    return numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")(func)


@_inline
def _strength(fighters, max_fighters, leadership, leadership_loss_effect, r, m):
    """``capability``'s factor of group m in replicate r: fighters and intact leadership."""
    return (fighters[r, m] / max_fighters[m]) * (
        1.0 - leadership_loss_effect * (1.0 - leadership[r, m])
    )


@_inline
def _saturation(stock, half_saturation):
    """``capability``'s saturating share of a weapon's stock."""
    return stock / (stock + half_saturation)


@_jit
def hazard(
    stock,
    half_saturation,
    fighters,
    max_fighters,
    leadership,
    leadership_loss_effect,
    resolve,
    grievance,
    obedience,
    iran_green,
    deterrence,
    truce_until,
    day,
    truce_factor,
    active,
    base_rate,
    reach,
    cap,
    rate,
    total,
):
    """Fills ``cap`` and ``rate`` (R, M, W) and ``total`` (R, M), as the NumPy core does:

    ``cap = capability(...)``, ``rate = attack_propensity(...)[:, :, None] * cap * reach``
    and ``total = sum_last(rate)``, with ``deterrence`` the propensity's exponential. An
    empty ``rate`` is left alone (the day's draw needs only the totals).
    """
    keep_rate = rate.size > 0
    R, M, W = stock.shape
    for r in range(R):
        truce = truce_factor if day <= truce_until[r] else 1.0
        open_ = truce * (1.0 if active[r] else 0.0)
        permission = 1.0 - iran_green[r]
        for m in range(M):
            scale = _strength(fighters, max_fighters, leadership, leadership_loss_effect, r, m)
            propensity = base_rate[m] * (resolve[m] + grievance[r, m])
            propensity = propensity * (1.0 - obedience[m] * permission)
            propensity = propensity * deterrence[r, m]
            propensity = propensity * open_
            acc = 0.0
            for w in range(W):
                c = _saturation(stock[r, m, w], half_saturation[w]) * scale
                cap[r, m, w] = c
                x = (propensity * c) * reach[r, m, w]
                if keep_rate:
                    rate[r, m, w] = x
                acc = x + 0.0 if w == 0 else acc + x
            total[r, m] = acc


@_jit
def target_opportunity(
    protection,
    site_open,
    personnel,
    us_sites,
    drawdown_start,
    never,
    day,
    drawdown_days,
    convoys_per_day,
    convoy_boost,
    convoy_weight,
    out,
):
    """Fills ``out`` (R, T) as ``core.target_opportunity`` does: each US site's ``1 -
    protection`` if it is open and manned, then each convoy route's weight times the
    convoys of the day (more while a drawdown or build-up is under way)."""
    R = out.shape[0]
    S = len(us_sites)
    for r in range(R):
        for i in range(S):
            s = us_sites[i]
            manned = 1.0 if site_open[r, s] and personnel[r, s] > 0 else 0.0
            out[r, i] = (1.0 - protection[r, s]) * manned
        moving = day - drawdown_start[r]
        under_way = drawdown_start[r] != never and moving >= 0 and moving < drawdown_days
        convoys = convoys_per_day * (1.0 + convoy_boost * (1.0 if under_way else 0.0))
        for j in range(len(convoy_weight)):
            out[r, S + j] = convoys * convoy_weight[j]


@_jit
def supply(stock, active, share, rates, capacity):
    """``core.supply``'s shipment: ``stock[active] += share[:, None] * rates[None, :]``, then
    ``np.minimum(stock, capacity[None, :, None], out=stock)``."""
    R, M, W = stock.shape
    # each replicate's M * W stocks as one short row, with its shipment and ceiling
    shipment, ceiling = np.empty(M * W), np.empty(M * W)
    for m in range(M):
        for w in range(W):
            shipment[m * W + w] = share[m] * rates[w]
            ceiling[m * W + w] = capacity[m]
    flat = stock.reshape(R, M * W)
    for r in range(R):
        row = flat[r]
        if active[r]:
            for j in range(M * W):
                row[j] = _at_most(row[j] + shipment[j], ceiling[j])
        else:
            for j in range(M * W):
                row[j] = _at_most(row[j], ceiling[j])


@_inline
def _at_most(x, limit):
    """``np.minimum(x, limit)`` of two floats (a NaN ``x`` is kept)."""
    return x if x <= limit or x != x else limit


@_jit
def decay_and_recover(
    grievance, grievance_decay, leadership, leadership_step, fighters, detained,
    max_fighters, regeneration, recent_attacks, attack_count_decay, recent_baghdad_attacks,
    baghdad_count_decay, sovereignty, sovereignty_decay, us_resolve, resolve_step,
):  # fmt: skip
    """``core.end_of_day``'s decays and recoveries, in its order: grievance, leadership,
    fighters (logistic), attack counts, sovereignty pressure and US resolve."""
    R, M = fighters.shape
    for r in range(R):
        for m in range(M):
            grievance[r, m] *= grievance_decay
            leadership[r, m] = _at_most(leadership[r, m] + leadership_step, 1.0)
            f = fighters[r, m]
            room = 1.0 - (f + detained[r, m]) / max_fighters[m]
            room = room if room >= 0.0 or room != room else 0.0  # np.maximum(room, 0.0)
            fighters[r, m] = f + (regeneration * f) * room
            recent_attacks[r, m] *= attack_count_decay
        recent_baghdad_attacks[r] *= baghdad_count_decay
        sovereignty[r] *= sovereignty_decay
        us_resolve[r] = _at_most(us_resolve[r] + resolve_step, 1.0)


@_jit
def close_day(outcome, war, war_rung, tension_decay, day, rung, tension, max_rung, max_day):
    """``core.end_of_day`` after the withdrawals: a replicate at war sits at least on the
    war's rung, tension decays and takes the day's rung, and a new highest rung is kept
    with its day."""
    for r in range(len(rung)):
        if outcome[r] == war and war_rung > rung[r]:
            rung[r] = war_rung
        tension[r] = tension[r] * tension_decay + rung[r]
        if rung[r] > max_rung[r]:
            max_rung[r] = rung[r]
            max_day[r] = day


@_jit
def choose_target_weapon(u, rows, militia, opportunity, attack_weight, cap):
    """Each attack's flat (target, weapon) index, as ``categorical_from_uniform(u, detail)``
    with ``detail[i, t * W + w] = opportunity[r, t] * attack_weight[m, t * W + w] *
    cap[r, m, w]`` for attack i = (r, m): the running total in the same order (zero terms
    skipped: adding one changes no total), then the number of running totals below ``u``
    times the last.

    Only the (target, weapon) pairs a group's weights reach are visited: no term is
    negative, so the running totals never fall, and the count of those below the
    threshold is the place of the first visited pair whose total is not (the totals of
    the pairs skipped between equal the one before them; a NaN stops both alike)."""
    n = len(rows)
    M, K = attack_weight.shape
    W = cap.shape[2]
    # the pairs each group's weights reach, always with the first (the running total
    # starts there, zero or not)
    reached = np.zeros((M, K), dtype=np.int64)
    n_reached = np.zeros(M, dtype=np.int64)
    for m in range(M):
        for j in range(K):
            if j == 0 or attack_weight[m, j] != 0.0:
                reached[m, n_reached[m]] = j
                n_reached[m] += 1
    target_of, weapon_of = reached // W, reached % W
    out = np.empty(n, dtype=np.int64)
    cum = np.empty(K)
    for i in range(n):
        r, m = rows[i], militia[i]
        pairs, targets, weapons = reached[m], target_of[m], weapon_of[m]
        acc = 0.0
        for p in range(n_reached[m]):
            j = pairs[p]
            x = (opportunity[r, targets[p]] * attack_weight[m, j]) * cap[r, m, weapons[p]]
            if j == 0:
                acc = x
            elif x != 0.0:  # adding a zero leaves the total (and the draw) as it is
                acc = x + acc
            cum[p] = acc
        threshold = u[i] * acc
        p = 0
        while p < n_reached[m] and cum[p] < threshold:
            p += 1
        out[i] = min(pairs[p] if p < n_reached[m] else K, K - 1)
    return out


@_jit
def attack_exposure(
    rows,
    militia,
    weapon,
    target,
    munitions,
    u_intercept,
    stock,
    air_defence,
    personnel,
    target_site,
    personnel_reference,
    casualty_aversion,
    per_munition,
    means,
    intercepted,
):
    """What ``core.attack_outcomes`` does before the casualty draws: each attack fires at
    most what its group holds (at least one), which leaves its stock; it is intercepted
    if its uniform falls under the site's air defence; ``means`` (4, n) gets the expected
    US killed and wounded (exposed by the site's personnel; convoys count 1) and Iraqi
    killed and wounded, none when intercepted. ``per_munition`` is (4, W)."""
    for i in range(len(rows)):
        r, m, w = rows[i], militia[i], weapon[i]
        held = stock[r, m, w]
        fired = min(munitions[i], np.int64(max(1.0, np.ceil(held))))
        munitions[i] = fired
        stock[r, m, w] = max(0.0, held - fired)
        site = target_site[target[i]]
        if site >= 0:
            shield = air_defence[r, site]
            exposure = personnel[r, site] / personnel_reference
        else:
            shield = 0.0
            exposure = 1.0
        intercepted[i] = u_intercept[i] < shield
        aim = (1.0 - casualty_aversion[m]) * (0.0 if intercepted[i] else 1.0)
        means[0, i] = ((fired * per_munition[0, w]) * exposure) * aim
        means[1, i] = ((fired * per_munition[1, w]) * exposure) * aim
        means[2, i] = (fired * per_munition[2, w]) * aim
        means[3, i] = (fired * per_munition[3, w]) * aim


@_inline
def _poisson_count(u, mean, pmf0, max_count):
    """The count at which the running total of the Poisson(``mean``) probabilities (from
    ``pmf0 = exp(-mean)``) first exceeds ``u``, at most ``max_count``."""
    pmf = pmf0
    total = pmf
    k = 0
    while k < max_count and u >= total:
        k += 1
        pmf = pmf * mean / k
        total = total + pmf
    return k


@_jit
def poisson_counts(u, mean, pmf0, max_count, out):
    """``kernels.poisson_from_uniform`` after its exponential: ``_poisson_count`` of each
    element."""
    for i in range(len(u)):
        out[i] = _poisson_count(u[i], mean[i], pmf0[i], max_count)


@_jit
def tally_attacks(
    rows,
    militia,
    weapon,
    target,
    iraqi_killed,
    iraqi_wounded,
    killed_iraqi_today,
    wounded_iraqi_today,
    attacks_today,
    recent_attacks,
    recent_baghdad_attacks,
    target_in_baghdad,
    perceived_risk,
    risk_kept,
):
    """The day's tallies of the attacks, in their order (as ``np.add.at`` adds them), and
    the decay of each attacker's perceived risk by ``risk_kept``."""
    for i in range(len(rows)):
        r, m = rows[i], militia[i]
        killed_iraqi_today[r] += iraqi_killed[i]
        wounded_iraqi_today[r] += iraqi_wounded[i]
        attacks_today[r, weapon[i]] += 1.0
        recent_attacks[r, m] += 1.0
        recent_baghdad_attacks[r] += 1.0 if target_in_baghdad[target[i]] else 0.0
        perceived_risk[r, m] *= risk_kept


@_jit
def record_us_casualties(
    rows, killed, wounded, resolve_loss, day, never, killed_today, wounded_today, resolve,
    first_death_day,
):  # fmt: skip
    """``kernels.record_us_casualties``: the casualties of each event in turn (as
    ``np.add.at`` adds them), the resolve each death costs, the day of a first death."""
    for i in range(len(rows)):
        _record_us_casualty(
            rows[i], killed[i], wounded[i], resolve_loss, day, never, killed_today,
            wounded_today, resolve, first_death_day,
        )  # fmt: skip


@_inline
def _record_us_casualty(
    r, killed, wounded, resolve_loss, day, never, killed_today, wounded_today, resolve,
    first_death_day,
):  # fmt: skip
    """One event's US casualties in replicate r: tallied, the resolve each death costs,
    the day of a first death."""
    killed_today[r] += killed
    wounded_today[r] += wounded
    resolve[r] -= resolve_loss * killed
    if killed > 0 and first_death_day[r] == never:
        first_death_day[r] = day


@_inline
def _drawdown_move(r, drawdown_start, never, day, days, start_troops, target, personnel):
    """``doctrines._drawdown``'s move in replicate r (an active one), if its troop change
    has begun: the troops on the line from ``start_troops`` to ``target`` over ``days``,
    each site scaled by the goal over the troops now (summed as ``sum_last`` sums them)."""
    if drawdown_start[r] == never or day < drawdown_start[r]:
        return
    progress = min((day - drawdown_start[r]) / days, 1.0)
    start = start_troops[r]
    goal = max(start + (target - start) * progress, 0.0)
    S = personnel.shape[1]
    now = _row_sum(personnel[r], S)
    scale = goal / now if now > 0 else 1.0
    for s in range(S):
        personnel[r, s] *= scale


@_jit
def response_trigger(recent_attacks, count_trigger, by_count, rows, militia, by_attack, out):
    """``doctrines.response_trigger``: ``1 - (1 - a) (1 - c)`` in each (replicate, group)
    cell, ``c`` the count trigger's chance, ``a`` that of the group's attack today
    (``by_attack[i]`` for cell ``(rows[i], militia[i])``, else 0)."""
    R, M = recent_attacks.shape
    for r in range(R):
        for m in range(M):
            c = by_count if recent_attacks[r, m] >= count_trigger else 0.0
            out[r, m] = 1.0 - (1.0 - 0.0) * (1.0 - c)
    for i in range(len(rows)):
        r, m = rows[i], militia[i]
        c = by_count if recent_attacks[r, m] >= count_trigger else 0.0
        out[r, m] = 1.0 - (1.0 - by_attack[i]) * (1.0 - c)


@_jit
def rows_equal(a, value, active, rows):
    """``np.flatnonzero(active & (a == value))`` for an (R,) ``a``, into ``rows``;
    returns how many rows."""
    n = 0
    for i in range(len(a)):
        if active[i] and a[i] == value:
            rows[n] = i
            n += 1
    return n


@_jit
def cells_equal(a, value, active, rows, cols):
    """``np.nonzero(active[:, None] & (a == value))`` for an (R, M) ``a``, into ``rows``
    and ``cols``; returns how many cells."""
    n = 0
    for i in range(a.shape[0]):
        if active[i]:
            for j in range(a.shape[1]):
                if a[i, j] == value:
                    rows[n] = i
                    cols[n] = j
                    n += 1
    return n


@_jit
def learn_response(rows, militias, rate, spread, risk):
    """``kernels.learn_response`` for ``rows`` in increasing order (returns False, doing
    nothing, if they are not): in each replicate struck, the struck groups' risk rises
    by ``rate``, the others' by ``spread * (1 - risk)`` (``spread`` = rate x spillover),
    then is clipped to [0, 1]."""
    for i in range(1, len(rows)):
        if rows[i] < rows[i - 1]:
            return False
    M = risk.shape[1]
    struck = np.zeros(M, dtype=np.bool_)
    i = 0
    while i < len(rows):
        r = rows[i]
        while i < len(rows) and rows[i] == r:
            struck[militias[i]] = True
            i += 1
        for m in range(M):
            x = risk[r, m]
            x = x + (rate if struck[m] else spread * (1.0 - x))
            risk[r, m] = min(max(x, 0.0), 1.0)
            struck[m] = False
    return True


# --- random numbers (``rng``): the same splitmix64 hash, one call instead of ~30 ---------

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
TO_UNIT = 2.0**-53


@_jit
def tally_events(
    rows, kinds, day, attack, weapon, tally, attack_counts, columns, values, casualties
):  # fmt: skip
    """``EventLog``'s tallies of one batch of events, in the order NumPy's ``add.at`` makes
    them: each event counts in ``tally[kind, row, 0]``; the first event of a (row, kind)
    on ``day`` counts a day in ``tally[kind, row, 1]`` (``tally[kind, row, 2]`` remembers
    the day last counted); attacks count by weapon (the last column for none); row j of
    ``values`` (C, n) adds into column ``columns[j]`` of ``casualties``. ``kinds``,
    ``attack`` and ``weapon`` hold one value for the batch or one per event."""
    no_weapon = attack_counts.shape[1] - 1
    each_kind, each_attack, each_weapon = len(kinds) > 1, len(attack) > 1, len(weapon) > 1
    for i in range(len(rows)):
        r, k = rows[i], kinds[i if each_kind else 0]
        tally[k, r, 0] += 1
        if tally[k, r, 2] != day:
            tally[k, r, 2] = day
            tally[k, r, 1] += 1
        if attack[i if each_attack else 0]:
            w = weapon[i if each_weapon else 0]
            attack_counts[r, no_weapon if w < 0 else w] += 1
    for j in range(len(columns)):
        for i in range(len(rows)):
            casualties[rows[i], columns[j]] += values[j, i]


@_jit
def row_range(rows):
    """The least and the largest of a non-empty int array, in one pass."""
    lo = hi = rows[0]
    for r in rows:
        lo = min(lo, r)
        hi = max(hi, r)
    return lo, hi


@_jit
def raise_to(a, rows, values):
    """``np.maximum.at(a, rows, values)`` with ``values`` one value or one per row."""
    each = len(values) > 1
    for i in range(len(rows)):
        v = values[i if each else 0]
        if v > a[rows[i]]:
            a[rows[i]] = v


def splitmix(z):
    """splitmix64 finaliser of a uint64 (in place on an array): NumPy's and the loops' hash."""
    z ^= z >> np.uint64(30)
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


_mix = _jit(splitmix)


@_jit
def _unit(z):
    z = _mix(_mix(z) + GOLDEN)
    return np.float64(z >> np.uint64(11)) * TO_UNIT


@_jit
def uniforms(keys, base, slots, out):
    """``out[i, j]``: the uniform of replicate key ``keys[i]`` at counter ``base | j``
    (``rng.RandomStreams.uniform``).

    A slot at a time down a run of replicates (``_hash_keys``, a loop the compiler turns
    into vector instructions), in blocks of ``HASH_BLOCK`` replicates copied into place."""
    R = len(keys)
    salts = _salts(base, slots)
    if slots == 1:
        _hash_keys(keys, salts[0], out.reshape(R))
        return
    column = np.empty(min(R, HASH_BLOCK))
    for start in range(0, R, HASH_BLOCK):
        stop = min(start + HASH_BLOCK, R)
        for j in range(slots):
            _hash_keys(keys[start:stop], salts[j], column)
            for i in range(stop - start):
                out[start + i, j] = column[i]


#: replicates hashed at a time when a draw has several slots
HASH_BLOCK = 256


@_jit
def _salts(base, slots):
    """The counter of each slot of a stream's day, mixed: what a replicate's key is xor'ed
    with."""
    salts = np.empty(slots, dtype=np.uint64)
    for j in range(slots):
        salts[j] = _mix((base | np.uint64(j)) * GOLDEN)
    return salts


@_jit
def _hash_keys(keys, salt, out):
    """``out[i] = _unit(keys[i] ^ salt)`` for the first ``len(keys)`` places of ``out``:
    integer arithmetic the compiler vectorizes (a loop of its own, not inlined: it does
    so only then)."""
    for i in range(len(keys)):
        out[i] = _unit(keys[i] ^ salt)


@_jit
def uniforms_at(keys, rows, bases, slots, out):
    """``out[k, i]``: the uniform of replicate key ``keys[rows[i]]`` at counter ``bases[k]
    | slots[i]`` (``rng.RandomStreams.uniform_at``, one stream per base); ``slots`` holds
    one slot for every row or one per row."""
    for k in range(len(bases)):
        base, row = bases[k], out[k]
        if len(slots) > 1:
            for i in range(len(rows)):
                salt = _mix((base | np.uint64(slots[i])) * GOLDEN)
                row[i] = _unit(keys[rows[i]] ^ salt)
        else:
            salt = _mix((base | np.uint64(slots[0])) * GOLDEN)
            for i in range(len(rows)):
                row[i] = _unit(keys[rows[i]] ^ salt)


@_jit
def below(keys, base, S, threshold, where, row_where, rows, slots):
    """The (row, slot) cells, in row-major order, where ``where`` and ``row_where`` hold
    and the uniform of ``keys[row]`` at counter ``base | slot`` is below ``threshold``;
    writes them into ``rows`` and ``slots`` and returns how many (``rng.RandomStreams.below``:
    ``np.nonzero(where & row_where[:, None] & (uniform < threshold))``) for R = len(keys)
    replicates and S slots. ``threshold`` and ``where`` are 2-d, (R, S) or with an axis
    of 1 that broadcasts; ``row_where`` is (R,) or (1,). Every cell's uniform is drawn,
    as the NumPy expression draws it.

    A slot at a time: its uniforms down all replicates (vector instructions), then which
    cells hit, without a branch; then the hits collected row by row."""
    R = len(keys)
    t_rows, t_cols = threshold.shape[0] > 1, threshold.shape[1] > 1
    w_rows, w_cols = where.shape[0] > 1, where.shape[1] > 1
    each_row = len(row_where) > 1
    salts = _salts(base, S)
    u = np.empty(R)
    hit = np.empty((R, S), dtype=np.uint8)
    for j in range(S):
        _hash_keys(keys, salts[j], u)
        t0 = threshold[0, j if t_cols else 0]
        w0 = where[0, j if w_cols else 0]
        r0 = row_where[0]
        for i in range(R):
            t = threshold[i, j if t_cols else 0] if t_rows else t0
            w = where[i, j if w_cols else 0] if w_rows else w0
            ok = row_where[i] if each_row else r0
            hit[i, j] = (u[i] < t) & w & ok
    n = 0
    for i in range(R):
        for j in range(S):
            rows[n] = i
            slots[n] = j
            n += hit[i, j]
    return n


@_jit
def scale_columns(a, scale, out):
    """``out = scale[None, :] * a`` for a (R, M) array: NumPy's broadcast product without
    its inner loop of M elements per row."""
    R, M = a.shape
    for r in range(R):
        for m in range(M):
            out[r, m] = scale[m] * a[r, m]


#: the longest row ``_pairwise_sum`` adds (NumPy splits longer ones in halves, recursively)
PAIRWISE_BLOCK = 128


@_inline
def _pairwise_sum(a, n):
    """NumPy's pairwise summation of ``a[:n]``, for ``8 <= n <= PAIRWISE_BLOCK``: eight
    running sums, combined as a tree, then the rest one by one."""
    r0, r1, r2, r3 = a[0], a[1], a[2], a[3]
    r4, r5, r6, r7 = a[4], a[5], a[6], a[7]
    i = 8
    end = n - n % 8
    while i < end:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[i]
        i += 1
    return res


@_jit
def row_sums(a, out):
    """``out[i] = sum_last(a[i])`` for a (n, k) array with ``k <= PAIRWISE_BLOCK``, as
    NumPy adds each row (``_row_sum``: one by one below 8 terms, else pairwise)."""
    k = a.shape[1]
    for i in range(a.shape[0]):
        out[i] = _row_sum(a[i], k)


@_jit
def mean_capability(
    stock, half_saturation, fighters, max_fighters, leadership, leadership_loss_effect, out
):
    """``out[r] = sum_last(capability(...)[r].reshape(-1)) / (M * W)``, NumPy's sum included
    (for M * W up to ``PAIRWISE_BLOCK`` terms).

    The M * W terms are computed a term at a time across all replicates (a loop the
    compiler vectorizes, divisions included), then added across replicates in the order
    NumPy adds each replicate's row (``column_sums``)."""
    R, M, W = stock.shape
    terms = np.empty((M * W, R))
    scale = np.empty(R)
    for m in range(M):
        for r in range(R):
            scale[r] = _strength(fighters, max_fighters, leadership, leadership_loss_effect, r, m)
        for w in range(W):
            half, term = half_saturation[w], terms[m * W + w]
            for r in range(R):
                term[r] = _saturation(stock[r, m, w], half) * scale[r]
    column_sums(terms, M * W, out)
    for r in range(R):
        out[r] = out[r] / (M * W)


@_jit
def column_sums(terms, n, out):
    """``out[r] = sum_last(terms[:n, r])``: the sum of each column of the first ``n`` rows
    of ``terms``, term by term in the order ``_row_sum`` adds a row (NumPy's: below 8
    terms one by one from +0.0; from 8 to ``PAIRWISE_BLOCK`` eight running sums combined
    as a tree, then the rest), each step one loop over all columns."""
    R = len(out)
    if n == 0:
        out[:] = 0.0
        return
    if n < 8:
        first = terms[0]
        for r in range(R):
            out[r] = first[r] + 0.0
        for i in range(1, n):
            term = terms[i]
            for r in range(R):
                out[r] += term[r]
        return
    runs = terms[:8].copy()
    end = n - n % 8
    for i in range(8, end, 8):
        for k in range(8):
            run, term = runs[k], terms[i + k]
            for r in range(R):
                run[r] += term[r]
    for r in range(R):
        out[r] = ((runs[0, r] + runs[1, r]) + (runs[2, r] + runs[3, r])) + (
            (runs[4, r] + runs[5, r]) + (runs[6, r] + runs[7, r])
        )
    for i in range(end, n):
        term = terms[i]
        for r in range(R):
            out[r] += term[r]
    for r in range(R):
        out[r] = 0.0 + out[r]


@_inline
def _small_sum(row, n):
    """``sum_last`` of ``n`` < 8 terms: the first plus 0.0, then the others one by one."""
    acc = row[0] + 0.0
    for i in range(1, n):
        acc += row[i]
    return acc


@_inline
def _row_sum(row, n):
    """``sum_last`` of the first ``n`` (at most ``PAIRWISE_BLOCK``) terms of ``row``, in
    NumPy's order."""
    if n == 0:
        return 0.0
    if n < 8:
        return _small_sum(row, n)
    return 0.0 + _pairwise_sum(row, n)


@_jit
def daily_values(
    attacks_today,
    rocket,
    ied,
    drone,
    responses,
    killed_us,
    wounded_us,
    killed_iraqi,
    wounded_iraqi,
    rung,
    tension,
    fighters,
    stock,
    half_saturation,
    max_fighters,
    leadership,
    leadership_loss_effect,
    perceived_risk,
    grievance,
    iran_green,
    personnel,
    us_resolve,
    site_open,
    us_sites,
    sovereignty,
    out,
):
    """``core.daily_values``: row i of ``out`` (C, R) is ``DAILY_COLUMNS[i]``, in its order.

    Written a row (a series) at a time: each is one loop over the replicates, which the
    compiler vectorizes."""
    R, M, W = stock.shape
    for r in range(R):
        out[0, r] = attacks_today[r, rocket]
        out[1, r] = attacks_today[r, ied]
        out[2, r] = attacks_today[r, drone]
    row_sums(attacks_today, out[3])
    for r in range(R):
        out[4, r] = responses[r]
        out[5, r] = killed_us[r]
        out[6, r] = wounded_us[r]
        out[7, r] = killed_iraqi[r]
        out[8, r] = wounded_iraqi[r]
        out[9, r] = rung[r]
        out[10, r] = tension[r]
    row_sums(fighters, out[11])
    mean_capability(
        stock, half_saturation, fighters, max_fighters, leadership, leadership_loss_effect,
        out[12],
    )  # fmt: skip
    row_sums(stock[:, :, rocket], out[13])
    row_sums(perceived_risk, out[14])
    row_sums(grievance, out[15])
    row_sums(personnel, out[17])
    for r in range(R):
        out[14, r] = out[14, r] / M
        out[15, r] = out[15, r] / M
        out[16, r] = iran_green[r]
        out[18, r] = us_resolve[r]
        out[20, r] = sovereignty[r]
        out[19, r] = 0.0
    for s in us_sites:
        for r in range(R):
            out[19, r] += 1.0 if site_open[r, s] else 0.0


#: the counts a row of small whole numbers may hold to be counted rather than bucketed
COUNT_LIMIT = 4096
#: buckets of the value range for the order statistics of other rows
BUCKETS = 1024
#: a histogram is counted in this many interleaved copies, so that a run of equal values
#: (most replicates at zero attacks, at full resolve) does not wait on one counter
LANES = 4
#: values checked at a time before a row is known to be of whole numbers or not
CHECK_BLOCK = 1024
#: rows of other numbers up to this long are sorted whole: sweeping the buckets costs more
#: than the sort below a few hundred values (NumPy's sort is not at hand in compiled code,
#: and numba's slows on long rows of repeated values)
SORT_LIMIT = 256


@_jit
def order_statistics(values, ranks, out, done):
    """The values at ``ranks`` (sorted, distinct) of each row of ``values`` (C, R), as a
    sort would place them: exact, whatever the method. Sets ``done[c]`` for rows it
    handles (all but those with a NaN or an infinity, left to NumPy).

    Rows of whole numbers in [0, ``COUNT_LIMIT``) are counted; other rows of up to
    ``SORT_LIMIT`` values are sorted; longer ones are cut into ``BUCKETS`` equal slices of
    their range (a monotone map, so a lower slice holds lower values), and only the slices
    holding a wanted rank are sorted.
    """
    C, R = values.shape
    counts = np.zeros((max(COUNT_LIMIT, BUCKETS), LANES), dtype=np.int64)
    wanted = np.zeros(BUCKETS, dtype=np.bool_)
    bucket = np.empty(R, dtype=np.int16)
    for c in range(C):
        row = values[c]
        done[c] = _count_whole(row, ranks, out[c], counts)
        if done[c] or R == 0:
            continue
        if R <= SORT_LIMIT:
            done[c] = _sort_select(row, ranks, out[c])
        else:
            done[c] = _bucket_select(row, ranks, out[c], counts, wanted, bucket)


@_jit
def _sort_select(row, ranks, out):
    """The values at ``ranks`` of ``row`` sorted (a copy); False, with nothing written, if
    a value is a NaN or an infinity."""
    for v in row:
        if not math.isfinite(v):
            return False
    ordered = np.sort(row)
    for j in range(len(ranks)):
        out[j] = ordered[ranks[j]]
    return True


#: the bit pattern of ``COUNT_LIMIT`` as a float64: for a non-negative float (the sign
#: bit clear), ordering by bit pattern as an int64 is ordering by value, with an infinity
#: and a NaN above every number
_COUNT_LIMIT_BITS = np.float64(COUNT_LIMIT).view(np.int64)
#: the bits below the sign of a float64, and the bit patterns of the infinities as keys
_MAGNITUDE = np.int64(0x7FFFFFFFFFFFFFFF)
_INF_KEY = np.float64(np.inf).view(np.int64)
_NEG_INF_KEY = np.float64(-np.inf).view(np.int64) ^ _MAGNITUDE


@_jit
def _whole_top(row):
    """The largest value of ``row`` if every value is a whole number in [0,
    ``COUNT_LIMIT``) and none is -0.0 (a sort would place it as it pleases), else -1.
    Checked a block at a time, so that a row of other numbers is given up after its
    first block."""
    bits = row.view(np.int64)
    top = np.int64(0)
    for start in range(0, len(row), CHECK_BLOCK):
        stop = start + CHECK_BLOCK
        negative, fraction, block_top = _whole_block(row[start:stop], bits[start:stop])
        top = max(top, block_top)
        if negative < 0 or fraction != 0 or top >= _COUNT_LIMIT_BITS:
            return -1
    return int(_as_float(top)) if len(row) > 0 else -1


@_jit
def _whole_block(row, bits):
    """The sign bits of ``row`` or'ed, whether a value has a fraction (or is a NaN), and
    the largest bit pattern: integer reductions over the bit patterns, which vectorize
    (a float maximum does not). For non-negative floats the order of the bit patterns
    is the order of the values, an infinity and a NaN above every number. (A loop of its
    own, not inlined: the compiler vectorizes it only so.)"""
    negative = np.int64(0)
    fraction = np.int64(0)
    top = np.int64(0)
    for i in range(len(row)):
        negative |= bits[i]
        top = max(top, bits[i])
        fraction |= np.int64(np.floor(row[i]) != row[i])
    return negative, fraction, top


@_jit
def _finite_range(row):
    """``(lo, hi, finite)``: the least and largest value of ``row`` and whether every
    value is finite, from integer reductions over keys that order floats as numbers
    (the sign bit set: the other bits flipped), which vectorize."""
    bits = row.view(np.int64)
    lo = hi = bits[0] ^ ((bits[0] >> 63) & _MAGNITUDE)
    for i in range(len(row)):
        x = bits[i]
        key = x ^ ((x >> 63) & _MAGNITUDE)
        lo = min(lo, key)
        hi = max(hi, key)
    finite = lo > _NEG_INF_KEY and hi < _INF_KEY
    lo ^= (lo >> 63) & _MAGNITUDE
    hi ^= (hi >> 63) & _MAGNITUDE
    return _as_float(lo), _as_float(hi), finite


@_inline
def _as_float(bits):
    """The float64 of an int64 bit pattern."""
    room = np.empty(1, dtype=np.int64)
    room[0] = bits
    return room.view(np.float64)[0]


@_jit
def _count_whole(row, ranks, out, counts):
    n = len(row)
    top = _whole_top(row) if n > 0 else -1
    if top < 0:
        return False
    end = n - n % LANES
    for i in range(0, end, LANES):
        for lane in range(LANES):
            counts[int(row[i + lane]), lane] += 1
    for i in range(end, n):
        counts[int(row[i]), 0] += 1
    seen = 0
    j = 0
    for k in range(top + 1):
        for lane in range(LANES):
            seen += counts[k, lane]
            counts[k, lane] = 0
        while j < len(ranks) and ranks[j] < seen:
            out[j] = k
            j += 1
    return True


@_jit
def _repeated(part):
    """Whether ``part`` holds one value over and over (zeros of one sign: a sort would
    order +0.0 and -0.0 as it pleases)."""
    first = part[0]
    negative = math.copysign(1.0, first) < 0.0
    for v in part:
        if v != first or (v == 0.0 and (math.copysign(1.0, v) < 0.0) != negative):
            return False
    return True


@_jit
def _bucket_select(row, ranks, out, counts, wanted, bucket):
    n = len(row)
    lo, hi, finite = _finite_range(row)
    if not finite:
        return False
    if lo == hi:
        out[:] = lo
        return True
    scale = BUCKETS / (hi - lo)
    if not math.isfinite(scale):
        return False
    for i in range(n):
        bucket[i] = min(int((row[i] - lo) * scale), BUCKETS - 1)
    end = n - n % LANES
    for i in range(0, end, LANES):
        for lane in range(LANES):
            counts[bucket[i + lane], lane] += 1
    for i in range(end, n):
        counts[bucket[i], 0] += 1
    # the bucket of each wanted rank, and how many lower values lie in lower buckets
    first = np.empty(len(ranks), dtype=np.int64)
    bucket_of = np.empty(len(ranks), dtype=np.int64)
    size_of = np.empty(BUCKETS, dtype=np.int64)
    seen = 0
    j = 0
    for b in range(BUCKETS):
        size = 0
        for lane in range(LANES):
            size += counts[b, lane]
            counts[b, lane] = 0
        size_of[b] = size
        while j < len(ranks) and ranks[j] < seen + size:
            bucket_of[j] = b
            first[j] = seen
            wanted[b] = True
            j += 1
        seen += size
    # the wanted buckets laid out one after the other, each sorted on its own (a higher
    # bucket holds no lower value, so together they are in sorted order); a bucket of one
    # repeated value (many replicates at full resolve, say) needs no sort
    offset = np.empty(BUCKETS, dtype=np.int64)
    size = 0
    for b in range(BUCKETS):
        if wanted[b]:
            offset[b] = size
            size += size_of[b]
    # every value is written, those of the other buckets to one spare place past the end,
    # and only a wanted bucket's place moves on: no branch a value's bucket must predict
    picked = np.empty(size + 1)
    fill = np.empty(BUCKETS, dtype=np.int64)
    step = np.empty(BUCKETS, dtype=np.int64)
    for b in range(BUCKETS):
        fill[b] = offset[b] if wanted[b] else size
        step[b] = 1 if wanted[b] else 0
    for i in range(n):
        b = bucket[i]
        picked[fill[b]] = row[i]
        fill[b] += step[b]
    j = 0
    for b in range(BUCKETS):
        if wanted[b]:
            part = picked[offset[b] : offset[b] + size_of[b]]
            if not _repeated(part):
                part.sort()
            while j < len(ranks) and bucket_of[j] == b:
                out[j] = part[ranks[j] - first[j]]
                j += 1
        wanted[b] = False
    return True


# --- whole doctrines, one pass over the replicates --------------------------------------
#
# Each is the NumPy rule of ``doctrines`` it is named after, replicate by replicate: every
# step of the rule for one replicate before the next replicate (no replicate reads
# another's state, so the order of the replicates does not matter). A uniform is hashed
# only when every other condition of its draw holds: it is a pure function of the
# replicate's key and the stream's salt, so the numbers are those the NumPy rule draws for
# every cell. The events are returned as rows (and targets), in the order the NumPy rule
# logs them, for ``Today.emit``.


@_inline
def _drawn(key, salt):
    """The uniform of the replicate with ``key`` at the counter mixed into ``salt``."""
    return _unit(key ^ salt)


@_inline
def _same_number(x, v):
    """Whether floats ``x`` and ``v`` are the same number: equal and of the same sign (a
    NaN is no number)."""
    return x == v and math.copysign(1.0, x) == math.copysign(1.0, v)


@_inline
def _first_largest(row):
    """``np.argmax`` of a row of numbers without NaNs: the first of its largest values."""
    best = 0
    for m in range(1, len(row)):
        if row[m] > row[best]:
            best = m
    return best


@_jit
def iraq_act(
    keys,
    salts,
    active,
    day,
    never,
    assault_today,
    protection_until,
    protection,
    embassy_sites,
    closure_threat_day,
    recent_attacks,
    fighters,
    detained,
    sovereignty,
    last_vote_day,
    us_resolve,
    truce_until,
    rules,
    release_threshold,
    strike_site_iraq,
    events,
    targets,
    counts,
):
    """``doctrines.iraq_act``: embassy protection, raids, releases, votes and truces.

    ``salts`` holds the raid's, the vote's and the truce's, then one release salt a
    group; ``rules`` the numbers of the doctrine in ``IRAQ_RULES`` order. Row k of
    ``events`` receives the replicates of the raids, the releases (one per group freed),
    the votes and the truces, ``counts[k]`` of them; ``targets`` the raids' and the
    releases' target sites."""
    (protection_days, after_assault, embassy_protection, closure_threat_days,
     raid_rate_threat, raid_rate, raid_fraction, vote_threshold, vote_cooldown,
     vote_probability, resolve_loss, truce_probability, truce_days) = rules  # fmt: skip
    M = fighters.shape[1]
    n_raid = n_release = n_vote = n_truce = 0
    for r in range(len(keys)):
        on = active[r]
        if on and assault_today[r]:
            protection_until[r] = day + protection_days
        level = after_assault if day <= protection_until[r] else embassy_protection
        for s in embassy_sites:  # written where it changes (a strided column)
            if not _same_number(protection[r, s], level):
                protection[r, s] = level
        threat = closure_threat_day[r] != never and day - closure_threat_day[r] < (
            closure_threat_days
        )
        if not on:
            continue
        rate = raid_rate_threat if threat else raid_rate
        if _drawn(keys[r], salts[0]) < rate:
            m = _first_largest(recent_attacks[r])
            taken = fighters[r, m] * raid_fraction
            fighters[r, m] -= taken
            detained[r, m] += taken
            events[0, n_raid] = r
            targets[0, n_raid] = strike_site_iraq[m]
            n_raid += 1
        for m in range(M):
            if detained[r, m] > 0 and _drawn(keys[r], salts[3 + m]) < release_threshold[m]:
                fighters[r, m] += detained[r, m]
                detained[r, m] = 0.0
                events[1, n_release] = r
                targets[1, n_release] = strike_site_iraq[m]
                n_release += 1
        may_vote = sovereignty[r] >= vote_threshold and (
            last_vote_day[r] == never or day - last_vote_day[r] >= vote_cooldown
        )
        if may_vote and _drawn(keys[r], salts[1]) < vote_probability:
            last_vote_day[r] = day
            us_resolve[r] -= resolve_loss
            events[2, n_vote] = r
            n_vote += 1
        if threat and day > truce_until[r] and _drawn(keys[r], salts[2]) < truce_probability:
            truce_until[r] = day + truce_days
            events[3, n_truce] = r
            n_truce += 1
    counts[0], counts[1], counts[2], counts[3] = n_raid, n_release, n_vote, n_truce


@_jit
def israel_interdict(
    keys,
    salts,
    active,
    chance,
    pick_iraq_below,
    pool_iraq,
    pool_else,
    base_share,
    stock_loss,
    blame_probability,
    blame_grievance,
    blame_sovereignty,
    stock,
    grievance,
    sovereignty,
    rows,
    sites,
):
    """``doctrines.israel_interdict`` after its chance of a strike: who is struck (the day's
    uniform below ``chance``), the country and depot (two uniforms), the stock lost, and
    whether the militias blame the US (a third). ``salts``: the strike's, the target's two
    and the blame's. Fills ``rows`` and ``sites`` with the strikes and returns how many."""
    M, W = stock.shape[1], stock.shape[2]
    n = 0
    for r in range(len(keys)):
        if not (active[r] and _drawn(keys[r], salts[0]) < chance[r]):
            continue
        in_iraq = _drawn(keys[r], salts[1]) < pick_iraq_below
        u = _drawn(keys[r], salts[2])
        pool = pool_iraq if in_iraq else pool_else
        site = pool[np.int64(u * len(pool))]
        for m in range(M):
            kept = 1.0 - stock_loss * base_share[m, site]
            for w in range(W):
                stock[r, m, w] *= kept
        if in_iraq and _drawn(keys[r], salts[3]) < blame_probability:
            for m in range(M):
                grievance[r, m] += blame_grievance
            sovereignty[r] += blame_sovereignty
        rows[n] = r
        sites[n] = site
        n += 1
    return n


@_jit
def iran_red_line(keys, salt, active, decapitated_today, retaliation_due, never, chance, due):
    """``doctrines.iran_act``'s red line: a replicate whose leaders were struck today
    schedules a direct strike for day ``due`` if the day's uniform is below ``chance``."""
    for r in range(len(keys)):
        if (
            active[r]
            and decapitated_today[r]
            and retaliation_due[r] == never
            and _drawn(keys[r], salt) < chance
        ):
            retaliation_due[r] = due


@_jit
def iran_diplomacy_and_green(
    keys,
    salt,
    active,
    opening_today,
    talks_open,
    responses_today,
    collapse_chance,
    aversion,
    green_light,
    day,
    restraint_until,
    restraint_green_light,
    talks_green_light,
    iran_green,
    opened,
    ended,
    counts,
):
    """``doctrines._diplomacy`` (talks open on their day; a day of US strikes may end
    them) and the green light ``iran_act`` then gives its proxies: ``green_light *
    aversion`` (the war aversion's exponential of the tension), capped while Iran
    restrains them and while talks are open. Fills ``opened`` and ``ended`` with the
    replicates of each event and ``counts`` with how many."""
    n_opened = n_ended = 0
    for r in range(len(keys)):
        if active[r]:
            if opening_today and not talks_open[r]:
                talks_open[r] = True
                opened[n_opened] = r
                n_opened += 1
            if talks_open[r] and responses_today[r] > 0 and _drawn(keys[r], salt) < collapse_chance:
                talks_open[r] = False
                ended[n_ended] = r
                n_ended += 1
        green = green_light * aversion[r]
        if day < restraint_until[r]:
            green = min(green, restraint_green_light)
        if talks_open[r]:
            green = min(green, talks_green_light)
        iran_green[r] = green
    counts[0], counts[1] = n_opened, n_ended


#: ``doctrine.us.response_scaling`` as ``us_decide_strikes`` reads it
SCALING_CODES = {"proportional": 1, "escalating": 2}


@_jit
def us_decide_strikes(
    keys,
    response_salts,
    location_salts,
    chance,
    active,
    response_due,
    never,
    due_day,
    scaling,
    harm,
    strikes_on_group,
    escalation_step,
    in_iraq_probability,
    response_size,
    response_in_iraq,
):
    """``doctrines._decide_strikes`` after ``response_trigger``: in each cell of an active
    replicate with no strike pending, the day's uniform below ``chance`` decides a strike
    on the group, due on ``due_day``, of ``strike_size`` (``scaling``: 1 proportional to
    the ``harm`` the group did today, 2 escalating with the strikes it has had, else 1),
    in Iraq if a second uniform is below ``in_iraq_probability``. A cell whose chance is
    not above 0 cannot be drawn (a uniform is at least 0) and is not hashed."""
    R, M = chance.shape
    for r in range(R):
        if not active[r]:
            continue
        for m in range(M):
            p = chance[r, m]
            if response_due[r, m] != never or not p > 0.0:
                continue
            if _drawn(keys[r], response_salts[m]) < p:
                response_due[r, m] = due_day
                if scaling == 1:
                    size = min(0.5 * (1.0 + harm[r, m]), 3.0)
                elif scaling == 2:
                    size = 1.0 + escalation_step * strikes_on_group[r, m]
                else:
                    size = 1.0
                response_size[r, m] = size
                response_in_iraq[r, m] = _drawn(keys[r], location_salts[m]) < in_iraq_probability


@_jit
def us_signals(
    keys,
    salt,
    active,
    attacks_today,
    show_probability,
    risk_signal,
    perceived_risk,
    closure_threat,
    closure_threat_day,
    never,
    recent_baghdad_attacks,
    baghdad_attacks,
    day,
    shown,
    threatened,
    counts,
):
    """``doctrines._posture``'s signals: a show of force after a day of attacks (the day's
    uniform below ``show_probability``) raises every group's perceived risk by
    ``risk_signal`` of what is left; a run of ``baghdad_attacks`` attacks on Baghdad brings
    the embassy closure threat (once, if the doctrine makes it). Fills ``shown`` and
    ``threatened`` with the replicates of each event and ``counts`` with how many."""
    W = attacks_today.shape[1]
    n_shown = n_threatened = 0
    for r in range(len(keys)):
        if not active[r]:
            continue
        if _row_sum(attacks_today[r], W) > 0 and _drawn(keys[r], salt) < show_probability:
            for m in range(perceived_risk.shape[1]):
                perceived_risk[r, m] += risk_signal * (1.0 - perceived_risk[r, m])
            shown[n_shown] = r
            n_shown += 1
        if (
            closure_threat
            and closure_threat_day[r] == never
            and recent_baghdad_attacks[r] >= baghdad_attacks
        ):
            closure_threat_day[r] = day
            threatened[n_threatened] = r
            n_threatened += 1
    counts[0], counts[1] = n_shown, n_threatened


@_jit
def us_execute_strikes(
    active,
    response_due,
    day,
    never,
    response_in_iraq,
    response_size,
    fighter_loss,
    stock_loss,
    grievance_per_strike,
    learning_rate,
    learning_spread,
    sovereignty_cost,
    assault_until_day,
    fighters,
    stock,
    grievance,
    recent_attacks,
    strikes_on_group,
    perceived_risk,
    responses_today,
    sovereignty,
    assault_until,
    assault_militia,
    rows,
    militia,
    in_iraq,
    killed,
):
    """``doctrines._execute_strikes``: every strike due today (cells in row-major order)
    kills fighters and destroys stock by its size, feeds the group's grievance, resets its
    attack count and counts on the group; the replicate's groups then learn from its
    strikes (``kernels.learn_response``); a strike in Iraq costs sovereignty and opens the
    window of an embassy assault (by the last group struck there). Fills ``rows``,
    ``militia``, ``in_iraq`` and ``killed`` with the strikes and returns how many."""
    M, W = fighters.shape[1], stock.shape[2]
    struck = np.zeros(M, dtype=np.bool_)
    n = 0
    for r in range(len(active)):
        if not active[r]:
            continue
        first = n
        for m in range(M):
            if response_due[r, m] != day:
                continue
            response_due[r, m] = never
            size = response_size[r, m]
            dead = fighters[r, m] * min(fighter_loss * size, 1.0)
            fighters[r, m] -= dead
            kept = 1.0 - min(stock_loss * size, 1.0)
            for w in range(W):
                stock[r, m, w] *= kept
            grievance[r, m] += grievance_per_strike[m]
            recent_attacks[r, m] = 0.0
            strikes_on_group[r, m] += 1
            struck[m] = True
            rows[n], militia[n], in_iraq[n], killed[n] = r, m, response_in_iraq[r, m], dead
            n += 1
        if n == first:
            continue
        for m in range(M):
            x = perceived_risk[r, m]
            x = x + (learning_rate if struck[m] else learning_spread * (1.0 - x))
            perceived_risk[r, m] = min(max(x, 0.0), 1.0)
            struck[m] = False
        for _ in range(first, n):
            responses_today[r] += 1.0
        for i in range(first, n):
            if in_iraq[i]:
                sovereignty[r] += sovereignty_cost
                assault_until[r] = assault_until_day
                assault_militia[r] = militia[i]
    return n


@_jit
def embassy_assault(
    keys,
    salt,
    active,
    day,
    never,
    assault_chance,
    protection,
    embassy,
    assault_until,
    assault_today,
    recent_baghdad_attacks,
    rows,
):
    """``core.embassy_assault``: in a replicate whose assault window is open, the day's
    uniform below ``assault_chance`` times the embassy's lack of protection storms the
    embassy (the window closes; the day counts one attack on Baghdad more). Fills
    ``rows`` with the assaults and returns how many."""
    n = 0
    for r in range(len(keys)):
        if not (active[r] and assault_until[r] >= day):
            continue
        chance = assault_chance * (1.0 - protection[r, embassy])
        if _drawn(keys[r], salt) < chance:
            assault_until[r] = never
            assault_today[r] = True
            recent_baghdad_attacks[r] += 1.0
            rows[n] = r
            n += 1
    return n


@_jit
def attack_outcomes(
    u_choice,
    log_u_salvo,
    stop,
    log_continue,
    u_intercept,
    rows,
    militia,
    opportunity,
    attack_weight,
    cap,
    stock,
    air_defence,
    personnel,
    target_site,
    personnel_reference,
    casualty_aversion,
    per_munition,
    target,
    weapon,
    munitions,
    intercepted,
    means,
):
    """``core.militia_attacks`` from the attacks' uniforms to their expected casualties:
    each attack's (target, weapon) (``choose_target_weapon``), its salvo (the geometric
    count of ``kernels.geometric_from_uniform``, from ``log_u_salvo = log1p(-u)`` and,
    for each group and weapon, the ``stop`` probability of its mean salvo and the table
    ``log_continue = log1p(-min(stop, 1 - 1e-12))``), then ``attack_exposure``."""
    W = cap.shape[2]
    choice = choose_target_weapon(u_choice, rows, militia, opportunity, attack_weight, cap)
    for i in range(len(rows)):
        m, w = militia[i], choice[i] % W
        target[i], weapon[i] = choice[i] // W, w
        if stop[m, w] >= 1.0:  # a mean salvo of at most one: one munition
            munitions[i] = 1
        else:
            munitions[i] = np.int64(1 + np.floor(log_u_salvo[i] / log_continue[m, w]))
    attack_exposure(
        rows, militia, weapon, target, munitions, u_intercept, stock, air_defence, personnel,
        target_site, personnel_reference, casualty_aversion, per_munition, means,
        intercepted,
    )  # fmt: skip


@_jit
def attack_tallies(
    u_casualties,
    means,
    pmf0,
    max_count,
    rows,
    militia,
    weapon,
    target,
    resolve_loss,
    day,
    never,
    killed_us_today,
    wounded_us_today,
    us_resolve,
    first_us_death_day,
    killed_iraqi_today,
    wounded_iraqi_today,
    attacks_today,
    recent_attacks,
    recent_baghdad_attacks,
    target_in_baghdad,
    perceived_risk,
    risk_kept,
    counts,
):
    """``core.militia_attacks`` from the expected casualties on: the four casualty counts
    of every attack (``poisson_counts``, from ``pmf0 = exp(-means)``, into ``counts``
    (4, n)), the US casualties (``record_us_casualties``) and the day's tallies
    (``tally_attacks``)."""
    n = len(rows)
    flat = counts.reshape(-1)
    poisson_counts(u_casualties.reshape(-1), means.reshape(-1), pmf0.reshape(-1), max_count, flat)
    killed, wounded = counts[0].astype(np.float64), counts[1].astype(np.float64)
    record_us_casualties(
        rows, killed, wounded, resolve_loss, day, never, killed_us_today, wounded_us_today,
        us_resolve, first_us_death_day,
    )  # fmt: skip
    tally_attacks(
        rows, militia, weapon, target, counts[2], counts[3], killed_iraqi_today,
        wounded_iraqi_today, attacks_today, recent_attacks, recent_baghdad_attacks,
        target_in_baghdad, perceived_risk, risk_kept,
    )  # fmt: skip
    return n


@_jit
def us_decide_decapitation(
    keys,
    salt,
    active,
    assault_today,
    decapitation_due,
    never,
    leadership,
    assault_militia,
    chance,
    due_day,
    decapitation_target,
):
    """``doctrines._decide_decapitation``: after an assault on the embassy, a leadership
    strike on the group that stormed it, due on ``due_day``, if none is pending, the
    group's leaders have rebuilt themselves and the day's uniform is below ``chance``."""
    for r in range(len(keys)):
        if not (active[r] and assault_today[r] and decapitation_due[r] == never):
            continue
        if leadership[r, assault_militia[r]] >= 1.0 and _drawn(keys[r], salt) < chance:
            decapitation_due[r] = due_day
            decapitation_target[r] = assault_militia[r]


@_jit
def us_posture_moves(
    active,
    day,
    never,
    start_on_first_death,
    first_us_death_day,
    rules,
    consolidation_start,
    drawdown_start,
    upgrade_due,
    consolidation_sites,
    sites_closed,
    kept_sites,
    personnel,
    site_open,
    posture_start_troops,
    air_defence,
    us_sites,
    events,
    closed_sites,
    counts,
):
    """``doctrines._posture`` after its signals: the posture change begun at the first US
    death (``start_posture``, if ``start_on_first_death``), the day's site closing
    (``_consolidate``: the site's people move to the open US sites in Iraq,
    ``kept_sites``, in proportion to those there), the troop change (``_drawdown``: the
    troops when it begins, then its move) and the air-defence upgrade due. ``rules``:
    the consolidation and upgrade lags, the days between closings, the troop target, the
    drawdown's days and the upgrade. Row k of ``events`` receives the replicates of the
    sites closed, the drawdowns and build-ups begun and the upgrades, ``counts[k]`` of
    them; ``closed_sites`` the sites closed."""
    lag, upgrade_lag, interval, target, days, upgrade = rules
    n_listed, S = len(consolidation_sites), personnel.shape[1]
    n_closed = n_down = n_up = n_upgraded = 0
    for r in range(len(active)):
        if not active[r]:
            continue
        starting = start_on_first_death and first_us_death_day[r] == day
        if starting and consolidation_start[r] == never:  # start_posture
            consolidation_start[r] = day + lag
            if drawdown_start[r] == never:
                drawdown_start[r] = day + lag
            upgrade_due[r] = day + upgrade_lag
        start = consolidation_start[r]
        if (
            n_listed > 0
            and start != never
            and day >= start
            and sites_closed[r] < n_listed
            and (day - start) % interval == 0
        ):
            site = consolidation_sites[sites_closed[r]]
            moved = personnel[r, site]
            personnel[r, site] = 0.0
            site_open[r, site] = False
            sites_closed[r] += 1
            weight = np.empty(S)
            for s in range(S):
                weight[s] = personnel[r, s] * (1.0 if site_open[r, s] and kept_sites[s] else 0.0)
            total = _row_sum(weight, S)
            for s in range(S):
                personnel[r, s] += (moved * weight[s]) / total if total > 0 else 0.0
            events[0, n_closed] = r
            closed_sites[n_closed] = site
            n_closed += 1
        if drawdown_start[r] == day:
            troops = _row_sum(personnel[r], S)
            posture_start_troops[r] = troops
            if troops > target:
                events[1, n_down] = r
                n_down += 1
            else:
                events[2, n_up] = r
                n_up += 1
        _drawdown_move(r, drawdown_start, never, day, days, posture_start_troops, target, personnel)
        if upgrade_due[r] == day:
            upgrade_due[r] = never
            for s in us_sites:
                air_defence[r, s] = 1.0 - (1.0 - air_defence[r, s]) * (1.0 - upgrade)
            events[3, n_upgraded] = r
            n_upgraded += 1
    counts[0], counts[1], counts[2], counts[3] = n_closed, n_down, n_up, n_upgraded


@_jit
def iran_missile_means(rows, targets, personnel, reference, kill_scale, spared, wound_scale, means):
    """``doctrines._direct_strike``'s expected US killed (``means[0]``) and wounded
    (``means[1]``), (n, T), at each target of each striking replicate: ``(kill_scale *
    exposure) * spared`` and ``wound_scale * exposure``, the exposure being the site's
    personnel over ``reference``."""
    for i in range(len(rows)):
        r = rows[i]
        for j in range(len(targets)):
            exposure = personnel[r, targets[j]] / reference
            means[0, i, j] = (kill_scale * exposure) * spared
            means[1, i, j] = wound_scale * exposure


@_jit
def iran_direct_strike(
    keys,
    killed_salts,
    wounded_salts,
    war_salt,
    rows,
    means,
    pmf0,
    max_count,
    war_if_kills,
    war_if_spared,
    resolve_loss,
    day,
    never,
    killed_today,
    wounded_today,
    resolve,
    first_death_day,
    retaliation_due,
    restraint_until,
    restraint_end,
    counts,
    war,
):
    """``doctrines._direct_strike`` after its exponential (``pmf0 = exp(-means)``): in each
    striking replicate the strike is no longer due, the killed and wounded at each target
    (``_poisson_count`` of the day's uniforms, into ``counts`` (2, n, T)) are tallied
    (``_record_us_casualty``, target by target), the proxies are reined in until
    ``restraint_end``, and ``us_answer_iran``'s uniform decides on war (the replicates
    into ``war``; returns how many)."""
    n_war = 0
    for i in range(len(rows)):
        r, key = rows[i], keys[rows[i]]
        retaliation_due[r] = never
        killed_any = False
        for j in range(counts.shape[2]):
            u_killed, u_wounded = _drawn(key, killed_salts[j]), _drawn(key, wounded_salts[j])
            killed = _poisson_count(u_killed, means[0, i, j], pmf0[0, i, j], max_count)
            wounded = _poisson_count(u_wounded, means[1, i, j], pmf0[1, i, j], max_count)
            counts[0, i, j], counts[1, i, j] = killed, wounded
            _record_us_casualty(
                r, float(killed), float(wounded), resolve_loss, day, never, killed_today,
                wounded_today, resolve, first_death_day,
            )  # fmt: skip
            killed_any = killed_any or killed > 0
        restraint_until[r] = restraint_end
        if _drawn(key, war_salt) < (war_if_kills if killed_any else war_if_spared):
            war[n_war] = r
            n_war += 1
    return n_war
