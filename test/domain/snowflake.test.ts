import { readFileSync } from 'node:fs';
import t from 'tap';
import { isSnowflake, SNOWFLAKE_MAX, SNOWFLAKE_PATTERN } from '../../src/domain/snowflake.ts';

const accepted = [
  '0', // names nothing, but `after=0` is a valid bound
  '1',
  '9',
  '10',
  '7262148410531840001',
  '999999999999999999', // 18 digits
  '1000000000000000000', // 19 digits
  '8999999999999999999',
  '9223372036854775806',
  '9223372036854775807', // 2^63 - 1
  '9223372036854775799',
  '9223372036854774999',
  '9123456789012345678',
];
const refused = [
  '',
  '00',
  '01',
  '0009',
  '-1',
  '+1',
  ' 1',
  '1 ',
  '1.0',
  '1e3',
  '١٢٣', // Arabic-Indic digits
  '9223372036854775808', // 2^63
  '9223372036854775810',
  '9223372036854775900',
  '9223372036854776000',
  '9300000000000000000',
  '9999999999999999999',
  '10000000000000000000',
  '99999999999999999999',
  '18446744073709551615',
];

for (const value of accepted) t.equal(isSnowflake(value), true, `accepts ${value}`);
for (const value of refused) t.equal(isSnowflake(value), false, `refuses ${JSON.stringify(value)}`);
t.equal(isSnowflake(7), false, 'refuses a number');
t.equal(isSnowflake(undefined), false, 'refuses undefined');

t.test('agrees with BigInt arithmetic around every digit of the maximum', async (t) => {
  const max = SNOWFLAKE_MAX.toString();
  let disagreements = 0;
  for (let position = 0; position < max.length; position += 1) {
    for (let digit = 0; digit <= 9; digit += 1) {
      for (const fill of ['0', '9']) {
        const candidate = max.slice(0, position) + String(digit) + fill.repeat(max.length - position - 1);
        const expected = !candidate.startsWith('0') && BigInt(candidate) <= SNOWFLAKE_MAX;
        if (isSnowflake(candidate) !== expected) disagreements += 1;
      }
    }
  }
  t.equal(disagreements, 0);
});

t.test('openapi.yaml spells the same pattern', async (t) => {
  const spec = JSON.parse(readFileSync(new URL('../../generated/openapi.bundled.json', import.meta.url), 'utf8'));
  t.equal(spec.components.schemas.Snowflake.pattern, SNOWFLAKE_PATTERN);
});
