import { randomBytes } from 'node:crypto';
import { ConflictError, msg, NotFoundError, ValidationError } from '../errors.js';
import type { Keys } from '../store/keys.js';
import { compareAndSet } from '../store/compare-and-set.js';
import { keepRemovedFromSeeds, seedEntry } from '../seed-entries.js';
import type { Store } from '../store/store.js';
import { ucKeySeen, ucSettingsSeen, type UcenterApp } from './ucenter-app.js';
import { isUcCharset, UC_CHARSETS } from './charset.js';
import { hasForbiddenNameCharacter } from '../users/user.js';

export interface UcenterAppInput {
  appId?: number;
  name: string;
  type?: string;
  url: string;
  noteFile?: string;
  internalUrl?: string;
  synlogin?: boolean;
  updatepw?: boolean;
  allowRegister?: boolean;
  /** UC_CHARSET: utf-8 (the default), gbk or big5. */
  charset?: string;
  /** An older uc_client's calls, which do not name their operation in the input (see UcenterApp). */
  insecureOperation?: boolean;
}

const NOTE_FILE = /^[A-Za-z0-9._/-]{1,200}$/;
const TYPE = /^[A-Za-z0-9_]{1,32}$/;
/** A host name as `new URL()` normalises it (letters lower-cased, IDNA as xn--), or an IPv6 literal. */
const HOST = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])$/;

/** A UC_KEY: 64 characters from the CSPRNG (UCenter's own keys are 64 characters too). */
export function generateUcKey(): string {
  return randomBytes(48).toString('base64url');
}

function checkBaseUrl(value: string, field: 'url' | 'internalUrl'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(msg('errors:ucenterApps.notUrl', { field, value }));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError(msg('errors:ucenterApps.notHttp', { field, value }));
  if (url.search || url.hash) throw new ValidationError(msg('errors:ucenterApps.queryOrFragment', { field, value }));
  if (url.username || url.password) throw new ValidationError(msg('errors:ucenterApps.credentialsInUrl', { field }));
  // `new URL()` keeps characters in a host that no host name has (a quote, a backtick, `%22`):
  // only host names (after IDNA), IPv4 and bracketed IPv6 literals. The path's quotes and angle
  // brackets come out percent-encoded in the normalised form; the script tag escapes too.
  if (!HOST.test(url.hostname)) throw new ValidationError(msg('errors:ucenterApps.badHost', { field, value }));
  return url.href.replace(/\/+$/, '');
}

/** The registered UCenter applications, in the store (few; read whole when a sync page needs them). */
export class UcenterAppRegistry {
  readonly #changed: (() => Promise<unknown>)[] = [];
  readonly #removed: ((app: UcenterApp) => Promise<unknown>)[] = [];

  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  /** Runs after an application is added or removed (the list the applications cache changed). */
  onListChange(listener: () => Promise<unknown>): void {
    this.#changed.push(listener);
  }

  /** Runs after an application is removed, with the record it had (its pending notes are dropped so). */
  onRemove(listener: (app: UcenterApp) => Promise<unknown>): void {
    this.#removed.push(listener);
  }

  async #listChanged(): Promise<void> {
    for (const listener of this.#changed) await listener();
  }

  /**
   * Creates an application with a given id and key (a seed, whose key is in its file), only where
   * none is: an application there already (registered meanwhile, or listed twice in one file) is a
   * ConflictError and stays as it is. Keys shorter than 32 characters are refused.
   */
  async put(input: UcenterAppInput & { appId: number; key: string }): Promise<UcenterApp> {
    const app = UcenterAppRegistry.checked(input);
    if (!(await this.store.set(this.keys.ucenterApp(app.appId), JSON.stringify(app), { onlyIfAbsent: true }))) {
      throw new ConflictError(msg('errors:ucenterApps.appIdTaken', { appId: app.appId }));
    }
    await this.store.setAdd(this.keys.ucenterApps(), String(app.appId));
    await this.#listChanged();
    return app;
  }

