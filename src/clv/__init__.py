"""The CLV warehouse toolkit: raw-data simulator, dbt driver and checks.

The dbt project lives at the repository root; this package holds the Python
side (the ``clv`` command). Paths are resolved from the package location, never
from the working directory, see :mod:`clv.paths`.
"""

__version__ = "0.1.0"
