{#-
    Helpers for the quarantine pattern of the staging layer (see
    docs/raw_data_contract.md): every base_<source>__<table> model keeps one
    row per raw row with a rejection_reason, and these macros hold the parts
    that are the same for all thirteen raw tables.
-#}

{% macro raw_contract_table(source_table) -%}
    {#- One raw table of the contract (var raw_contract in dbt_project.yml,
        the one declaration Python's clv.contract reads too): its columns
        and types, key, rules and reason codes. -#}
    {%- set tables = var('raw_contract')['tables'] -%}
    {%- if source_table not in tables -%}
        {{ exceptions.raise_compiler_error(
            "raw_contract_table: unknown table '" ~ source_table ~ "'; known: " ~ (tables.keys() | sort | join(', '))
        ) }}
    {%- endif -%}
    {{ return(tables[source_table]) }}
{%- endmacro %}


{% macro quarantined_tables() -%}
    {#- The raw tables that go through quarantine, as "<source>.<table>", in
        the contract's order. audit.rejected_rows and audit.rejection_summary
        loop over this list; each entry has a base_<source>__<table> and a
        stg_<source>__<table> model. -#}
    {{ return(var('raw_contract')['tables'].keys() | list) }}
{%- endmacro %}


{% macro contract_values(kind) -%}
    {#- The contract's listed values of a categorical column, as a list (for
        accepted_values tests in YAML). -#}
    {%- set value_sets = var('raw_contract')['value_sets'] -%}
    {%- if kind not in value_sets -%}
        {{ exceptions.raise_compiler_error(
            "contract_values: unknown kind '" ~ kind ~ "'; known: " ~ (value_sets.keys() | sort | join(', '))
        ) }}
    {%- endif -%}
    {{ return(value_sets[kind]) }}
{%- endmacro %}


{% macro contract_reasons(source_table=none) -%}
    {#- The reason codes a base model may give, as a list (for the
        accepted_values test on its rejection_reason); without a table, every
        reason code in the contract's check order. -#}
    {%- if source_table is none -%}
        {{ return(var('raw_contract')['reasons']) }}
    {%- endif -%}
    {{ return(raw_contract_table(source_table)['reasons']) }}
{%- endmacro %}


{% macro reference_values(kind) -%}
    {#- The contract's listed values for a categorical column, as a SQL list
        "('a', 'b')" for `not in`. -#}
    ({% for value in contract_values(kind) %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}


{% macro hash_email(column) -%}
    {#- The only form in which an email leaves staging: md5 of the trimmed,
        lower-cased address. -#}
    {{ dbt.hash('lower(trim(' ~ column ~ '))') }}
{%- endmacro %}


{% macro record_key(key_columns, nullable_columns=[]) -%}
    {#- A row's key as text for the audit: the key column itself, or the
        parts joined with '|' for a composite key. Null when a key column
        that may not be null is null; a nullable key part reads 'null'. -#}
    {%- if key_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("record_key: key_columns must not be empty") }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for column in key_columns -%}
        {%- if not loop.first -%}{%- do parts.append("'|'") -%}{%- endif -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), 'null')") -%}
    {%- endfor -%}
    {%- set required = key_columns | reject('in', nullable_columns) | list -%}
    case
        when {% for column in required %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %} then null
        else {{ dbt.concat(parts) }}
    end
{%- endmacro %}


{% macro record_key_of(source_table) -%}
    {#- record_key over a raw table's key as the contract declares it (its
        nullable key parts included). -#}
    {%- set table = raw_contract_table(source_table) -%}
    {{ record_key(table['key'], nullable_columns=table.get('nullable_key', [])) }}
{%- endmacro %}


{% macro raw_record(columns, unquoted=[], emails=[]) -%}
    {#- The whole raw row as JSON-like text, built with portable string
        functions (no to_json): '{"col": value, ...}' in the given column
        order. Values are JSON strings except the `unquoted` columns (numbers
        and booleans); nulls are JSON null. Email columns are replaced by
        "md5:<hash_email>" so that no raw address reaches the audit schema.
        The text also breaks ties in the duplicate_key rule. -#}
    {%- set parts = ["'{'"] -%}
    {%- for column in columns -%}
        {%- set as_text = "cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")" -%}
        {%- if column in emails -%}
            {%- set value = json_quote(dbt.concat(["'md5:'", hash_email(column)])) -%}
        {%- elif column in unquoted -%}
            {%- set value = as_text -%}
        {%- else -%}
            {%- set value = json_quote(as_text) -%}
        {%- endif -%}
        {%- do parts.append("'" ~ ('' if loop.first else ', ') ~ '"' ~ column ~ '": ' ~ "'") -%}
        {%- do parts.append("case when " ~ column ~ " is null then 'null' else " ~ value ~ " end") -%}
    {%- endfor -%}
    {%- do parts.append("'}'") -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}


{% macro raw_record_of(source_table) -%}
    {#- raw_record over a raw table's columns as the contract lists them:
        numbers and booleans unquoted, email columns hashed. -#}
    {%- set table = raw_contract_table(source_table) -%}
    {%- set unquoted = [] -%}
    {%- for column, data_type in table['columns'].items() -%}
        {%- if data_type in ['int64', 'int32', 'double', 'bool'] -%}{%- do unquoted.append(column) -%}{%- endif -%}
    {%- endfor -%}
    {{ raw_record(table['columns'].keys() | list, unquoted=unquoted, emails=table.get('emails', [])) }}
{%- endmacro %}


{% macro raw_record_if_rejected() -%}
    {#- raw_record on a rejected row, null on a staged one: the last CTE of
        every base model stores it so. The text is built for every row (rule
        9 and raw_row_id read it) but only the audit shows it, and storing
        it for every row doubled the largest base tables. Expects columns
        raw_record and rejection_reason. -#}
    case when rejection_reason is null then null else raw_record end
{%- endmacro %}


{% macro duplicate_window(key_columns) -%}
    {#- The window of rule 9: one key's rows, apart by row_rejection_reason
        (only rows that passed rules 1-8 compete), the first loaded first
        and ties to the smallest raw_record text. duplicate_rank and
        raw_row_id share it, so the engine sorts the rows once. -#}
    (
        partition by row_rejection_reason, {{ key_columns | join(', ') }}
        order by loaded_at, raw_record
    )
{%- endmacro %}


{% macro duplicate_rank(key_columns) -%}
    {#- Rule 9 (duplicate_key): rank the rows of one key among the rows that
        passed rules 1-8 (row_rejection_reason is null). Rank 1 is the row
        loaded first; ties go to the smallest raw_record text. Window
        partitions group null key parts together, so a nullable key part
        (email_spend.campaign_id) counts as one value. -#}
    row_number() over {{ duplicate_window(key_columns) }}
{%- endmacro %}


{% macro raw_row_id(source_table, key_columns) -%}
    {#- A stable id for a raw row: md5 of its table, its text, the first of
        rules 1-8 it breaks (empty when none) and its position among
        byte-identical copies. Identical copies are peers in rule 9's window
        (same key, reason, loaded_at and text), so the position is
        row_number() - rank() + 1 there: no second sort of the rows by their
        text. The reason keeps two rows apart whose texts agree although
        their raw values differ (an email in another case hashes alike).
        Unique even when a raw row is delivered twice, byte for byte. -#}
    {{ dbt.hash(dbt.concat([
        "'" ~ source_table ~ "|'",
        "raw_record",
        "'|'",
        "coalesce(row_rejection_reason, '')",
        "'|'",
        "cast(row_number() over " ~ duplicate_window(key_columns) ~ " - rank() over "
            ~ duplicate_window(key_columns) ~ " + 1 as " ~ dbt.type_string() ~ ")",
    ])) }}
{%- endmacro %}


{% macro rejected_reference_table(reason) -%}
    {#- The table a rule-10 rejection refers to, by its reason code, from the
        contract's `references` (unknown_customer -> shop.customers, ...).
        Null for every other reason. -#}
    case {{ reason }}
        {%- for code, target in var('raw_contract')['references'].items() %}
        when '{{ code }}' then '{{ target.rsplit('.', 1)[0] }}'
        {%- endfor %}
    end
{%- endmacro %}


{% macro rejected_reference_key(reason, columns) -%}
    {#- The id a rule-10 rejection refers to, as record_key text: `columns`
        maps each rule-10 reason the model can give to the column holding
        the referenced id, e.g. {'unknown_order': 'order_id'}. Null for any
        other reason. -#}
    {%- if columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("rejected_reference_key: columns must not be empty") }}
    {%- endif -%}
    case {{ reason }}
        {%- for code, column in columns.items() %}
            when '{{ code }}' then cast({{ column }} as {{ dbt.type_string() }})
        {%- endfor %}
    end
{%- endmacro %}
