<?php
// A plain PHP relying party of sso-hub, written from the hub's docs only.
declare(strict_types=1);

function cfg(string $name): string {
    $value = getenv($name);
    if ($value === false || $value === '') { throw new RuntimeException("missing $name"); }
    return $value;
}

const SKEW = 30;

function data_dir(string $kind): string {
    $dir = cfg('SITE_DATA') . '/' . $kind;
    if (!is_dir($dir)) { mkdir($dir, 0700, true); }
    return $dir;
}

function b64u_dec(string $s): string {
    $r = base64_decode(strtr($s, '-_', '+/') . str_repeat('=', (4 - strlen($s) % 4) % 4), true);
    if ($r === false) { throw new InvalidArgumentException('bad base64url'); }
    return $r;
}
function b64u_enc(string $s): string { return rtrim(strtr(base64_encode($s), '+/', '-_'), '='); }
function rnd(int $n = 32): string { return b64u_enc(random_bytes($n)); }

/* ---------- HTTP client (no curl extension here: streams) ---------- */
function http(string $method, string $url, array $headers = [], ?string $body = null): array {
    $ctx = stream_context_create(['http' => [
        'method' => $method, 'header' => implode("\r\n", $headers), 'content' => $body ?? '',
        'ignore_errors' => true, 'timeout' => 5, 'follow_location' => 0,
    ]]);
    $text = @file_get_contents($url, false, $ctx);
    if ($text === false) { throw new RuntimeException("hub unreachable: $url"); }
    preg_match('#^HTTP/\S+ (\d{3})#', $http_response_header[0] ?? '', $m);
    return [(int) ($m[1] ?? 0), $text];
}
/** Browser-facing hub URL -> where this server reaches the hub (PHP does not resolve *.localhost). */
function internal(string $url): string {
    $issuer = cfg('HUB_ISSUER');
    return str_starts_with($url, $issuer) ? cfg('HUB_INTERNAL_URL') . substr($url, strlen($issuer)) : $url;
}
function discovery(): array {
    static $doc = null;
    if ($doc === null) {
        [$status, $text] = http('GET', cfg('HUB_INTERNAL_URL') . '/.well-known/openid-configuration');
        $doc = json_decode($text, true);
        if ($status !== 200 || !is_array($doc) || ($doc['issuer'] ?? null) !== cfg('HUB_ISSUER')) {
            throw new RuntimeException('discovery failed or issuer mismatch');
        }
    }
    return $doc;
}
function jwks(bool $refresh = false): array {
    $file = data_dir('cache') . '/jwks.json';
    if (!$refresh && is_file($file) && filemtime($file) > time() - 300) {
        return json_decode((string) file_get_contents($file), true);
    }
    [$status, $text] = http('GET', internal(discovery()['jwks_uri']));
    $set = json_decode($text, true);
    if ($status !== 200 || !isset($set['keys'])) { throw new RuntimeException('jwks fetch failed'); }
    file_put_contents($file, $text);
    return $set;
}

