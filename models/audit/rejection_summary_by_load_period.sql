{#- One row per quarantined raw table and load period: the table's raw rows
    loaded in the period, those staging rejected, and their share. A bad
    batch is diluted in rejection_summary's whole-history share; here it
    shows in its own period. Periods are load quarters, or load years for the
    tables that receive fewer than 100 rows a quarter (campaigns, marketing
    spend, refunds), since below 100 rows a share is noise. -#}
{%- set yearly_tables = ['email.email_campaigns', 'marketing.marketing_spend', 'shop.refunds'] %}
with

{% for source_table in quarantined_tables() %}
    {%- set source_name, table_name = source_table.split('.') %}
    base_{{ source_name }}__{{ table_name }} as (
        select * from {{ ref('base_' ~ source_name ~ '__' ~ table_name) }}
    ),

{% endfor -%}
period_counts as (
    {% for source_table in quarantined_tables() -%}
        {%- set source_name, table_name = source_table.split('.') -%}
        {%- set load_period = 'year' if source_table in yearly_tables else 'quarter' -%}
        select
            '{{ source_table }}' as source_table,
            '{{ load_period }}' as load_period,
            cast({{ dbt.date_trunc(load_period, 'loaded_at') }} as date) as load_period_start,
            count(*) as raw_rows,
            sum(case when rejection_reason is not null then 1 else 0 end) as rejected_rows
        from base_{{ source_name }}__{{ table_name }}
        group by 1, 2, 3
        {% if not loop.last %}
            union all
        {% endif %}
    {%- endfor %}
),

final as (
    select
        cast(source_table as {{ dbt.type_string() }}) as source_table,
        cast(load_period as {{ dbt.type_string() }}) as load_period,
        cast(raw_rows as {{ dbt.type_bigint() }}) as raw_rows,
        cast(rejected_rows as {{ dbt.type_bigint() }}) as rejected_rows,
        cast(rejected_rows as {{ type_double() }}) / raw_rows as rejected_share,
        load_period_start
    from period_counts
)

select * from final
