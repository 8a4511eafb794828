import type Provider from 'oidc-provider';
import type { AuditLog } from './audit/audit-log.js';
import type { HubConfig } from './config.js';
import type { DeliveryQueue } from './delivery/delivery-queue.js';
import type { AccountLifecycle } from './users/account-lifecycle.js';
import type { ClientRegistry } from './clients/client-registry.js';
import type { ConsentIndex } from './oidc/consents.js';
import type { SessionIndex } from './oidc/session-index.js';
import type { LoginThrottle } from './security/login-throttle.js';
import type { Keys } from './store/keys.js';
import type { Store } from './store/store.js';
import type { SyncPlanner } from './sync/sync-page.js';
import type { PasswordHasher } from './users/passwords.js';
import type { UserRepository } from './users/user-repository.js';
import type { UcenterAppRegistry } from './ucenter/ucenter-apps.js';
import type { UcenterService } from './ucenter/ucenter-service.js';
import type { Views } from './views/views.js';

/** Everything the hub's routes use, assembled once in `createHub`. */
export interface HubServices {
  config: HubConfig;
  store: Store;
  keys: Keys;
  users: UserRepository;
  hasher: PasswordHasher;
  clients: ClientRegistry;
  consents: ConsentIndex;
  sessions: SessionIndex;
  throttle: LoginThrottle;
  sync: SyncPlanner;
  views: Views;
  provider: Provider;
  cookieKeys: string[];
  /** Userdelete and back-channel logout deliveries, retried until the subsite answers 2xx. */
  deliveries: DeliveryQueue;
  audit: AuditLog;
  /** Disable, delete, end sessions: with the forced logout at every subsite. */
  lifecycle: AccountLifecycle;
  /** The hub as UCenter server for applications bound to UCenter (hub/src/ucenter/). */
  ucenter: { apps: UcenterAppRegistry; service: UcenterService };
}
