"""The worked examples of ``clv.formulas.discounted_clv`` (its docstring, ``clv calc``'s
epilog, docs/formulas.md): the interactive illustration's small and large firm.

One copy for every test that reproduces them: the formula's unit tests, the
dashboard calculator's step test and the browser test of its sliders.
"""

from __future__ import annotations

#: The small firm, in discounted_clv's argument order: CLV 699.28.
SMALL_FIRM = {
    "purchases_per_year": 10,
    "spend_per_purchase": 200,
    "gross_margin": 0.41,
    "marketing_cost": 20,
    "acquisition_rate": 0.02,
    "retention_rate": 0.8,
    "discount_rate": 0.1,
    "years": 5,
}
#: The large firm: fewer, larger purchases at a higher margin and acquisition rate: CLV 731.98.
LARGE_FIRM = {
    **SMALL_FIRM,
    "purchases_per_year": 3,
    "spend_per_purchase": 400,
    "gross_margin": 0.5,
    "acquisition_rate": 0.04,
}
#: Both, by name.
WORKED_EXAMPLES = {"small firm": SMALL_FIRM, "large firm": LARGE_FIRM}
