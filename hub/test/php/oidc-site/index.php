<?php
// A plain PHP subsite of sso-hub, written from docs/subsite-protocol.md alone (no kit, no
// library: streams for HTTP, openssl for RS256/ES256, hash_hmac for sync codes). Run as
// `php -S 127.0.0.1:PORT index.php` with the settings in its environment (see lib.php's cfg()
// calls); hub/test/php-subsite.test.ts drives it. Sessions live in files under SITE_DATA.
declare(strict_types=1);
require __DIR__ . '/lib.php';

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?: '/';
$method = $_SERVER['REQUEST_METHOD'];

try {
    switch ("$method $path") {
        case 'GET /sso/synclogin':
        case 'GET /sso/synclogout':
            $act = $path === '/sso/synclogin' ? 'login' : 'logout';
            try {
                $c = verify_sync_code((string) ($_GET['code'] ?? ''), isset($_GET['time']) ? (string) $_GET['time'] : null, $act);
            } catch (InvalidArgumentException $e) {
                log_line("sync $act rejected: " . $e->getMessage());
                json_out(400, ['error' => 'invalid_token', 'error_description' => 'sync code rejected: ' . $e->getMessage()]);
            }
            if ($c['act'] === 'test') {
                claim_once('sync', $c['jti'], $c['exp'] + SKEW);
                json_out(200, ['sync' => 'ok']);
            }
            if ($act === 'login') {
                set_request_login();
            } else {
                $n = end_indexed('sid', $c['sid']);
                $mine = current_session();
                if ($mine && ($c['sid'] === '*' || $mine['sid'] === $c['sid'])) { $n += end_session($mine['id']) ? 1 : 0; }
                clear_cookie(REQUEST_LOGIN);
                log_line("synclogout sid ended $n");
            }
            if (!claim_once('sync', $c['jti'], $c['exp'] + SKEW)) { json_out(400, ['error' => 'invalid_token', 'error_description' => 'sync code rejected: already used']); }
            log_line("sync $act accepted");
            header('Content-Type: image/gif');
            header('Cache-Control: no-store');
            echo base64_decode('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7');
            exit;

        case 'GET /sso/login':
            start_auth(safe_next((string) ($_GET['next'] ?? '/')), false);

        case 'GET /sso/callback':
            $pid = $_COOKIE['php_auth'] ?? '';
            $pfile = data_dir('pending') . '/' . hash('sha256', $pid);
            $pending = $pid !== '' && is_file($pfile) ? json_decode((string) file_get_contents($pfile), true) : null;
            if ($pid !== '' && is_file($pfile)) { unlink($pfile); }
            clear_cookie(REQUEST_LOGIN);
            setcookie('php_auth', '', ['expires' => 1, 'path' => '/sso/']);
            if (!$pending || $pending['exp'] < time() || !hash_equals($pending['state'], (string) ($_GET['state'] ?? ''))) {
                http_response_code(400); echo 'No pending sign-in or state mismatch. <a href="/">continue</a>'; exit;
            }
            // RFC 9207: the hub says authorization_response_iss_parameter_supported.
            if (($_GET['iss'] ?? null) !== cfg('HUB_ISSUER')) { http_response_code(400); echo 'iss mismatch'; exit; }
            if (isset($_GET['error'])) {
                log_line('callback error=' . $_GET['error']);
                if ($pending['silent'] || $_GET['error'] === 'access_denied') { header('Location: ' . ($pending['silent'] ? $pending['next'] : '/'), true, 302); exit; }
                http_response_code(502); echo 'The hub answered ' . htmlspecialchars((string) $_GET['error']); exit;
            }
            $basic = base64_encode(rawurlencode(cfg('SSO_CLIENT_ID')) . ':' . rawurlencode(cfg('SSO_CLIENT_SECRET')));
            [$status, $text] = http('POST', internal(discovery()['token_endpoint']),
                ["Authorization: Basic $basic", 'Content-Type: application/x-www-form-urlencoded', 'Accept: application/json'],
                http_build_query(['grant_type' => 'authorization_code', 'code' => (string) ($_GET['code'] ?? ''),
                    'redirect_uri' => cfg('SSO_REDIRECT_URI'), 'code_verifier' => $pending['verifier']]));
            $tokens = json_decode($text, true);
            if ($status !== 200 || !isset($tokens['id_token'])) { log_line("token $status $text"); http_response_code(502); echo 'token exchange failed'; exit; }
            [$h, $c] = verify_hub_jwt($tokens['id_token'], [getenv('SSO_ID_TOKEN_ALG') ?: 'RS256']);
            if (($c['iss'] ?? null) !== cfg('HUB_ISSUER') || !aud_is($c, cfg('SSO_CLIENT_ID'))
                || (is_array($c['aud']) && count($c['aud']) > 1 && ($c['azp'] ?? null) !== cfg('SSO_CLIENT_ID'))
                || !hash_equals($pending['nonce'], (string) ($c['nonce'] ?? ''))) {
                throw new InvalidArgumentException('ID token claims');
            }
            check_times($c);
            create_session($c, $tokens['id_token']);
            log_line("signed in {$c['sub']} sid=" . ($c['sid'] ?? '-') . ' alg=' . $h['alg'] . ($pending['silent'] ? ' (silent)' : ''));
            header('Location: ' . $pending['next'], true, 302);
            exit;

        case 'POST /sso/logout':
            $origin = $_SERVER['HTTP_ORIGIN'] ?? '';
            $self = parse_url(cfg('SSO_REDIRECT_URI'));
            if ($origin !== "{$self['scheme']}://{$self['host']}" . (isset($self['port']) ? ":{$self['port']}" : '')) { json_out(403, ['error' => 'forbidden']); }
            $s = current_session();
            $q = ['client_id' => cfg('SSO_CLIENT_ID'), 'post_logout_redirect_uri' => cfg('SITE_URL') . '/', 'state' => 'st-' . rnd(6)];
            if ($s) { end_session($s['id']); $q['id_token_hint'] = $s['id_token']; }
            clear_cookie(SESSION_COOKIE);
            header('Location: ' . discovery()['end_session_endpoint'] . '?' . http_build_query($q), true, 303);
            exit;

        case 'POST /sso/userdelete':
            $auth = $_SERVER['HTTP_AUTHORIZATION'] ?? '';
            $token = preg_match('/^Bearer (\S+)$/', $auth, $m) ? $m[1] : (string) ($_POST['token'] ?? '');
            try {
                [$h, $c] = verify_hub_jwt($token, ['RS256', 'ES256']);
                if (($h['typ'] ?? '') !== 'userdelete+jwt') { throw new InvalidArgumentException('typ'); }
                if (($c['iss'] ?? null) !== cfg('HUB_ISSUER') || !aud_is($c, cfg('SSO_CLIENT_ID')) || !is_string($c['sub'] ?? null)) { throw new InvalidArgumentException('claims'); }
                check_times($c);
                if (!is_string($c['jti'] ?? null) || !claim_once('userdelete', $c['jti'], $c['exp'] + SKEW)) { throw new InvalidArgumentException('jti missing or replayed'); }
            } catch (InvalidArgumentException $e) {
                log_line('userdelete rejected: ' . $e->getMessage());
                header('WWW-Authenticate: Bearer error="invalid_token"');
                json_out(401, ['error' => 'invalid_token', 'error_description' => $e->getMessage()]);
            }
            $n = end_indexed('sub', $c['sub']);
            // Every reason ends the sessions; only "deleted" would let a site remove the user's data.
            $reason = $c['events']['urn:sso-hub:event:userdelete']['reason'] ?? 'unknown';
            log_line("userdelete {$c['sub']} alg={$h['alg']} reason=$reason ended $n");
            json_out(200, ['sessions_ended' => $n]);

        case 'POST /sso/backchannel-logout':
            try {
                [$h, $c] = verify_hub_jwt((string) ($_POST['logout_token'] ?? ''), [getenv('SSO_ID_TOKEN_ALG') ?: 'RS256']);
                if (($h['typ'] ?? '') !== 'logout+jwt') { throw new InvalidArgumentException('typ'); }
                if (($c['iss'] ?? null) !== cfg('HUB_ISSUER') || !aud_is($c, cfg('SSO_CLIENT_ID'))) { throw new InvalidArgumentException('iss/aud'); }
                if (!isset($c['events']['http://schemas.openid.net/event/backchannel-logout']) || isset($c['nonce'])) { throw new InvalidArgumentException('events/nonce'); }
                if (!isset($c['sid']) && !isset($c['sub'])) { throw new InvalidArgumentException('sid or sub'); }
                check_times($c);
                if (!is_string($c['jti'] ?? null) || !claim_once('logout', $c['jti'], $c['exp'] + SKEW)) { throw new InvalidArgumentException('jti'); }
            } catch (InvalidArgumentException $e) {
                log_line('backchannel rejected: ' . $e->getMessage());
                json_out(400, ['error' => 'invalid_request', 'error_description' => $e->getMessage()]);
            }
            $n = isset($c['sid']) ? end_indexed('sid', $c['sid']) : end_indexed('sub', $c['sub']);
            log_line('backchannel ' . ($c['sid'] ?? $c['sub']) . " alg={$h['alg']} ended $n");
            header('Cache-Control: no-store');
            http_response_code(200);
            exit;

        default:
            if ($method !== 'GET' || str_starts_with($path, '/sso/')) { http_response_code(404); echo 'not found'; exit; }
            $s = current_session();
            $isPage = str_contains($_SERVER['HTTP_ACCEPT'] ?? '', 'text/html');
            if (!$s && $isPage && isset($_COOKIE[REQUEST_LOGIN])) {
                clear_cookie(REQUEST_LOGIN); // never loop: one silent check per Request-Login
                start_auth(safe_next($_SERVER['REQUEST_URI']), true);
            }
            if ($path === '/private' && !$s) { header('Location: /sso/login?next=/private', true, 302); exit; }
            header('Content-Type: text/html; charset=utf-8');
            header('Cache-Control: no-store');
            echo $s ? '<p id="who">Hello ' . htmlspecialchars($s['name']) . '</p><form method="post" action="/sso/logout"><button>Sign out</button></form>'
                    : '<p id="who">anonymous</p><a href="/sso/login?next=/">Sign in</a>';
    }
} catch (Throwable $e) {
    log_line('error: ' . get_class($e) . ' ' . $e->getMessage());
    http_response_code(503);
    echo 'temporarily unavailable';
}
