"""The EMA Workbench adapter: the model as an EMA Workbench model, and an evaluator that
runs a whole batch of experiments as one parameter-batched design.

:func:`model` declares, from the configuration, the uncertainties (numeric parameters
with their ranges, by default the deep uncertainties of
``configs/analysis/deep_uncertainties.yaml``), the levers (the US doctrine, a categorical
choice among ``configs/doctrine/us/``) and the outcomes (each a mean over the replicates
of a point: :data:`sim.analysis.outputs.OUTPUTS`). EMA users then sample and analyse with
their own tools::

    from ema_workbench import perform_experiments
    import sim.ema

    escalation = sim.ema.model("days=180", replicates=20)
    with sim.ema.BatchedEvaluator(escalation) as evaluator:
        experiments, outcomes = perform_experiments(
            escalation, scenarios=200, policies=3, evaluator=evaluator
        )

Under EMA's own ``SequentialEvaluator`` each experiment runs alone (a design of one
point); :class:`BatchedEvaluator` hands every experiment of the call to one design, whose
points are stepped together. Every experiment runs replicates 0 .. R-1 of the same seed,
so either way gives the same numbers (common random numbers across experiments).

EMA names must be Python identifiers: a parameter's EMA name is its dotted path with the
dots as double underscores (``actors__dynamics__learning_rate``), and its EMA
``variable_name`` the path itself. EMA samples each range on its linear scale (the
``log`` flag of a factor does not carry over).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd

from sim.analysis.command import base_config, plan
from sim.analysis.factors import Factor, resolve_factors
from sim.analysis.outputs import parse_outputs, per_point, per_replicate
from sim.analysis.tournament import DEFAULT_UNCERTAINTIES, parse_doctrines
from sim.config import BaseConfig, parameter_at

with warnings.catch_warnings():  # it warns about optional parallel back-ends it lacks
    warnings.simplefilter("ignore")
    from ema_workbench import (
        CategoricalParameter,
        IntegerParameter,
        Model,
        RealParameter,
        ScalarOutcome,
    )
    from ema_workbench.em_framework.evaluators import BaseEvaluator

#: the outcomes declared unless told otherwise
DEFAULT_OUTCOMES = ("us_deaths", "p_war", "p_rung5", "attacks_per_month", "escalation_score")
#: the EMA name of the US doctrine lever
US_DOCTRINE = "us_doctrine"


def ema_name(path: str) -> str:
    """A parameter's EMA name: its dotted path with dots as double underscores."""
    return path.replace(".", "__")


class EscalationModel(Model):
    """An EMA Workbench model of this simulation (build it with :func:`model`).

    Besides EMA's attributes it holds what a design needs: ``overrides`` (settings for
    every experiment), ``replicates`` per experiment, ``output_names`` and ``config``.
    """

    def __init__(
        self,
        name: str,
        overrides: Sequence[str],
        replicates: int,
        outputs: Sequence[str],
        config: BaseConfig,
    ):
        self.overrides = list(overrides)
        self.replicates = replicates
        self.output_names = list(outputs)
        self.config = config
        super().__init__(name, function=self._run_one)

    def _run_one(self, **values) -> dict[str, float]:
        """One experiment alone (EMA's own evaluators call this)."""
        return self.evaluate(pd.DataFrame([values])).iloc[0].to_dict()

    def evaluate(self, design: pd.DataFrame, progress: Callable[[int], None] | None = None):
        """Each outcome's mean over the replicates of each row of ``design`` (columns:
        dotted parameter paths and ``doctrine/us``), one row per design row in order."""
        planned = plan(design, self.overrides, self.replicates, "experiments")
        table = planned.run(progress).replicates
        names = self.output_names
        means = per_point(per_replicate(table, self.config.days, names), names)
        return means.reset_index(drop=True)


def model(
    *overrides: str,
    uncertainties: str | Path | Sequence[Factor | str] | None = None,
    us_doctrines: str | Sequence[str] | None = None,
    outcomes: str | Sequence[str] | None = None,
    replicates: int = 20,
    name: str = "escalation",
) -> EscalationModel:
    """The simulation as an EMA Workbench model.

    Args:
        overrides: settings for every experiment, as on the command line.
        uncertainties: None (``configs/analysis/deep_uncertainties.yaml``), a YAML file, or
            a sequence of ``PATH=LOW:HIGH`` strings or factors.
        us_doctrines: the US doctrines the lever chooses among (default all); an empty
            sequence declares no lever.
        outcomes: names of :data:`sim.analysis.outputs.OUTPUTS` (default: US deaths, P(war),
            P(rung >= 5), attacks per month, the escalation score).
        replicates: replicates per experiment.
        name: the EMA model's name.

    Raises:
        ConfigError: one line naming the bad field.
    """
    config = base_config(overrides, replicates)
    factors = resolve_factors(uncertainties, config, DEFAULT_UNCERTAINTIES)
    names = parse_outputs(outcomes if outcomes is not None else DEFAULT_OUTCOMES)
    escalation = EscalationModel(name, overrides, replicates, names, config)
    escalation.uncertainties = [_parameter(f) for f in factors]
    no_lever = us_doctrines is not None and len(us_doctrines) == 0
    doctrines = [] if no_lever else parse_doctrines(us_doctrines, "us", "us_doctrines")
    if doctrines:
        escalation.levers = [
            CategoricalParameter(US_DOCTRINE, doctrines, variable_name="doctrine/us")
        ]
    escalation.outcomes = [ScalarOutcome(n) for n in names]
    return escalation


def _parameter(factor: Factor):
    kind = IntegerParameter if factor.whole else RealParameter
    low, high = (int(factor.low), int(factor.high)) if factor.whole else (factor.low, factor.high)
    return kind(ema_name(factor.path), low, high, variable_name=factor.path)


class BatchedEvaluator(BaseEvaluator):
    """An EMA evaluator that runs all the experiments of a call as one parameter-batched
    design per model, in this process (the same numbers as one experiment at a time)."""

    def initialize(self):
        """Nothing to start: the design runs in this process."""

    def finalize(self):
        """Nothing to stop."""

    def evaluate_experiments(self, experiments: Iterable, callback: Callable, **kwargs):
        """Run every experiment and report each one's outcomes to ``callback``."""
        by_model: dict[str, list] = {}
        for experiment in experiments:
            by_model.setdefault(experiment.model_name, []).append(experiment)
        for model_name, group in by_model.items():
            msi = next(m for m in self._msis if m.name == model_name)
            design = pd.DataFrame([_row(msi, e) for e in group])
            means = msi.evaluate(design)
            for experiment, (_, row) in zip(group, means.iterrows(), strict=True):
                callback(experiment, row.to_dict())


def _row(msi: EscalationModel, experiment) -> dict:
    """An experiment's values by dotted path (and ``doctrine/us``): what it samples, and
    the configuration's own value of what it leaves out."""
    row = {}
    for parameter, sample in (
        *((u, experiment.scenario) for u in msi.uncertainties),
        *((lever, experiment.policy) for lever in msi.levers),
    ):
        path = parameter.variable_name[0]
        if parameter.name in sample:
            value = sample[parameter.name]
            row[path] = getattr(value, "value", value)  # a category holds its value
        elif path == "doctrine/us":
            row[path] = msi.config.doctrine.us.name
        else:
            row[path] = parameter_at(msi.config, path)[2]
    return row


__all__ = ["BatchedEvaluator", "EscalationModel", "ema_name", "model"]