  /** The application `put` would write, checked (nothing is written): a ValidationError says what is wrong. */
  static checked(input: UcenterAppInput & { appId: number; key: string }): UcenterApp {
    if (input.key.length < 32) throw new ValidationError(msg('errors:ucenterApps.keyShort'));
    return { ...UcenterAppRegistry.#build(input), appId: UcenterAppRegistry.#appId(input.appId), key: input.key };
  }

  /** Registers an application with a fresh key; the key is in the answer (show it once). */
  async register(input: UcenterAppInput): Promise<UcenterApp> {
    const app = UcenterAppRegistry.#build(input);
    if (input.appId !== undefined) {
      app.appId = UcenterAppRegistry.#appId(input.appId);
      if (!(await this.store.set(this.keys.ucenterApp(input.appId), JSON.stringify(app), { onlyIfAbsent: true }))) {
        throw new ConflictError(msg('errors:ucenterApps.appIdTaken', { appId: input.appId }));
      }
    } else {
      for (;;) {
        app.appId = await this.store.incr(this.keys.ucenterAppCounter());
        if (await this.store.set(this.keys.ucenterApp(app.appId), JSON.stringify(app), { onlyIfAbsent: true })) break;
      }
    }
    await this.store.setAdd(this.keys.ucenterApps(), String(app.appId));
    await this.#listChanged();
    return app;
  }

  static #appId(appId: number): number {
    if (!Number.isSafeInteger(appId) || appId < 1) throw new ValidationError(msg('errors:ucenterApps.appIdFormat'));
    return appId;
  }

