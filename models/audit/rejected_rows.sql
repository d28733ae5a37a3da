{#- Every raw row that staging rejected, from all raw tables, with the
    reason (the first contract rule it broke; docs/raw_data_contract.md).
    Emails in raw_record are hashed. -#}
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
            rejection_reason as reason
        from {{ source_name }}__{{ table_name }}
        where rejection_reason is not null
        {% if not loop.last %}
            union all
        {% endif %}
    {%- endfor %}
),

final as (
    select
        rejected_row_id,
        source_table,
        record_key,
        raw_record,
        reason,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as detected_at
    from rejected
)

select * from final
