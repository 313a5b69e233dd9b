import t from 'tap';
import { passwordPolicyViolations } from '../../src/domain/password-policy.ts';

const SHORT = 'must be at least 8 characters';
const DIGIT = 'must contain a digit';
const UPPER = 'must contain an upper-case letter';
const LOWER = 'must contain a lower-case letter';

t.test('SPEC §2 password policy: >= 8 characters, a digit, an upper- and a lower-case letter', async (t) => {
  const table: Array<[password: string, violations: string[]]> = [
    ['Abcdefg1', []],
    ['Correct-horse-9', []],
    ['ÄÖÜäöü12', []], // non-ASCII letters count as upper/lower case
    ['Abcdef1', [SHORT]], // 7 characters
    ['', [SHORT, DIGIT, UPPER, LOWER]],
    ['Abcdefgh', [DIGIT]],
    ['abcdefg1', [UPPER]],
    ['ABCDEFG1', [LOWER]],
    ['12345678', [UPPER, LOWER]],
    ['abcdefgh', [DIGIT, UPPER]],
    ['aB1', [SHORT]],
    ['        ', [DIGIT, UPPER, LOWER]],
  ];
  for (const [password, expected] of table) {
    t.same(passwordPolicyViolations(password), expected, JSON.stringify(password));
  }
});
