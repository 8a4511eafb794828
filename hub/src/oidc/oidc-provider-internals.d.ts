/** The one oidc-provider internal the hub uses (see provider-keys.ts). */
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeystore(this: unknown, jwks: { keys: Record<string, unknown>[] }): void;
}
