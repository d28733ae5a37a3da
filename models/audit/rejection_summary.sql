{#- How much of each raw table staging accepted. The post-hook fails the
    build when a table rejects more than var('max_rejected_share') of its
    rows, and logs every table's count when it does not. It runs after the
    commit, so that this table stays in place to show what went wrong. -#}
{{ config(post_hook=after_commit("{{ check_rejected_share(this) }}")) }}

with

rejected_rows as (
    select * from {{ ref('rejected_rows') }}
),

{% for source_table in quarantined_tables() %}
    {%- set source_name, table_name = source_table.split('.') %}
    base_{{ source_name }}__{{ table_name }} as (
        select * from {{ ref('base_' ~ source_name ~ '__' ~ table_name) }}
    ),

    stg_{{ source_name }}__{{ table_name }} as (
        select * from {{ ref('stg_' ~ source_name ~ '__' ~ table_name) }}
    ),

{% endfor -%}
row_counts as (
    {% for source_table in quarantined_tables() -%}
        {%- set source_name, table_name = source_table.split('.') -%}
        select
            '{{ source_table }}' as source_table,
            (select count(*) from base_{{ source_name }}__{{ table_name }}) as raw_rows,
            (select count(*) from stg_{{ source_name }}__{{ table_name }}) as staged_rows
        {% if not loop.last %}
            union all
        {% endif %}
    {%- endfor %}
),

rejected_counts as (
    select
        source_table,
        count(*) as rejected_rows,
        sum(case when parent_reason is not null then 1 else 0 end) as cascaded_rows
    from rejected_rows
    group by 1
),

final as (
    select
        row_counts.source_table,
        row_counts.raw_rows,
        row_counts.staged_rows,
        coalesce(rejected_counts.rejected_rows, 0) as rejected_rows,
        coalesce(rejected_counts.cascaded_rows, 0) as cascaded_rows,
        case
            when row_counts.raw_rows = 0 then cast(0 as {{ type_double() }})
            else cast(coalesce(rejected_counts.rejected_rows, 0) as {{ type_double() }}) / row_counts.raw_rows
        end as rejected_share
    from row_counts
    left join rejected_counts
        on row_counts.source_table = rejected_counts.source_table
)

select * from final
