import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The file paths of REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE, as given. */
export interface RedisTlsPaths {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

/** A TLS file setting that cannot be used: `variable` names it, the message says why (never its contents). */
export class RedisTlsFileError extends Error {
  override readonly name = 'RedisTlsFileError';
  constructor(readonly variable: string, reason: string) {
    super(`${variable}: ${reason}`);
  }
}

/**
 * The PEM files every TLS connection to Redis is made with: the CAs that may sign the servers'
 * certificates (instead of Node's trusted ones) and this hub's client certificate with its key
 * (for servers with `tls-auth-clients yes`). Read once at start, checked then (an operator learns
 * of a missing key file at deploy, not at the first reconnect). The contents are private fields:
 * logged or serialised, the object shows its paths only, never the key.
 */
export class RedisTlsFiles {
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly #ca: string | undefined;
  readonly #cert: string | undefined;
  readonly #key: string | undefined;

  constructor(paths: RedisTlsPaths, contents: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined }) {
    this.caFile = paths.caFile;
    this.certFile = paths.certFile;
    this.keyFile = paths.keyFile;
    this.#ca = contents.ca;
    this.#cert = contents.cert;
    this.#key = contents.key;
  }

  /** What node's `tls.connect` takes (node-redis passes its socket options on). */
  socketOptions(): { ca?: string; cert?: string; key?: string } {
    return {
      ...(this.#ca !== undefined ? { ca: this.#ca } : {}),
      ...(this.#cert !== undefined ? { cert: this.#cert } : {}),
      ...(this.#key !== undefined ? { key: this.#key } : {}),
    };
  }

  /** Whether a client certificate is given. */
  get hasClientCertificate(): boolean {
    return this.#cert !== undefined;
  }

  toJSON(): RedisTlsPaths {
    return { caFile: this.caFile, certFile: this.certFile, keyFile: this.keyFile };
  }
}

/** Why a file cannot be read, in an operator's words (the error's own message repeats the path). */
function unreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'this process may not read it (permissions: the hub runs as its own user)';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot be read (${code ?? 'unknown error'})`;
}

function read(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new RedisTlsFileError(variable, `${path}: ${unreadable(error)}`);
  }
}

const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM file, parsed; a file with none, or one that does not parse, is refused. */
function certificates(variable: string, path: string, text: string): X509Certificate[] {
  const blocks = text.match(CERTIFICATE_PEM) ?? [];
  if (blocks.length === 0) throw new RedisTlsFileError(variable, `${path} holds no PEM certificate (a -----BEGIN CERTIFICATE----- block)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new RedisTlsFileError(variable, `${path}: certificate ${i + 1} of the file does not parse as X.509`);
    }
  });
}

function privateKey(path: string, text: string): KeyObject {
  // Said before parsing: OpenSSL's own error for a key with a passphrase names no cause an operator knows.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new RedisTlsFileError('REDIS_TLS_KEY_FILE', `${path} is encrypted with a passphrase, which the hub cannot be given: use the key without one (openssl pkey -in KEY -out PLAIN), readable only by the hub's user`);
  }
  try {
    return createPrivateKey(text);
  } catch {
    throw new RedisTlsFileError('REDIS_TLS_KEY_FILE', `${path} holds no private key in PEM form (a -----BEGIN PRIVATE KEY----- block)`);
  }
}

/**
 * Reads and checks the TLS files given (undefined when none is): each readable and PEM, a client
 * certificate with its key and that key its own, the certificate not expired. Throws
 * RedisTlsFileError naming the variable to fix.
 */
export function loadRedisTlsFiles(paths: RedisTlsPaths, now = new Date()): RedisTlsFiles | undefined {
  const { caFile, certFile, keyFile } = paths;
  if (!caFile && !certFile && !keyFile) return undefined;
  if (certFile && !keyFile) throw new RedisTlsFileError('REDIS_TLS_KEY_FILE', 'required with REDIS_TLS_CERT_FILE (the client certificate\'s private key, PEM)');
  if (keyFile && !certFile) throw new RedisTlsFileError('REDIS_TLS_CERT_FILE', 'required with REDIS_TLS_KEY_FILE (the client certificate the key belongs to, PEM)');
  const ca = caFile ? read('REDIS_TLS_CA_FILE', caFile) : undefined;
  if (ca !== undefined) certificates('REDIS_TLS_CA_FILE', caFile!, ca);
  let cert: string | undefined;
  let key: string | undefined;
  if (certFile && keyFile) {
    cert = read('REDIS_TLS_CERT_FILE', certFile);
    const [leaf] = certificates('REDIS_TLS_CERT_FILE', certFile, cert);
    if (new Date(leaf!.validTo) < now) throw new RedisTlsFileError('REDIS_TLS_CERT_FILE', `the certificate in ${certFile} expired on ${new Date(leaf!.validTo).toISOString()}: Redis would refuse it; renew it`);
    key = read('REDIS_TLS_KEY_FILE', keyFile);
    if (!leaf!.checkPrivateKey(privateKey(keyFile, key))) {
      throw new RedisTlsFileError('REDIS_TLS_KEY_FILE', `${keyFile} is not the private key of the certificate in REDIS_TLS_CERT_FILE (${certFile})`);
    }
  }
  return new RedisTlsFiles(paths, { ca, cert, key });
}

/**
 * What a TLS handshake failure asks the operator to fix, or undefined when `message` is none:
 * node-redis passes Node's and OpenSSL's words on ("tlsv13 alert certificate required", "self-signed
 * certificate in certificate chain"), which name no setting.
 */
export function tlsFailureHint(message: string): string | undefined {
  if (/certificate required|alert number 116\b/i.test(message)) {
    return 'the server asks for a client certificate (tls-auth-clients): set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE to one signed by a CA it trusts (tls-ca-cert-file)';
  }
  if (/alert (bad certificate|unknown ca|certificate unknown|certificate expired|certificate revoked)|alert number (42|44|45|46|48)\b/i.test(message)) {
    return 'the server refused this hub\'s client certificate (REDIS_TLS_CERT_FILE): it must be signed by a CA in the server\'s tls-ca-cert-file, and still valid';
  }
  if (/self[- ]signed certificate|unable to (get local issuer|verify the first) certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE/i.test(message)) {
    return 'this hub does not trust the server\'s certificate: set REDIS_TLS_CA_FILE to the PEM of the CA that signed it';
  }
  if (/certificate has expired|CERT_HAS_EXPIRED/i.test(message)) return 'the server\'s certificate has expired: renew it on the Redis server';
  if (/Hostname\/IP does not match certificate|ERR_TLS_CERT_ALTNAME_INVALID/i.test(message)) {
    return 'the server\'s certificate does not name the address the hub connects to: give the address by a name or IP its certificate lists (subjectAltName)';
  }
  return undefined;
}
