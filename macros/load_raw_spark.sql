{% macro load_raw_spark(raw_dir=none) %}
    {#- Spark's analogue of the tests' PostgreSQL loader
        (tests/support/postgres_load.py): registers every source table
        <source>.<table> as an external Parquet table over
        <raw_dir>/<source>/<table>.parquet (no copy). Run before dbt build:
        dbt run-operation load_raw_spark --target spark. A source whose
        meta names who writes it (`written_by`: the `predictions` tables of
        `clv predict`) is not raw data and is skipped. -#}
    {%- if target.type != 'spark' -%}
        {{ exceptions.raise_compiler_error("load_raw_spark runs on Spark only") }}
    {%- endif -%}
    {%- set raw_dir = raw_dir or env_var('CLV_RAW_DIR', 'data/raw') -%}
    {%- for source in graph.sources.values()
        if source.package_name == project_name and not source.source_meta.get('written_by') -%}
        {%- set location = raw_dir ~ '/' ~ source.source_name ~ '/' ~ source.name ~ '.parquet' -%}
        {% do run_query('create database if not exists ' ~ source.source_name) %}
        {% do run_query('drop table if exists ' ~ source.source_name ~ '.' ~ source.name) %}
        {% do run_query('create table ' ~ source.source_name ~ '.' ~ source.name
            ~ " using parquet location '" ~ location ~ "'") %}
        {% do log('loaded ' ~ source.source_name ~ '.' ~ source.name ~ ' from ' ~ location, info=true) %}
    {%- endfor -%}
{% endmacro %}
