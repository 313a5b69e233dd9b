/** SPEC §2: at least 8 characters, with a digit, an upper-case and a lower-case letter. */
export function passwordPolicyViolations(password: string): string[] {
  const problems: string[] = [];
  if (password.length < 8) problems.push('must be at least 8 characters');
  if (!/[0-9]/.test(password)) problems.push('must contain a digit');
  if (!/\p{Lu}/u.test(password)) problems.push('must contain an upper-case letter');
  if (!/\p{Ll}/u.test(password)) problems.push('must contain a lower-case letter');
  return problems;
}
