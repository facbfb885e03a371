"""An agent-based model of digital technology adoption by Dutch SMEs (the mkb).

Python API::

    from model import simulate, SMEEconomy
    frame = simulate(n_firms=10_000, seed=1, policy={"edih": {"capacity_per_year": 2400}})

``simulate`` returns a tidy DataFrame (year, quarter, indicator, segment, value);
``SMEEconomy`` is the Mesa model for step-by-step use. The model reads only the
data shipped with it and writes nothing.
"""

from .economy import SMEEconomy, simulate
from .errors import ModelInputError
from .firm import Firm
from .indicators import INDICATOR_NAMES, INDICATORS
from .parameters import CALIBRATED, PARAMETERS, Parameters, parameter_table, resolve_parameters
from .policy import Policy, parse_policy

__all__ = [
    "CALIBRATED",
    "INDICATORS",
    "INDICATOR_NAMES",
    "PARAMETERS",
    "Firm",
    "ModelInputError",
    "Parameters",
    "Policy",
    "SMEEconomy",
    "parameter_table",
    "parse_policy",
    "resolve_parameters",
    "simulate",
]
