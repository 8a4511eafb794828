<?php
// A UCenter client for the tests, written here from the protocol (not UCenter's code): what a
// UCenter-bound PHP application does with UC_CONNECT = '' (HTTP), UC_API, UC_KEY and UC_APPID.
// It runs under PHP's own server, so PHP's urlencode, parse_str, $_GET decoding and stream
// HTTP client meet the hub exactly as in a real application.

require_once __DIR__ . '/../authcode-lib.php';

define('UC_API', (string) getenv('UC_API'));
define('UC_KEY', (string) getenv('UC_KEY'));
define('UC_APPID', (string) getenv('UC_APPID'));
define('UC_CLIENT_RELEASE', '20170101');

/** authcode ENCODE with a 4-character dynamic key and no expiry, as the client API input is made. */
function uc_encode(string $data): string {
    return encode(UC_KEY, $data, substr(md5(microtime()), -4), time(), 0);
}

/** POST m, a, inajax, release, input and appid to UC_API/index.php with the browser's User-Agent. */
function uc_api_post(string $module, string $action, array $args = array()): string {
    $pairs = array();
    foreach ($args as $key => $value) $pairs[] = urlencode((string) $key) . '=' . urlencode((string) $value);
    $agent = isset($_SERVER['HTTP_USER_AGENT']) ? $_SERVER['HTTP_USER_AGENT'] : '';
    $input = implode('&', $pairs) . "&m=$module&a=$action&appid=" . UC_APPID . '&agent=' . md5($agent) . '&time=' . time();
    $post = "m=$module&a=$action&inajax=2&release=" . UC_CLIENT_RELEASE . '&input=' . urlencode(uc_encode($input)) . '&appid=' . UC_APPID;
    $context = stream_context_create(array('http' => array(
        'method' => 'POST',
        'header' => "Content-Type: application/x-www-form-urlencoded\r\nUser-Agent: $agent\r\nConnection: close\r\n",
        'content' => $post,
        'timeout' => 10,
        'ignore_errors' => true,
    )));
    $answer = @file_get_contents(UC_API . '/index.php?__times__=1', false, $context);
    return $answer === false ? '' : $answer;
}

/**
 * UCenter's XML to a PHP array (lists keep their numeric ids as keys), without the xml
 * extension: tokens are <item id="…">, CDATA sections (adjacent ones joined) and </item>.
 */
function uc_unserialize(string $xml) {
    if (strpos($xml, '<root>') === false) return $xml;
    preg_match_all('/<item id="([^"]*)">|<!\[CDATA\[(.*?)\]\]>|<\/item>/s', $xml, $tokens, PREG_SET_ORDER);
    $i = 0;
    return uc_items($tokens, $i);
}

/** The items from token $i up to the closing tag of their parent (consumed), or the end. */
function uc_items(array $tokens, int &$i): array {
    $out = array();
    while ($i < count($tokens)) {
        $token = $tokens[$i++];
        if ($token[0] === '</item>') return $out;
        if (strpos($token[0], '<item') !== 0) continue;
        $key = $token[1];
        $value = '';
        while ($i < count($tokens)) {
            if (strpos($tokens[$i][0], '<item') === 0) {
                $value = uc_items($tokens, $i);
                break;
            }
            $inner = $tokens[$i++];
            if ($inner[0] === '</item>') break;
            $value .= $inner[2];
        }
        $out[$key] = $value;
    }
    return $out;
}

function uc_user_login(string $username, string $password, int $isuid = 0) {
    return uc_unserialize(uc_api_post('user', 'login', array('username' => $username, 'password' => $password, 'isuid' => $isuid, 'checkques' => 0, 'questionid' => '', 'answer' => '', 'ip' => '', 'nolog' => 0)));
}

function uc_get_user(string $username, int $isuid = 0) {
    return uc_unserialize(uc_api_post('user', 'get_user', array('username' => $username, 'isuid' => $isuid)));
}

function uc_user_checkname(string $username): string {
    return uc_api_post('user', 'check_username', array('username' => $username));
}

/** Where an application keeps the list UCenter sent it in `updateapps` (uc_client: data/cache/apps.php). */
function uc_apps_cache(string $app): string {
    return dirname((string) getenv('NOTE_LOG')) . "/apps-$app.json";
}

/** The cached list of applications; uc_client asks for sync scripts only while it names another one. */
function uc_cached_apps(): array {
    $cached = @file_get_contents(uc_apps_cache('app1'));
    $apps = $cached === false ? null : json_decode($cached, true);
    return is_array($apps) ? $apps : array();
}

function uc_user_synlogin(int $uid): string {
    return count(uc_cached_apps()) > 1 ? uc_api_post('user', 'synlogin', array('uid' => $uid)) : '';
}

function uc_user_synlogout(): string {
    return count(uc_cached_apps()) > 1 ? uc_api_post('user', 'synlogout', array()) : '';
}

function uc_app_ls() {
    return uc_unserialize(uc_api_post('app', 'ls', array()));
}
