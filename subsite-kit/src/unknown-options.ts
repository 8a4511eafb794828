import { KitOptionError } from './options.js';

/**
 * Refuses a key that is not one of `known`: in JavaScript a misspelled option (`secureCookie`,
 * `hubInternalURL`) would otherwise be dropped without a word, and with its `SSO_*` variable
 * set a misspelled required one (`clientSecert`) would quietly take the environment's value.
 * `prefix` goes before a nested option's name (`metrics.`).
 * @throws KitOptionError (a `TypeError`) naming the unknown option and the known one it
 * probably meant, or listing them all when none is close.
 */
export function rejectUnknownOptions(given: object, known: readonly string[], prefix = ''): void {
  for (const name of Object.keys(given)) {
    if (known.includes(name)) continue;
    const meant = closest(name, known);
    throw new KitOptionError(
      `${prefix}${name}`,
      meant ? `is unknown: did you mean "${prefix}${meant}"?` : `is unknown: the options are ${known.map((option) => prefix + option).join(', ')}`,
    );
  }
}

/** The known name a misspelling most likely meant: same letters in another case, else within a few edits. */
function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const sameLetters = known.find((option) => option.toLowerCase() === lower);
  if (sameLetters) return sameLetters;
  let best: { option: string; distance: number } | undefined;
  for (const option of known) {
    const distance = editDistance(lower, option.toLowerCase());
    if (distance <= Math.max(2, Math.floor(option.length / 4)) && (!best || distance < best.distance)) best = { option, distance };
  }
  return best?.option;
}

/** Levenshtein distance, with a swap of two neighbouring letters as one edit (`Secert` → `Secret`). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
}
