import { distance } from 'fastest-levenshtein';
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
    const instead = prefix === '' ? NOT_THE_KITS.get(name.toLowerCase()) : undefined;
    if (instead) throw new KitOptionError(name, `is unknown: ${instead}`);
    const meant = closest(name, known);
    throw new KitOptionError(
      `${prefix}${name}`,
      meant ? `is unknown: did you mean "${prefix}${meant}"?` : `is unknown: the options are ${known.map((option) => prefix + option).join(', ')}`,
    );
  }
}

/**
 * The same check for the options object of one of the kit's methods (`healthRoutes`,
 * `metricsHandler`): from JavaScript, `healthRoutes({ checkhub: true })` was taken as `{}`, and
 * `/readyz` answered ready with the hub down.
 * @throws TypeError `subsite-kit: healthRoutes option "checkhub" is unknown: did you mean "checkHub"?`
 */
export function rejectUnknownMethodOptions(given: object, known: readonly string[], method: string): void {
  for (const name of Object.keys(given)) {
    if (known.includes(name)) continue;
    const meant = closest(name, known);
    throw new TypeError(
      `subsite-kit: ${method} option "${name}" is unknown: ${meant ? `did you mean "${meant}"?` : `the options are ${known.join(', ')}`}`,
    );
  }
}

/**
 * Options of express-session that a site moving to the kit passes on, and that the kit does not
 * take: said as what to do instead, not as the known name a few letters away (`sessionStore` is
 * not a misspelled `sessionSecret`).
 */
const SESSION_STORE = 'the kit keeps its sessions in a store of its own, since forced and back-channel logout need its indexes beside them: pass redis (a connected node-redis client, Cluster or Sentinel), or leave it out to keep them in memory (one process, development); another express-session store cannot be passed';
const NOT_THE_KITS: ReadonlyMap<string, string> = new Map([['store', SESSION_STORE], ['sessionstore', SESSION_STORE]]);

/** The known name a misspelling most likely meant: same letters in another case, else within a few edits. */
function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const sameLetters = known.find((option) => option.toLowerCase() === lower);
  if (sameLetters) return sameLetters;
  let best: { option: string; distance: number } | undefined;
  for (const option of known) {
    const edits = distance(lower, option.toLowerCase());
    if (edits <= Math.max(2, Math.floor(option.length / 4)) && (!best || edits < best.distance)) best = { option, distance: edits };
  }
  return best?.option;
}
