{% macro check_rejected_share(relation) -%}
    {#- Post-hook of audit.rejection_summary. Logs how many rows each raw
        table rejected, then fails the model (and so the build) when a
        table's rejected_share is above var('max_rejected_share'), naming
        every such table and its share. Renders no SQL. -#}
    {%- if execute -%}
        {%- set max_share = var('max_rejected_share') | float -%}
        {%- set query -%}
            select source_table, raw_rows, rejected_rows, rejected_share
            from {{ relation }}
            order by source_table
        {%- endset -%}
        {%- set rows = run_query(query).rows -%}
        {%- set breaches = [] -%}
        {%- for row in rows -%}
            {%- set raw_rows = row[1] | int -%}
            {%- set rejected_rows = row[2] | int -%}
            {%- set share = (row[3] or 0) | float -%}
            {{ log(
                "Quarantine: " ~ row[0] ~ " rejected " ~ "{:,}".format(rejected_rows)
                ~ " of " ~ "{:,}".format(raw_rows) ~ " rows (" ~ "%.1f" | format(share * 100) ~ "%)",
                info=true
            ) }}
            {%- if share > max_share -%}
                {%- do breaches.append(
                    row[0] ~ " rejected " ~ "%.1f" | format(share * 100) ~ "% of its rows ("
                    ~ "{:,}".format(rejected_rows) ~ " of " ~ "{:,}".format(raw_rows)
                    ~ "), above max_rejected_share " ~ "%.1f" | format(max_share * 100) ~ "%"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if breaches | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                "Too many rejected raw rows (see audit.rejection_summary and audit.rejected_rows):\n  "
                ~ breaches | join('\n  ')
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
