"""Rule-free numerical building blocks: the wall below which compiled code may live.

Nothing here imports the model or names an actor, a doctrine or a weapon: these are
hashes, samplers, reductions, quantiles and tallies, each exact to the last bit of the
plain NumPy expression its docstring names (``tests/test_numerics.py`` holds each one to
that expression). The model's rules, in ``sim.rules``, are plain NumPy that call these.
"""