  static #build(input: UcenterAppInput): UcenterApp {
    const name = input.name.trim();
    if (!name || name.length > 100) throw new ValidationError(msg('errors:ucenterApps.nameNeeded'));
    if (hasForbiddenNameCharacter(name)) throw new ValidationError(msg('errors:ucenterApps.nameForbidden'));
    const type = (input.type ?? 'OTHER').trim().toUpperCase();
    if (!TYPE.test(type)) throw new ValidationError(msg('errors:ucenterApps.typeFormat'));
    const noteFile = (input.noteFile ?? 'api/uc.php').trim().replace(/^\/+/, '');
    if (!NOTE_FILE.test(noteFile) || noteFile.includes('..')) throw new ValidationError(msg('errors:ucenterApps.noteFileFormat'));
    const charset = (input.charset ?? 'utf-8').trim().toLowerCase().replace(/^utf8$/, 'utf-8');
    if (!isUcCharset(charset)) throw new ValidationError(msg('errors:ucenterApps.charset', { known: UC_CHARSETS.join(', ') }));
    const app: UcenterApp = {
      appId: 0,
      name,
      type,
      url: checkBaseUrl(input.url.trim(), 'url'),
      noteFile,
      ...(input.internalUrl?.trim() ? { internalUrl: checkBaseUrl(input.internalUrl.trim(), 'internalUrl') } : {}),
      key: generateUcKey(),
      synlogin: input.synlogin ?? true,
      updatepw: input.updatepw ?? false,
      allowRegister: input.allowRegister ?? false,
      ...(input.insecureOperation ? { insecureOperation: true } : {}),
      ...(charset !== 'utf-8' ? { charset } : {}),
      createdAt: Math.floor(Date.now() / 1000),
      generation: randomBytes(12).toString('base64url'),
    };
    return app;
  }

  async find(appId: number): Promise<UcenterApp | undefined> {
    if (!Number.isSafeInteger(appId) || appId < 1) return undefined;
    const raw = await this.store.get(this.keys.ucenterApp(appId));
    return raw ? (JSON.parse(raw) as UcenterApp) : undefined;
  }

  async require(appId: number): Promise<UcenterApp> {
    const app = await this.find(appId);
    if (!app) throw new NotFoundError(msg('errors:noUcenterApp', { app: appId }));
    return app;
  }

  /** Every application, by app id. */
  async list(): Promise<UcenterApp[]> {
    const ids = await this.store.setMembers(this.keys.ucenterApps());
    if (ids.length === 0) return [];
    const raws = await this.store.getMany(ids.map((id) => this.keys.ucenterApp(Number(id))));
    return raws
      .filter((raw): raw is string => raw !== null)
      .map((raw) => JSON.parse(raw) as UcenterApp)
      .sort((a, b) => a.appId - b.appId);
  }

  /**
   * Changes an application's settings in place: its app id, key, registration (`generation`) and
   * pending notes stay, so the site's config (UC_APPID, UC_KEY) stays as it is. A forum that moved
   * (a new address, https) had only remove-and-register, which gave it a new key and dropped its
   * queued notes (an operator review). `internalUrl: ''` drops the internal address. The
   * applications are sent their new list, as at a registration. With `ifSettings` (the console's
   * form, see {@link ucSettingsSeen}), settings changed since that page was shown are a
   * ConflictError, nothing saved, unless this change asks for exactly the settings there are now.
   */
  async update(appId: number, change: Omit<Partial<UcenterAppInput>, 'appId'>, { ifGeneration, ifSettings }: { ifGeneration?: string; ifSettings?: string } = {}): Promise<{ before: UcenterApp; app: UcenterApp }> {
    // Compare-and-set: an update racing the application's removal does not bring its record back.
    const result = await compareAndSet(this.store, this.keys.ucenterApp(appId), (raw) => {
      if (!raw) throw new NotFoundError(msg('errors:noUcenterApp', { app: appId }));
      const before = JSON.parse(raw) as UcenterApp;
      // The console's form names the registration it was opened on: not another registered since under this app id.
      if (ifGeneration !== undefined && before.generation !== undefined && before.generation !== ifGeneration) {
        throw new ConflictError(msg('errors:ucenterApps.registeredAgainEdit', { appId }));
      }
      const internalUrl = change.internalUrl ?? before.internalUrl;
      const merged: UcenterAppInput = {
        name: change.name ?? before.name,
        type: change.type ?? before.type,
        url: change.url ?? before.url,
        noteFile: change.noteFile ?? before.noteFile,
        ...(internalUrl ? { internalUrl } : {}),
        synlogin: change.synlogin ?? before.synlogin,
        updatepw: change.updatepw ?? before.updatepw ?? false,
        allowRegister: change.allowRegister ?? before.allowRegister,
        charset: change.charset ?? before.charset ?? 'utf-8',
        insecureOperation: change.insecureOperation ?? before.insecureOperation ?? false,
      };
      const build = (): UcenterApp => {
        const { generation: _fresh, ...built } = UcenterAppRegistry.#build(merged);
        return { ...built, appId, key: before.key, createdAt: before.createdAt, ...(before.generation ? { generation: before.generation } : {}) };
      };
      // Changed since the page was shown: refused (a refused value too is told of the change first),
      // unless this change asks for exactly the settings there are now (nothing to save).
      if (ifSettings !== undefined && ifSettings !== ucSettingsSeen(before)) {
        let same = false;
        try {
          same = ucSettingsSeen(build()) === ucSettingsSeen(before);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
        }
        if (!same) throw new ConflictError(msg('errors:ucenterApps.changedSince', { appId }));
      }
      const app = build();
      return { write: JSON.stringify(app), result: { before, app } };
    });
    await this.#listChanged();
    return result;
  }

  /**
   * A new key for the application (shown once); the old one stops working at once. With
   * `ifKeySeen` (the console's form, see {@link ucKeySeen}), a key changed since that page was shown
   * (another tab, another admin, `ucenter apps rotate-key`) is a ConflictError and nothing changes:
   * a second "New key" would stop the key the first one showed while it is being put into UC_KEY.
   */
  async rotateKey(appId: number, { ifKeySeen }: { ifKeySeen?: string } = {}): Promise<UcenterApp> {
    // Compare-and-set: a rotation racing the application's removal does not bring its record back.
    return compareAndSet(this.store, this.keys.ucenterApp(appId), (raw) => {
      if (!raw) throw new NotFoundError(msg('errors:noUcenterApp', { app: appId }));
      const current = JSON.parse(raw) as UcenterApp;
      if (ifKeySeen !== undefined && ucKeySeen(current) !== ifKeySeen) throw new ConflictError(msg('errors:ucenterApps.keyRotatedSince', { appId }));
      const next: UcenterApp = { ...current, key: generateUcKey() };
      return { write: JSON.stringify(next), result: next };
    });
  }

  /**
   * Removes the application. With `ifGeneration` (the console's confirmation page carries the
   * registration it showed), one removed and registered again under the same app id since is not
   * the one removed: a ConflictError, nothing removed.
   */
  async remove(appId: number, { ifGeneration }: { ifGeneration?: string } = {}): Promise<void> {
    const key = this.keys.ucenterApp(appId);
    // The record read is the one deleted (Store.swap): a registration made between the read and the
    // delete (another admin, the CLI) is read again, and refused when it is not the one shown.
    const app = await compareAndSet(this.store, key, (raw) => {
      if (!raw) throw new NotFoundError(msg('errors:noUcenterApp', { app: appId }));
      const current = JSON.parse(raw) as UcenterApp;
      if (ifGeneration !== undefined && current.generation !== undefined && current.generation !== ifGeneration) {
        throw new ConflictError(msg('errors:ucenterApps.registeredAgain', { appId }));
      }
      return { write: null, result: current };
    });
    await keepRemovedFromSeeds(this.store, this.keys, seedEntry.ucenterApp(appId));
    await this.store.setRemove(this.keys.ucenterApps(), String(appId));
    for (const listener of this.#removed) await listener(app);
    await this.#listChanged();
  }

}
