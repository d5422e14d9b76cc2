-- Every server option. value, value_in_use, minimum and maximum are sql_variant.
SELECT
    name,
    CAST(value AS bigint) AS value,
    CAST(value_in_use AS bigint) AS value_in_use,
    CAST(minimum AS bigint) AS minimum,
    CAST(maximum AS bigint) AS maximum,
    is_dynamic,
    is_advanced
FROM sys.configurations
ORDER BY name;
