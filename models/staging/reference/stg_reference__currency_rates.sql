{#- Each currency's rate to the reporting currency, from the currency_rates
    seed (USD per unit). Amounts in staging are multiplied by
    rate_to_reporting_currency. The inner join to the reporting currency's
    own row leaves this model empty when var('reporting_currency') is not in
    the seed, which its tests catch. -#}
with

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

renamed as (
    select
        ---------- strings
        {{ dbt.safe_cast('currency_code', dbt.type_string()) }} as currency_code,

        ---------- numerics
        {{ dbt.safe_cast('usd_per_unit', type_double()) }} as usd_per_unit
    from currency_rates
),

reporting_currency as (
    select usd_per_unit
    from renamed
    where currency_code = '{{ var("reporting_currency") }}'
),

final as (
    select
        renamed.currency_code,
        '{{ var("reporting_currency") }}' as reporting_currency_code,
        renamed.usd_per_unit,
        renamed.usd_per_unit / reporting_currency.usd_per_unit as rate_to_reporting_currency
    from renamed
    cross join reporting_currency
)

select * from final
