/** Client input echoed in a message or log line: control characters replaced and the length bounded. */
export function printable(value: string, max = 40): string {
  const clean = value.replace(/[\p{C}]/gu, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
