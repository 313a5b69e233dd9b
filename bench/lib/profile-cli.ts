/**
 * The command line of the profile readers (profile-summary, profile-stages, allocation-summary):
 * a profile file as the first argument, then `--name=value` options.
 */
export function profileCommandLine(usage: string): { file: string; option(name: string): string | undefined } {
  const file = process.argv[2];
  if (!file) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  const option = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  return { file, option };
}
