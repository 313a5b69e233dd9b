/**
 * Ids are PostgreSQL `bigint`s made by `next_id()`: decimal strings up to 2^63 - 1, without leading
 * zeros. A string outside that range is not an id at all: letting it reach a query would be a cast
 * error (a 500), and leading zeros would make several spellings of one id. `0` is admitted: no row
 * has it, but `after=0` is how a client pages history from the very first message. Pure.
 */
export const SNOWFLAKE_MAX = 9223372036854775807n;

/**
 * The same pattern as `Snowflake` in openapi.yaml (a test keeps them equal): 0, 1..18 digits, or
 * 19 digits spelled out up to 2^63 - 1 digit by digit, so plain JSON Schema validators enforce the
 * bigint range without a custom format.
 */
export const SNOWFLAKE_PATTERN =
  '^(?:0|[1-9][0-9]{0,17}|[1-8][0-9]{18}|9[0-1][0-9]{17}|92[0-1][0-9]{16}|922[0-2][0-9]{15}|9223[0-2][0-9]{14}' +
  '|92233[0-6][0-9]{13}|922337[0-1][0-9]{12}|92233720[0-2][0-9]{10}|922337203[0-5][0-9]{9}|9223372036[0-7][0-9]{8}' +
  '|92233720368[0-4][0-9]{7}|922337203685[0-3][0-9]{6}|9223372036854[0-6][0-9]{5}|92233720368547[0-6][0-9]{4}' +
  '|922337203685477[0-4][0-9]{3}|9223372036854775[0-7][0-9]{2}|922337203685477580[0-6]|9223372036854775807)$';

const snowflake = new RegExp(SNOWFLAKE_PATTERN);

/** True for a decimal string that can be an id (0..2^63 - 1, no sign, no leading zero). */
export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 19 && snowflake.test(value);
}
