{% macro create_reader_roles() -%}
    {#- Pre-hook of every mart on PostgreSQL: creates each role the model's
        grants config lets SELECT it (clv_bi, dbt_project.yml) as NOLOGIN when
        it is missing, so that dbt's grants can name it. Needs CREATEROLE only
        the first time; two models creating one at once are fine (the
        loser's duplicate is ignored). Renders nothing on other targets. -#}
    {%- if target.type == 'postgres' -%}
        {%- for role in (config.get('grants') or {}).get('select', []) %}
        do $$
        begin
            if not exists (select from pg_roles where rolname = '{{ role }}') then
                create role {{ adapter.quote(role) }} nologin;
            end if;
        exception when duplicate_object or unique_violation then
            null;
        end
        $${% if not loop.last %};{% endif %}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro mark_built_by_invocation() -%}
    {#- Post-hook of every mart on PostgreSQL: writes the dbt invocation that
        built the table into its comment. `clv publish --target postgres`
        publishes a build schema only when every table in it was built by an
        invocation whose run_results.json it was given, so the tables of a
        later build killed halfway are never published as the earlier one's.
        Renders nothing on other targets. -#}
    {%- if target.type == 'postgres' -%}
        comment on table {{ this }} is 'dbt invocation {{ invocation_id }}'
    {%- endif -%}
{%- endmacro %}


{% macro analyze_built_table() -%}
    {#- Post-hook of every model and seed (dbt_project.yml): on PostgreSQL,
        ANALYZE the table just built, so the planner knows its row counts.
        Autovacuum analyzes a table only after 50 + 10 % of its rows change,
        so a one-row table such as reporting_period is never analyzed and
        the planner guesses 1,700 rows for it; every join with it multiplied
        the estimates, and at 100,000 customers int_email_orders_attributed
        took 147 s instead of 0.5 s. Renders nothing for views and on other
        targets. -#}
    {%- if target.type == 'postgres' and config.get('materialized') in ['table', 'incremental', 'seed'] -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
