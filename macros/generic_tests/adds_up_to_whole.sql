{% test adds_up_to_whole(model, columns, part_column, whole_value, part_values, group_by, tolerance=0) %}
{#- The parts add up to the whole: within each group (e.g. a month), for
    each value p of part_values (e.g. 'country'), the sum of every column
    over the rows with part_column = p equals that column on the row with
    part_column = whole_value (e.g. 'all'), within tolerance (for sums of
    rounded amounts). Fails with one row per group and part whose sum is off,
    or whose whole or parts are missing (a null compares as a failure), so a
    part dropped from a month fails as surely as a wrong figure. -#}
{%- for argument, value in {'columns': columns, 'part_values': part_values, 'group_by': group_by}.items() -%}
    {%- if value is string or value is not iterable or value | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "adds_up_to_whole on " ~ model ~ ": " ~ argument ~ " must be a non-empty list, got " ~ value
        ) }}
    {%- endif -%}
{%- endfor -%}
{%- if part_column is none or whole_value is none -%}
    {{ exceptions.raise_compiler_error("adds_up_to_whole on " ~ model ~ ": part_column and whole_value are required") }}
{%- endif -%}
with

wholes as (
    select
        {%- for column in group_by %}
        {{ column }},
        {%- endfor %}
        {%- for column in columns %}
        {{ column }} as whole_{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
    where {{ part_column }} = '{{ whole_value }}'
),

part_names as (
    {%- for value in part_values %}
    select '{{ value }}' as part
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

expected as (
    select
        {%- for column in group_by %}
        wholes.{{ column }},
        {%- endfor %}
        part_names.part,
        {%- for column in columns %}
        wholes.whole_{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from wholes
    cross join part_names
),

sums_of_parts as (
    select
        {%- for column in group_by %}
        {{ column }},
        {%- endfor %}
        {{ part_column }} as part,
        {%- for column in columns %}
        sum({{ column }}) as parts_{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
    where {{ part_column }} in (
        {%- for value in part_values -%}
        '{{ value }}'{{ ", " if not loop.last }}
        {%- endfor -%}
    )
    group by
        {%- for column in group_by %}
        {{ column }},
        {%- endfor %}
        {{ part_column }}
),

compared as (
    select
        {%- for column in group_by %}
        coalesce(expected.{{ column }}, sums_of_parts.{{ column }}) as {{ column }},
        {%- endfor %}
        coalesce(expected.part, sums_of_parts.part) as part,
        {%- for column in columns %}
        expected.whole_{{ column }},
        sums_of_parts.parts_{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from expected
    full outer join sums_of_parts
        on
            expected.part = sums_of_parts.part
            {%- for column in group_by %}
            and expected.{{ column }} = sums_of_parts.{{ column }}
            {%- endfor %}
),

validation_errors as (
    select * from compared
    where
        {%- for column in columns %}
        not coalesce(abs(parts_{{ column }} - whole_{{ column }}) <= {{ tolerance }}, false)
        {%- if not loop.last %}
        or
        {%- endif %}
        {%- endfor %}
)

select * from validation_errors
{% endtest %}
