import { parse as parseCsv } from 'csv-parse/sync';
import { ConflictError, ValidationError } from '../errors.js';
import { legacyHashFrom } from '../users/legacy-hash.js';
import type { DomainServices } from '../domain-services.js';
import { foldAddress, foldName } from '../store/keys.js';
import { isUcCharset, UC_CHARSETS } from './charset.js';

/** One row of UCenter's `uc_members` table, as far as the hub keeps it. */
export interface UcMember {
  uid: number;
  username: string;
  email: string;
  /** md5(md5(password) . salt), hex. */
  password: string;
  salt: string;
  regdate: number;
}

/** uc_members' column order in UCenter 1.6's install SQL, for a dump without its CREATE TABLE. */
const DEFAULT_COLUMNS = ['uid', 'username', 'password', 'email', 'myid', 'myidkey', 'regip', 'regdate', 'lastloginip', 'lastlogintime', 'salt', 'secques'];

type SqlValue = string | null;

/** The value tuples of a MySQL `VALUES (…),(…)` list: quoted strings with backslash escapes, numbers, NULL. */
function sqlTuples(text: string, start: number): { rows: SqlValue[][]; end: number } {
  const rows: SqlValue[][] = [];
  let i = start;
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', '0': '\0', Z: '\x1a', b: '\b' };
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i += 1;
  };
  for (;;) {
    skipSpace();
    if (text[i] !== '(') break;
    i += 1;
    const row: SqlValue[] = [];
    for (;;) {
      skipSpace();
      if (text[i] === "'") {
        let value = '';
        i += 1;
        while (i < text.length && text[i] !== "'") {
          if (text[i] === '\\') {
            const next = text[i + 1]!;
            value += escapes[next] ?? next;
            i += 2;
          } else if (text[i] === "'" && text[i + 1] === "'") {
            value += "'";
            i += 2;
          } else {
            value += text[i];
            i += 1;
          }
        }
        i += 1;
        row.push(value);
      } else {
        const match = /^[^,)\s]+/.exec(text.slice(i, i + 64));
        if (!match) throw new ValidationError(`cannot read the dump near: ${text.slice(i, i + 30)}`);
        row.push(match[0].toUpperCase() === 'NULL' ? null : match[0]);
        i += match[0].length;
      }
      skipSpace();
      if (text[i] === ',') { i += 1; continue; }
      if (text[i] === ')') { i += 1; break; }
      throw new ValidationError(`cannot read the dump near: ${text.slice(i, i + 30)}`);
    }
    rows.push(row);
    skipSpace();
    if (text[i] === ',') { i += 1; continue; }
    break;
  }
  return { rows, end: i };
}

function fromRecord(record: Record<string, SqlValue | undefined>): UcMember {
  const uid = Number(record.uid);
  if (!Number.isSafeInteger(uid) || uid < 1) throw new ValidationError(`a uc_members row has no valid uid: ${String(record.uid)}`);
  return {
    uid,
    username: String(record.username ?? ''),
    email: String(record.email ?? ''),
    password: String(record.password ?? ''),
    salt: String(record.salt ?? ''),
    regdate: Number(record.regdate ?? 0) || 0,
  };
}

