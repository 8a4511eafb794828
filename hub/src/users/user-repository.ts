import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import type { PasswordHasher } from './passwords.js';
import { toPublic, type PublicUser, type User } from './user.js';

const USERNAME = /^[a-zA-Z0-9._-]{2,64}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_PASSWORD_LENGTH = 8; // NIST SP 800-63B minimum for user-chosen passwords
const MAX_PASSWORD_LENGTH = 256; // bounds the hashing work an attacker can ask for

export interface NewUser {
  username: string;
  email: string;
  name?: string;
  password: string;
  roles?: string[];
  id?: string;
}

/** Users in the store: records by id, with unique username and email indexes. */
export class UserRepository {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
    private readonly hasher: PasswordHasher,
  ) {}

  static checkPassword(password: string): void {
    if (password.length < MIN_PASSWORD_LENGTH) throw new ValidationError(`The password needs at least ${MIN_PASSWORD_LENGTH} characters.`);
    if (password.length > MAX_PASSWORD_LENGTH) throw new ValidationError(`The password may have at most ${MAX_PASSWORD_LENGTH} characters.`);
  }

  async create(input: NewUser): Promise<PublicUser> {
    const username = input.username.trim();
    const email = input.email.trim();
    if (!USERNAME.test(username)) throw new ValidationError('A username has 2 to 64 letters, digits, dots, dashes or underscores.');
    if (!EMAIL.test(email)) throw new ValidationError('That e-mail address does not look right.');
    UserRepository.checkPassword(input.password);
    const user: User = {
      id: input.id ?? randomUUID(),
      username,
      email,
      name: input.name?.trim() || username,
      passwordHash: await this.hasher.hash(input.password),
      disabled: false,
      roles: input.roles ?? [],
      createdAt: Math.floor(Date.now() / 1000),
    };
    // Claim the unique names first so two concurrent creates cannot both succeed.
    if (!(await this.store.set(this.keys.userByName(username), user.id, { onlyIfAbsent: true }))) {
      throw new ConflictError(`The username ${username} is taken.`);
    }
    if (!(await this.store.set(this.keys.userByEmail(email), user.id, { onlyIfAbsent: true }))) {
      await this.store.del(this.keys.userByName(username));
      throw new ConflictError(`The e-mail address ${email} is already registered.`);
    }
    await this.store.set(this.keys.user(user.id), JSON.stringify(user));
    await this.store.setAdd(this.keys.users(), user.id);
    return toPublic(user);
  }

  async findById(id: string): Promise<User | undefined> {
    const raw = await this.store.get(this.keys.user(id));
    return raw ? (JSON.parse(raw) as User) : undefined;
  }

  /** By username or e-mail address, case-insensitively. */
  async findByLogin(login: string): Promise<User | undefined> {
    const trimmed = login.trim();
    if (!trimmed) return undefined;
    const id = (await this.store.get(this.keys.userByName(trimmed))) ?? (await this.store.get(this.keys.userByEmail(trimmed)));
    return id ? this.findById(id) : undefined;
  }

  async require(idOrLogin: string): Promise<User> {
    const user = (await this.findById(idOrLogin)) ?? (await this.findByLogin(idOrLogin));
    if (!user) throw new NotFoundError(`No user ${idOrLogin}.`);
    return user;
  }

  async list(): Promise<PublicUser[]> {
    const ids = await this.store.setMembers(this.keys.users());
    const raws = await this.store.getMany(ids.map((id) => this.keys.user(id)));
    return raws
      .filter((raw): raw is string => raw !== null)
      .map((raw) => toPublic(JSON.parse(raw) as User))
      .sort((a, b) => a.username.localeCompare(b.username));
  }

  async update(id: string, change: Partial<Pick<User, 'disabled' | 'name' | 'roles' | 'passwordHash'>>): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw new NotFoundError(`No user ${id}.`);
    const next = { ...user, ...change };
    await this.store.set(this.keys.user(id), JSON.stringify(next));
    return next;
  }

  async setPassword(id: string, password: string): Promise<void> {
    UserRepository.checkPassword(password);
    await this.update(id, { passwordHash: await this.hasher.hash(password) });
  }

  async delete(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw new NotFoundError(`No user ${id}.`);
    await this.store.del(this.keys.user(id), this.keys.userByName(user.username), this.keys.userByEmail(user.email));
    await this.store.setRemove(this.keys.users(), id);
    return user;
  }
}
