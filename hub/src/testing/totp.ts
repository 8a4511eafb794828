import { Secret, TOTP } from 'otpauth';

const PERIOD_MS = 30_000;

/** The code an authenticator app shows for `secret`, `offsetSteps` periods from now (computed with otpauth, not the hub). */
export function totpCode(secret: string, offsetSteps = 0, now = Date.now()): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: now + offsetSteps * PERIOD_MS });
}

/**
 * Waits out the last `marginMs` of the current 30-second step, so codes computed now for
 * steps -1, 0 and +1 all stay accepted (±1 step) while a test uses them.
 */
export async function awayFromStepEdge(marginMs = 10_000): Promise<void> {
  const into = Date.now() % PERIOD_MS;
  if (into > PERIOD_MS - marginMs) await new Promise((resolve) => setTimeout(resolve, PERIOD_MS - into + 250));
}
