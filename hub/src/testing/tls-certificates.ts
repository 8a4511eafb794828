import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** PEM files made by `tlsCertificates`: a CA, a server certificate for 127.0.0.1 and a client certificate, each signed by the CA. */
export interface TestCertificates {
  ca: string;
  /** The server's certificate and key (subjectAltName IP:127.0.0.1). */
  cert: string;
  key: string;
  /** A client certificate and its key, for servers with `tls-auth-clients yes`. */
  clientCert: string;
  clientKey: string;
  /** A second CA, which signed nothing the servers know: a server's certificate does not verify against it. */
  otherCa: string;
}

/** Certificates made with openssl in `into`, as an operator would make them. */
export async function tlsCertificates(into: string): Promise<TestCertificates> {
  const path = (name: string) => join(into, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: into, stdio: 'ignore' });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=sso-hub test CA']);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '1', '-subj', '/CN=another CA']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  await writeFile(path('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=sso-hub']);
  openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '1']);
  return { ca: path('ca.pem'), cert: path('server.pem'), key: path('server.key'), clientCert: path('client.pem'), clientKey: path('client.key'), otherCa: path('other-ca.pem') };
}
