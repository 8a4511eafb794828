/** The oidc-provider internals the hub uses (see provider-keys.ts and request-context.ts). */
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeystore(this: unknown, jwks: { keys: Record<string, unknown>[] }): void;
}

/** oidc-provider's request context: the hub keeps its portal requests' context in it too (request-context.ts). */
declare module 'oidc-provider/lib/helpers/als.js' {
  const storage: import('node:async_hooks').AsyncLocalStorage<unknown>;
  export default storage;
}

/** oidc-provider's router: its routes are registered through it in the provider's constructor (shared-oidc-getter.ts). */
declare module 'oidc-provider/lib/helpers/router.js' {
  export default class Router {}
}
