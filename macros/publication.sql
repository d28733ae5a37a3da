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
