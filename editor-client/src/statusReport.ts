/**
 * Turns the server's `nanopilot.status` answer (a JSON object) into lines a person reads.
 *
 * The extension does not hard-code the server's field list: nested objects are flattened
 * (`latency.p50` becomes "latency p50"), camelCase and snake_case become words, and numbers are
 * rounded; a field whose name ends in "rate" is shown as a percentage.
 */

function words(key: string): string {
  return key
    .replace(/_/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

function formatValue(key: string, value: unknown): string {
  if (typeof value === 'number') {
    if (/rate$/i.test(key) && value >= 0 && value <= 1) {
      return `${(value * 100).toFixed(1)}%`;
    }
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }
  if (value === null || value === undefined) {
    return '-';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function flatten(
  value: Record<string, unknown>,
  prefix: string,
  nested: boolean,
  lines: string[],
): void {
  for (const [key, item] of Object.entries(value)) {
    const label = prefix ? `${prefix} ${words(key)}` : words(key);
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      if (nested) {
        flatten(item as Record<string, unknown>, label, nested, lines);
      }
    } else {
      lines.push(`${label}: ${formatValue(key, item)}`);
    }
  }
}

/** One line per field; `nested: false` leaves out nested objects (for a short summary). */
export function formatStatusReport(result: unknown, nested = true): string[] {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    return [`status: ${formatValue('status', result)}`];
  }
  const lines: string[] = [];
  flatten(result as Record<string, unknown>, '', nested, lines);
  return lines;
}