/** A `mysqldump` of uc_members (any table prefix): its INSERT statements, with the CREATE TABLE's column order. */
export function parseMysqldump(text: string): UcMember[] {
  const create = /CREATE TABLE `?\w*members`?\s*\(([\s\S]*?)\)\s*(?:ENGINE|TYPE|;)/i.exec(text);
  const columns = create
    ? [...create[1]!.matchAll(/^\s*`(\w+)`/gm)].map((m) => m[1]!)
    : DEFAULT_COLUMNS;
  const members: UcMember[] = [];
  const insert = /INSERT INTO `?\w*members`?\s*(\(([^)]*)\))?\s*VALUES\s*/gi;
  for (let match = insert.exec(text); match; match = insert.exec(text)) {
    const names = match[2] ? match[2].split(',').map((name) => name.trim().replace(/`/g, '')) : columns;
    const { rows, end } = sqlTuples(text, insert.lastIndex);
    for (const row of rows) members.push(fromRecord(Object.fromEntries(names.map((name, index) => [name, row[index]]))));
    insert.lastIndex = end;
  }
  return members;
}

/** A CSV export with a header row naming at least uid, username, email, password, salt (regdate optional). */
export function parseCsvMembers(text: string): UcMember[] {
  const records = parseCsv(text, { columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  const first = records[0];
  for (const column of ['uid', 'username', 'email', 'password', 'salt']) {
    if (first && !(column in first)) throw new ValidationError(`the CSV has no "${column}" column (expected uid, username, email, password, salt, regdate)`);
  }
  return records.map(fromRecord);
}

/**
 * The uid UCenter would have given its next member: a mysqldump's `AUTO_INCREMENT=N` on the
 * members table, or undefined (a CSV, a dump without it). Above the highest exported uid when
 * the last members registered were deleted: UCenter never gave their uids again, and the
 * applications may still hold what pointed at them (Discuz!'s "delete member, keep posts").
 */
export function dumpNextUid(text: string): number | undefined {
  const match = /CREATE TABLE `?\w*members`?\s*\([\s\S]*?\)\s*(?:ENGINE|TYPE)\s*=[^;]*?\bAUTO_INCREMENT\s*=\s*(\d{1,15})/i.exec(text);
  return match ? Number(match[1]) : undefined;
}

export function parseUcMembers(text: string): UcMember[] {
  return /INSERT INTO/i.test(text) ? parseMysqldump(text) : parseCsvMembers(text);
}

/**
 * The text of an export file, from its bytes: UTF-8 unless `charset` names the forum's (a GBK or
 * BIG5 edition's Discuz! backup or CSV). Bytes that are not text in that charset stop the import
 * before anything is written: read as UTF-8, a GBK export's Chinese names came out as U+FFFD, so
 * their members were skipped ("A username has 2 to 64 letters") and the ASCII ones imported.
 */
export function decodeExport(bytes: Uint8Array, file: string, charset?: string): string {
  if (charset !== undefined && !isUcCharset(charset)) throw new ValidationError(`--charset names the export's character set: ${UC_CHARSETS.join(', ')}`);
  try {
    return new TextDecoder(charset ?? 'utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError(charset
      ? `${file} is not ${charset} text: nothing imported; check the forum's UC_CHARSET (utf-8, gbk or big5) and the export`
      : `${file} is not UTF-8 text (the export of a GBK or BIG5 forum?): nothing imported; run the import again with --charset gbk (or big5, the forum's UC_CHARSET), or convert the file first (iconv -f gbk -t utf-8)`);
  }
}

/** A uid of the export that a hub user of another name holds (made at the hub before the import). */
export interface UidClash {
  uid: number;
  member: string;
  holder: string;
}

/**
 * Refuses an import while hub users of other names hold uids of the export: UCenter applications
 * know a member by uid (Discuz! X's synlogin note signs in the local member with that uid), so
 * each such hub user would be signed in there as that member, and the member could not be
 * imported. Nothing is written; `clashes` lists them.
 */
export class UidClashError extends ValidationError {
  constructor(readonly clashes: UidClash[]) {
    super(`${clashes.length} uid(s) of the export belong to hub users of other names, made at the hub before the import: nothing imported`);
  }
}

/** Members whose uids are looked up at once (two MGETs a batch). */
const CLASH_BATCH = 1000;

/**
 * The export's uids that hub users of other names hold, leaving out uids an earlier import gave
 * (`imported`, the ledger's entries: the same member, renamed in a later dump).
 */
export async function findUidClashes(users: Pick<DomainServices['users'], 'findManyByUid'>, members: UcMember[], imported: ReadonlySet<string> = new Set()): Promise<UidClash[]> {
  const clashes: UidClash[] = [];
  const asked = members.filter((member) => !imported.has(`uid:${member.uid}`));
  for (let start = 0; start < asked.length; start += CLASH_BATCH) {
    const batch = asked.slice(start, start + CLASH_BATCH);
    const holders = await users.findManyByUid(batch.map((member) => member.uid));
    batch.forEach((member, index) => {
      const holder = holders[index];
      if (holder && foldName(holder.username) !== foldName(member.username)) clashes.push({ uid: member.uid, member: member.username, holder: holder.username });
    });
  }
  return clashes;
}

/** Members imported at once. */
const IMPORT_CONCURRENCY = 32;

/**
 * The rows' indexes: those that share nothing the store keeps unique (uid, name as the name index
 * folds it, address as the address index lowers it) with an earlier row, and those that do.
 */
function splitByEarlierRows(members: readonly UcMember[]): { independent: number[]; after: number[] } {
  const seen = new Set<string>();
  const independent: number[] = [];
  const after: number[] = [];
  members.forEach((member, index) => {
    const claims = [`uid:${member.uid}`, `name:${foldName(member.username.trim())}`, `email:${foldAddress(member.email.trim())}`];
    (claims.some((claim) => seen.has(claim)) ? after : independent).push(index);
    for (const claim of claims) seen.add(claim);
  });
  return { independent, after };
}

/** Runs `work` on the members at `indexes`, at most `limit` at once; the first failure stops new work and is thrown once the running ones settle. */
async function eachConcurrently(members: readonly UcMember[], indexes: readonly number[], limit: number, work: (member: UcMember, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < indexes.length) {
      const index = indexes[next++]!;
      try {
        await work(members[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, indexes.length) }, worker));
  if (failure) throw failure.error;
}

export interface ImportReport {
  imported: number;
  /** Every row not imported and why, those counted in `deleted` included. */
  skipped: { uid: number; username: string; reason: string }[];
  /** How many of the skipped rows an earlier import created and an admin has deleted since. */
  deleted: number;
}

export interface ImportOptions {
  /** Creates again members an admin deleted after an earlier import (default false: an admin's deletion stands). */
  includeDeleted?: boolean;
  /**
   * The uid UCenter would have given next (its AUTO_INCREMENT, {@link dumpNextUid}, or
   * `--next-uid`): new hub users start there even when it is above every exported uid.
   */
  nextUid?: number;
}

/** The ledger's entries for a member: by uid, and by name as the username index compares it. */
function ledgerEntries(member: UcMember): string[] {
  return [`uid:${member.uid}`, `name:${foldName(member.username)}`];
}

/**
 * Creates the users with their uids and legacy hashes (accepted once at sign-in, then
 * replaced by argon2id). Rows that clash with existing users or are invalid are reported,
 * not imported; running the import again skips what is already there, and what an admin
 * deleted after an earlier import: each member created (or found already there) is
 * remembered in the store by uid and by name (Keys.ucenterImported), as the seed remembers
 * its entries, so a re-run of the same dump does not bring a deleted user back with its old
 * password. `includeDeleted` creates those again, on purpose.
 */
export async function importUcMembers(
  services: Pick<DomainServices, 'store' | 'keys' | 'users'>,
  members: UcMember[],
  options: ImportOptions = {},
): Promise<ImportReport> {
  const { store, keys, users } = services;
  const report: ImportReport = { imported: 0, skipped: [], deleted: 0 };
  const ledger = new Set(await store.setMembers(keys.ucenterImported()));
  const clashes = await findUidClashes(users, members, ledger);
  if (clashes.length) throw new UidClashError(clashes);
  const remember = async (member: UcMember) => {
    for (const entry of ledgerEntries(member)) {
      if (!ledger.has(entry)) await store.setAdd(keys.ucenterImported(), entry);
      ledger.add(entry);
    }
  };
  const skipped: { index: number; uid: number; username: string; reason: string }[] = [];
  const importOne = async (member: UcMember, index: number): Promise<void> => {
    const skip = (reason: string) => skipped.push({ index, uid: member.uid, username: member.username, reason });
    // Imported before and gone now (by uid or by name: a later dump may spell either differently): an admin deleted it.
    if (!options.includeDeleted && ledgerEntries(member).some((entry) => ledger.has(entry))) {
      const present = (await users.findByUid(member.uid)) ?? (await users.findByUsername(member.username));
      if (!present) {
        skip('imported before and deleted by an admin since (--include-deleted brings it back)');
        report.deleted += 1;
        return;
      }
    }
    const passwordHash = legacyHashFrom(member.password, member.salt);
    if (!passwordHash) {
      skip('the password is not a UCenter md5 hash');
      return;
    }
    try {
      await users.importUser({ uid: member.uid, username: member.username, email: member.email, passwordHash, ...(member.regdate ? { createdAt: member.regdate } : {}) });
      report.imported += 1;
      // Remembered after the write: a crash in between leaves a user that is there, remembered below next time.
      await remember(member);
    } catch (error) {
      if (!(error instanceof ValidationError || error instanceof ConflictError)) throw error;
      skip(error.publicMessage);
      // The same member there already (imported before the hub kept this ledger, or by a run beside this one): remembered too, so its deletion stands.
      const holder = error instanceof ConflictError ? await users.findByUid(member.uid) : undefined;
      if (holder && foldName(holder.username) === foldName(member.username)) await remember(member);
    }
  };
  // Members go IMPORT_CONCURRENCY at a time (each is a few store round trips, so a big forum over a
  // network waited on each in turn). Rows that share a uid, a name or an address with an earlier
  // row of the export wait for the rest and go one by one, in the file's order: whichever comes
  // first in the file wins, as when every row went in turn.
  const { independent, after } = splitByEarlierRows(members);
  await eachConcurrently(members, independent, IMPORT_CONCURRENCY, importOne);
  for (const index of after) await importOne(members[index]!, index);
  report.skipped = skipped.sort((a, b) => a.index - b.index).map(({ index: _index, ...row }) => row);
  const maxUid = Math.max(members.reduce((max, member) => Math.max(max, member.uid), 0), (options.nextUid ?? 1) - 1);
  // New users get uids above every imported one, and above every uid UCenter gave out: a member
  // deleted at the forum with their posts kept (Discuz!'s admin center) was the last to register,
  // and a new hub user given their uid became the author of those posts at the forum.
  if (maxUid > 0) await users.reserveUidsUpTo(maxUid);
  return report;
}
