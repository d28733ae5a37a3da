{% test columns_absent(model, column_names) %}
{#- The relation has none of the named columns (case-insensitive). Guards
    privacy rules such as "no raw email leaves staging". Reads the columns
    from the warehouse when the test runs; one failing row per column found. -#}
{%- if column_names is string or column_names is not iterable or column_names | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "columns_absent on " ~ model ~ ": column_names must be a non-empty list, got " ~ column_names
    ) }}
{%- endif -%}
{%- set forbidden = column_names | map('lower') | list -%}
{%- set found = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- if column.name | lower in forbidden -%}
            {%- do found.append(column.name | lower) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
with

validation_errors as (
    {% for column_name in found -%}
    select '{{ column_name }}' as forbidden_column
    {% if not loop.last %}union all{% endif %}
    {% else -%}
    select cast(null as {{ dbt.type_string() }}) as forbidden_column
    where 1 = 0
    {%- endfor %}
)

select * from validation_errors
{% endtest %}
