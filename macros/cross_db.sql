{#-
    Engine-specific expressions, one adapter.dispatch macro each, with a
    default__ version that PostgreSQL and DuckDB share and a spark__ version
    where Spark differs. Models call these and stay engine-neutral.
-#}

{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {#- dbt.type_float() renders "float", which is a 4-byte REAL on DuckDB:
        too coarse for money. "double precision" is 8 bytes on DuckDB and
        PostgreSQL alike. -#}
    {{ return('double precision') }}
{%- endmacro %}

{% macro spark__type_double() -%}
    {{ return('double') }}
{%- endmacro %}


{% macro is_valid_email(expression) -%}
    {{ return(adapter.dispatch('is_valid_email')(expression)) }}
{%- endmacro %}

{% macro default__is_valid_email(expression) -%}
    {#- local@domain.tld: no blanks, exactly one @, a dot in the domain
        (the contract's email_regex, var raw_contract; tests/test_contract.py
        holds each engine's pattern to it). False, not null, for a null
        email. PostgreSQL's ~ operator. -#}
    coalesce({{ expression }} ~ '^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:].]+$', false)
{%- endmacro %}

{% macro duckdb__is_valid_email(expression) -%}
    coalesce(regexp_full_match({{ expression }}, '[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:].]+'), false)
{%- endmacro %}

{% macro spark__is_valid_email(expression) -%}
    {#- Java regular expressions: no POSIX bracket classes; Spark string
        literals need the backslash doubled. -#}
    coalesce({{ expression }} rlike '^[^@\\s]+@[^@\\s]+\\.[^@\\s.]+$', false)
{%- endmacro %}


{% macro json_quote(expression) -%}
    {{ return(adapter.dispatch('json_quote')(expression)) }}
{%- endmacro %}

{% macro default__json_quote(expression) -%}
    {#- A text value as a JSON string: backslashes and double quotes escaped.
        Null stays null (the caller writes JSON null). Standard SQL string
        literals: a backslash is a plain character. -#}
    {{ dbt.concat([
        "'\"'",
        "replace(replace(" ~ expression ~ ", '\\', '\\\\'), '\"', '\\\"')",
        "'\"'",
    ]) }}
{%- endmacro %}

{% macro spark__json_quote(expression) -%}
    {#- Spark string literals treat the backslash as an escape character. -#}
    {{ dbt.concat([
        "'\"'",
        "replace(replace(" ~ expression ~ ", '\\\\', '\\\\\\\\'), '\"', '\\\\\"')",
        "'\"'",
    ]) }}
{%- endmacro %}


{% macro round_to(expression, digits) -%}
    {{ return(adapter.dispatch('round_to')(expression, digits)) }}
{%- endmacro %}

{% macro default__round_to(expression, digits) -%}
    {#- PostgreSQL rounds to a number of digits only on numeric, not on
        double precision: round there exactly, then come back to a double. -#}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as {{ type_double() }})
{%- endmacro %}

{% macro duckdb__round_to(expression, digits) -%}
    round(cast({{ expression }} as {{ type_double() }}), {{ digits }})
{%- endmacro %}

{% macro spark__round_to(expression, digits) -%}
    {#- DuckDB rounds a double as round(x * 10^digits) / 10^digits in double
        arithmetic; Spark's round on a double rounds its exact binary value,
        so a half cent computed as 3053.9249999999997 (x 100 = 305392.5 in
        doubles) went down on Spark and up on DuckDB. The same steps here: the
        product in doubles, then Spark's half-up round of that product (half
        away from zero, as DuckDB's), divided back (a double literal: Spark
        truncates a division by a DECIMAL one). -#}
    round(cast({{ expression }} as {{ type_double() }}) * cast({{ 10 ** digits }} as {{ type_double() }}), 0)
        / cast({{ 10 ** digits }} as {{ type_double() }})
{%- endmacro %}


{% macro python_models_enabled() -%}
    {#- Whether this target runs the dbt Python models of
        intermediate/predictions (and so builds the marts of marts/predictions
        that publish them): only DuckDB (dbt-duckdb runs them in-process).
        Keep in step with the two `predictions: +enabled` lines of
        dbt_project.yml, which cannot call a macro. -#}
    {{ return(target.type == 'duckdb') }}
{%- endmacro %}


{% macro predictions_from_step() -%}
    {#- Whether this target reads the probabilistic CLV tables from `clv
        predict` (the source `predictions`) instead of building them with the
        dbt Python models: PostgreSQL and Spark. Keep in step with the
        `predictions: +enabled` line of marts in dbt_project.yml and the
        source's `enabled`. -#}
    {{ return(target.type in ('postgres', 'spark')) }}
{%- endmacro %}


{% macro predictions_relation(name) -%}
    {#- One of the four probabilistic CLV tables (named after the dbt Python
        model that builds it on DuckDB): the table `clv predict` wrote (source
        `predictions`) where predictions_from_step(), else the model. On a
        target with neither the models that call this are disabled, but dbt
        still renders them when it parses the project: the ref to the
        (disabled) Python model keeps that parse valid, and nothing builds. -#}
    {%- if predictions_from_step() -%}
        {{ return(source('predictions', name)) }}
    {%- else -%}
        {{ return(ref(name)) }}
    {%- endif -%}
{%- endmacro %}
