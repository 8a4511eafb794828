import { Secret, TOTP } from 'otpauth';
import { looksLikeRecoveryCode, newRecoveryCodes, normaliseRecoveryCode, recoveryCodeDigest } from './recovery-codes.js';
import { looksLikeTotp, newTotpSecret, TOTP_PARAMS, totpStep } from './totp.js';

/** What an input method in full-width mode types for ASCII letters, digits and '-' (U+FF01…U+FF5E). */
function fullWidth(text: string): string {
  return text.replace(/[!-~]/g, (char) => String.fromCharCode(char.charCodeAt(0) + 0xfee0));
}

describe('codes typed with a full-width input method (zh-CN, ja)', () => {
  test('a TOTP code in full-width digits is the code it reads as', () => {
    const secret = newTotpSecret();
    const now = Date.now();
    const code = new TOTP({ secret: Secret.fromBase32(secret), ...TOTP_PARAMS }).generate({ timestamp: now });
    expect(looksLikeTotp(fullWidth(code))).toBe(true);
    expect(totpStep(secret, fullWidth(code), now)).toBe(totpStep(secret, code, now));
    expect(totpStep(secret, `${fullWidth(code.slice(0, 3))}\u3000${fullWidth(code.slice(3))}`, now)).toBe(totpStep(secret, code, now));
    // Other digits stay refused: only NFKC's compatibility forms are read.
    expect(looksLikeTotp('١٢٣٤٥٦')).toBe(false);
  });

  test('a recovery code in full-width letters, digits and dash is the code it reads as', () => {
    const [code] = newRecoveryCodes(1);
    expect(looksLikeRecoveryCode(fullWidth(code!))).toBe(true);
    expect(normaliseRecoveryCode(fullWidth(code!.toUpperCase()))).toBe(normaliseRecoveryCode(code!));
    expect(recoveryCodeDigest(fullWidth(code!))).toBe(recoveryCodeDigest(code!));
  });
});