/* ---------- JOSE with openssl ---------- */
function der_len(int $n): string {
    if ($n < 0x80) { return chr($n); }
    $b = ltrim(pack('N', $n), "\0");
    return chr(0x80 | strlen($b)) . $b;
}
function der(int $tag, string $content): string { return chr($tag) . der_len(strlen($content)) . $content; }
function der_uint(string $bytes): string {
    $bytes = ltrim($bytes, "\0");
    if ($bytes === '' || ord($bytes[0]) & 0x80) { $bytes = "\0" . $bytes; }
    return der(0x02, $bytes);
}
function jwk_pem(array $jwk): string {
    if ($jwk['kty'] === 'RSA') {
        $rsa = der(0x30, der_uint(b64u_dec($jwk['n'])) . der_uint(b64u_dec($jwk['e'])));
        $alg = der(0x30, der(0x06, hex2bin('2a864886f70d010101')) . "\x05\x00");
        $spki = der(0x30, $alg . der(0x03, "\0" . $rsa));
    } elseif ($jwk['kty'] === 'EC' && $jwk['crv'] === 'P-256') {
        $spki = hex2bin('3059301306072a8648ce3d020106082a8648ce3d030107034200') . "\x04" . b64u_dec($jwk['x']) . b64u_dec($jwk['y']);
    } else {
        throw new RuntimeException('unsupported key type');
    }
    return "-----BEGIN PUBLIC KEY-----\n" . chunk_split(base64_encode($spki), 64, "\n") . "-----END PUBLIC KEY-----\n";
}
/** Verifies a hub-signed JWS (RS256 or ES256) against the hub's JWKS; returns [header, claims]. */
function verify_hub_jwt(string $jwt, array $algs): array {
    $parts = explode('.', $jwt);
    if (count($parts) !== 3) { throw new InvalidArgumentException('not a compact JWS'); }
    $header = json_decode(b64u_dec($parts[0]), true);
    $claims = json_decode(b64u_dec($parts[1]), true);
    if (!is_array($header) || !is_array($claims)) { throw new InvalidArgumentException('malformed'); }
    $alg = $header['alg'] ?? '';
    if (!in_array($alg, $algs, true)) { throw new InvalidArgumentException("alg $alg not accepted"); }
    $kid = $header['kid'] ?? null;
    $key = null;
    foreach ([false, true] as $refresh) {
        foreach (jwks($refresh)['keys'] as $k) {
            if (($kid === null || ($k['kid'] ?? null) === $kid) && ($k['use'] ?? 'sig') === 'sig'
                && (($alg === 'RS256' && $k['kty'] === 'RSA') || ($alg === 'ES256' && $k['kty'] === 'EC'))
                && (!isset($k['alg']) || $k['alg'] === $alg)) { $key = $k; break 2; }
        }
    }
    if ($key === null) { throw new InvalidArgumentException('no key for kid'); }
    $sig = b64u_dec($parts[2]);
    if ($alg === 'ES256') {
        if (strlen($sig) !== 64) { throw new InvalidArgumentException('bad ES256 signature length'); }
        $sig = der(0x30, der_uint(substr($sig, 0, 32)) . der_uint(substr($sig, 32)));
    }
    if (openssl_verify("$parts[0].$parts[1]", $sig, jwk_pem($key), OPENSSL_ALGO_SHA256) !== 1) {
        throw new InvalidArgumentException('signature does not verify');
    }
    return [$header, $claims];
}
function check_times(array $c, int $maxLifetime = 0): void {
    $now = time();
    if (!is_int($c['exp'] ?? null) || $c['exp'] <= $now - SKEW) { throw new InvalidArgumentException('expired'); }
    if (!is_int($c['iat'] ?? null) || $c['iat'] > $now + SKEW) { throw new InvalidArgumentException('iat missing or in the future'); }
    if ($maxLifetime > 0 && ($c['exp'] <= $c['iat'] || $c['exp'] - $c['iat'] > $maxLifetime)) { throw new InvalidArgumentException('lifetime too long'); }
}
function aud_is(array $c, string $aud): bool {
    $a = $c['aud'] ?? null;
    return $a === $aud || (is_array($a) && in_array($aud, $a, true));
}
/** Single use: claim a jti once (atomic create); false if already spent. */
function claim_once(string $kind, string $jti, int $until): bool {
    $file = data_dir('jti') . '/' . $kind . '-' . hash('sha256', $jti);
    $h = @fopen($file, 'x');
    if ($h === false) { return false; }
    fwrite($h, (string) $until);
    fclose($h);
    return true;
}
function spent(string $kind, string $jti): bool { return is_file(data_dir('jti') . '/' . $kind . '-' . hash('sha256', $jti)); }

/** Sync code: compact JWS, HS256 over the sync key's characters, typ sync+jwt. */
function verify_sync_code(string $code, ?string $time, string $act): array {
    $parts = explode('.', $code);
    if (count($parts) !== 3 || strlen($code) > 4096) { throw new InvalidArgumentException('malformed'); }
    $header = json_decode(b64u_dec($parts[0]), true);
    if (($header['alg'] ?? '') !== 'HS256' || ($header['typ'] ?? '') !== 'sync+jwt') { throw new InvalidArgumentException('header must be HS256 sync+jwt'); }
    $ok = false;
    foreach (array_filter([getenv('SSO_SYNC_KEY'), getenv('SSO_PREVIOUS_SYNC_KEY')]) as $key) {
        $ok = $ok || hash_equals(b64u_enc(hash_hmac('sha256', "$parts[0].$parts[1]", $key, true)), $parts[2]);
    }
    if (!$ok) { throw new InvalidArgumentException('signature does not match the sync key'); }
    $c = json_decode(b64u_dec($parts[1]), true);
    if (($c['iss'] ?? null) !== cfg('HUB_ISSUER')) { throw new InvalidArgumentException('iss'); }
    if (!aud_is($c, cfg('SSO_CLIENT_ID'))) { throw new InvalidArgumentException('aud'); }
    if (!in_array($c['act'] ?? null, [$act, 'test'], true)) { throw new InvalidArgumentException("act must be \"$act\""); }
    if (!is_string($c['sid'] ?? null) || $c['sid'] === '' || !is_string($c['jti'] ?? null) || $c['jti'] === '') { throw new InvalidArgumentException('sid and jti required'); }
    check_times($c, 60);
    if ($time !== null && $time !== (string) $c['iat']) { throw new InvalidArgumentException('time does not match iat'); }
    if (spent('sync', $c['jti'])) { throw new InvalidArgumentException('already used'); }
    return $c;
}

