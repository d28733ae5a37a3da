{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- Use the folder's custom schema name as it is (staging, intermediate,
        marts, audit) instead of dbt's default "<target schema>_<custom>".
        Nodes without a custom schema land in the target's schema. -#}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
