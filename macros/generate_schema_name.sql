{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- Use the folder's custom schema name as it is (staging, intermediate,
        marts, audit) instead of dbt's default "<target schema>_<custom>".
        Nodes without a custom schema land in the target's schema.
        On PostgreSQL the marts are built into marts_build, never into
        marts, which BI reads: `clv publish --target postgres` renames
        marts_build to marts in one transaction once the gates pass
        (src/clv/publish_postgres.py, which reads the name from the
        manifest; DECISIONLOG.md, "Publishing on PostgreSQL"). This is the
        one place that name is chosen. -#}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim == 'marts' and target.type == 'postgres' -%}
        marts_build
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