/* ---------- sessions (server-side, files, indexed by user and hub sid) ---------- */
const SESSION_COOKIE = 'php_sid';
function sess_file(string $id): string { return data_dir('sess') . '/' . hash('sha256', $id) . '.json'; }
function index_file(string $kind, string $value): string { return data_dir("idx-$kind") . '/' . hash('sha256', $value); }
function current_session(): ?array {
    $id = $_COOKIE[SESSION_COOKIE] ?? '';
    if ($id === '' || !is_file(sess_file($id))) { return null; }
    $s = json_decode((string) file_get_contents(sess_file($id)), true);
    return is_array($s) ? $s + ['id' => $id] : null;
}
function create_session(array $claims, string $idToken): void {
    $old = current_session();
    if ($old) { end_session($old['id']); }
    $id = rnd();
    $s = ['sub' => $claims['sub'], 'name' => $claims['name'] ?? $claims['preferred_username'] ?? $claims['sub'],
          'sid' => $claims['sid'] ?? null, 'id_token' => $idToken, 'created' => time()];
    file_put_contents(sess_file($id), json_encode($s));
    file_put_contents(index_file('sub', $s['sub']), "$id\n", FILE_APPEND | LOCK_EX);
    if ($s['sid']) { file_put_contents(index_file('sid', $s['sid']), "$id\n", FILE_APPEND | LOCK_EX); }
    setcookie(SESSION_COOKIE, $id, ['path' => '/', 'httponly' => true, 'samesite' => 'Lax']);
}
function end_session(string $id): bool {
    $f = sess_file($id);
    return is_file($f) && unlink($f);
}
function end_indexed(string $kind, string $value): int {
    $f = index_file($kind, $value);
    if (!is_file($f)) { return 0; }
    $n = 0;
    foreach (file($f, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $id) { $n += end_session($id) ? 1 : 0; }
    unlink($f);
    return $n;
}

/* ---------- cookies ---------- */
const REQUEST_LOGIN = 'Request-Login';
function set_request_login(): void {
    setcookie(REQUEST_LOGIN, '1', ['expires' => time() + 30 * 86400, 'path' => '/', 'httponly' => true, 'samesite' => 'Lax']);
}
function clear_cookie(string $name): void { setcookie($name, '', ['expires' => 1, 'path' => '/', 'httponly' => true, 'samesite' => 'Lax']); }

/* ---------- OIDC authorization request ---------- */
function start_auth(string $next, bool $silent): never {
    $pending = ['state' => rnd(), 'nonce' => rnd(), 'verifier' => rnd(48), 'next' => $next, 'silent' => $silent, 'exp' => time() + 600];
    $pid = rnd();
    file_put_contents(data_dir('pending') . '/' . hash('sha256', $pid), json_encode($pending));
    setcookie('php_auth', $pid, ['expires' => time() + 600, 'path' => '/sso/', 'httponly' => true, 'samesite' => 'Lax']);
    $q = ['response_type' => 'code', 'client_id' => cfg('SSO_CLIENT_ID'), 'redirect_uri' => cfg('SSO_REDIRECT_URI'),
          'scope' => 'openid profile email', 'state' => $pending['state'], 'nonce' => $pending['nonce'],
          'code_challenge' => b64u_enc(hash('sha256', $pending['verifier'], true)), 'code_challenge_method' => 'S256'];
    if ($silent) { $q['prompt'] = 'none'; }
    header('Location: ' . discovery()['authorization_endpoint'] . '?' . http_build_query($q, '', '&', PHP_QUERY_RFC3986), true, 302);
    exit;
}
function safe_next(string $next): string {
    return (preg_match('#^/(?![/\\\\])[^\x00-\x1f\\\\]*$#', $next) === 1) ? $next : '/';
}
function json_out(int $status, array $body): never {
    http_response_code($status);
    header('Content-Type: application/json');
    header('Cache-Control: no-store');
    echo json_encode($body);
    exit;
}
function log_line(string $msg): void { file_put_contents(cfg('SITE_DATA') . '/site.log', date('c') . " $msg\n", FILE_APPEND); }
