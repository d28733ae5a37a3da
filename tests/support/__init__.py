"""What several test modules share; no test module imports another (tests/conftest.py checks).

* :mod:`tests.support.dbt`: the one ``run_dbt`` helper, which lists failing nodes;
* :mod:`tests.support.warehouse`: the session's data settings, building a
  warehouse, comparing two warehouses' marts;
* :mod:`tests.support.publishing`: copies of a built warehouse and stub checks for ``publish``;
* :mod:`tests.support.staging`: which staging model holds each raw table's rows.
* :mod:`tests.support.conventions`: the project's conventions (dbt-project-evaluator's
  rules and their exceptions) as functions of a dbt manifest.
"""
