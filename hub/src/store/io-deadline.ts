/** Cancels an {@link ioDeadline} that has not fired yet (a no-op after it fired). */
export type CancelDeadline = () => void;

/**
 * Calls `expired` once `ms` have passed and the event loop has then read the I/O that arrived
 * meanwhile: the timer's callback waits for the loop's check phase (`setImmediate`), after its
 * I/O phase. Timers run before I/O in each turn of the loop, so when the process's own work held
 * the loop past a store deadline, a reply already in the socket lost to the timer (an SRE review:
 * sign-ins and `/login` pages answered "temporarily unavailable" under a burst with Redis idle).
 * Every store deadline of the hub waits this way (`deadlines.ts` sweeps so as well).
 */
export function ioDeadline(ms: number, expired: () => void): CancelDeadline {
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(expired);
  }, ms);
  return () => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}
