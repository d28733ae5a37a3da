{#-
    Loyalty formulas used by marts/loyalty/loyalty_monthly.

    Net Promoter Score (Reichheld, "The One Number You Need to Grow", Harvard
    Business Review, December 2003; the Bain & Company / Satmetrix
    definition): promoters answer 9–10, passives 7–8, detractors 0–6;
    NPS = % promoters − % detractors, from −100 to 100. Example (unit test
    test_loyalty_monthly_nps_example): 10 responses, 5 promoters, 3
    passives, 2 detractors → 50 − 20 = 30. Null when there are no responses.
-#}

{% macro nps_category(score) -%}
    case
        when {{ score }} >= 9 then 'promoter'
        when {{ score }} >= 7 then 'passive'
        else 'detractor'
    end
{%- endmacro %}

{% macro net_promoter_score(promoters, detractors, responses) -%}
    case
        when {{ responses }} > 0
            then cast(100 * ({{ promoters }} - {{ detractors }}) as {{ type_double() }}) / {{ responses }}
    end
{%- endmacro %}

{#- Points redemption rate: points redeemed ÷ points earned over the same
    window (DECISIONLOG.md, "Value marts (email and loyalty)"). Null when
    nothing was earned. -#}
{% macro points_redemption_rate(points_redeemed, points_earned) -%}
    case
        when {{ points_earned }} > 0
            then cast({{ points_redeemed }} as {{ type_double() }}) / {{ points_earned }}
    end
{%- endmacro %}
