{#- Every raw row that staging rejected, from all raw tables, with the
    reason (the first contract rule it broke; docs/raw_data_contract.md).
    Emails in raw_record are hashed. A rejection that follows from another
    raw row (rule 10: the row it refers to; rule 13: an earlier rejected
    earn) names that row and, when that row was rejected too, its reason. -#}
with

{% for source_table in quarantined_tables() %}
    {%- set source_name, table_name = source_table.split('.') %}
    {{ source_name }}__{{ table_name }} as (
        select * from {{ ref('base_' ~ source_name ~ '__' ~ table_name) }}
    ),

{% endfor -%}
rejected as (
    {% for source_table in quarantined_tables() -%}
        {%- set source_name, table_name = source_table.split('.') -%}
        select
            raw_row_id as rejected_row_id,
            '{{ source_table }}' as source_table,
            record_key,
            raw_record,
            rejection_reason as reason,
            parent_source_table,
            parent_record_key
        from {{ source_name }}__{{ table_name }}
        where rejection_reason is not null
        {% if not loop.last %}
            union all
        {% endif %}
    {%- endfor %}
),

rejected_parents as (
    {# What other rows refer to: the first part of a rejected row's key (an id;
       email_subscriptions' key starts with subscriber_id), with one reason
       when several rejected rows share it (the first alphabetically). #}
    select
        source_table,
        {{ dbt.split_part('record_key', "'|'", 1) }} as parent_record_key,
        min(reason) as reason
    from rejected
    where record_key is not null
    group by 1, 2
),

final as (
    select
        rejected.rejected_row_id,
        rejected.source_table,
        rejected.record_key,
        rejected.raw_record,
        rejected.reason,
        rejected.parent_source_table,
        rejected.parent_record_key,
        rejected_parents.reason as parent_reason,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as detected_at
    from rejected
    left join rejected_parents
        on
            rejected.parent_source_table = rejected_parents.source_table
            and rejected.parent_record_key = rejected_parents.parent_record_key
)

select * from final
