/**
 * The ports the Fetch standard blocks (https://fetch.spec.whatwg.org/#bad-port): browsers refuse
 * to load anything from them (`ERR_UNSAFE_PORT`) and so does Node's fetch ("bad port"). A hub or
 * a site a browser must reach cannot use one: the demo started cleanly on HUB_PORT=6000 and every
 * visitor stayed anonymous (a review).
 */
const FETCH_BAD_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389,
  427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566,
  6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** Why browsers cannot use `port`, for a configuration error; undefined when they can. */
export function badPortProblem(port: number): string | undefined {
  return FETCH_BAD_PORTS.has(port) ? `browsers and Node's fetch refuse port ${port} (a "bad port" of the Fetch standard): pick another` : undefined;
}
