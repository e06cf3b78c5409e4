"""Analyses of many parameter points at once, run as parameter-batched designs:

- :mod:`sim.analysis.sensitivity`: global sensitivity (SALib's Sobol and Morris methods),
  the ``escalation-sensitivity`` command;
- :mod:`sim.analysis.tournament`: every US doctrine against every Iranian doctrine across
  sampled worlds (expected and worst-decile outcomes, regret, robustness), the
  ``escalation-tournament`` command;
- :mod:`sim.analysis.discover`: scenario discovery (the EMA Workbench's PRIM, extra-trees
  feature scores), the ``escalation-discover`` command.

They share :mod:`sim.analysis.factors` (the uncertain parameters and their ranges),
:mod:`sim.analysis.outputs` (what is measured of each point) and
:mod:`sim.analysis.command` (running a design with a progress bar, writing a results
folder).
"""
