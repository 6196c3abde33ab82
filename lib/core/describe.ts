/**
 * Wording shared by every error message of the package: how a received value is shown, and which
 * known name a mistyped one most likely meant. Used by the option validator, the registry, the
 * health indicator and the Redis store.
 */

/** Describes a received value for an error message: its value (abridged) and its type. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
      return `${value} (number)`;
    case 'string':
      return `${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)} (string)`;
    case 'boolean':
    case 'bigint':
      return `${String(value)} (${typeof value})`;
    case 'function':
      return `a function${value.name ? ` "${value.name}"` : ''}`;
    case 'symbol':
      return `${String(value)} (symbol)`;
    default: {
      if (Array.isArray(value)) return `an array of length ${value.length}`;
      let text: string;
      try {
        text = JSON.stringify(value) ?? String(value);
      } catch {
        text = Object.prototype.toString.call(value);
      }
      return `${text.length > 80 ? `${text.slice(0, 77)}...` : text} (object)`;
    }
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(
        row[j]! + 1,
        row[j - 1]! + 1,
        previous + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `name`, if one is close enough to be a likely typo. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3))
    ? best
    : undefined;
}
