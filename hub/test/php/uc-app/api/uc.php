<?php
// The application's note handler (api/uc.php), as UCenter-bound applications write it: decode
// `code` with UC_KEY, parse_str it, refuse what it cannot read or what is stale, act, answer 1.
// Every note it accepts is appended to NOTE_LOG as one JSON line, for the test to read.
require_once __DIR__ . '/../../authcode-lib.php';
require_once __DIR__ . '/../uc_client.php';

if (!defined('NOTE_KEY')) define('NOTE_KEY', (string) getenv('UC_KEY'));
if (!defined('NOTE_APP')) define('NOTE_APP', 'app1');

$get = array();
parse_str((string) decode(NOTE_KEY, isset($_GET['code']) ? (string) $_GET['code'] : '', time()), $get);
// Discuz! X's order: the time first, so a code it cannot read (another UC_KEY) is "expiried" too.
if (time() - (int) ($get['time'] ?? 0) > 3600) exit('Authracation has expiried');
if (empty($get)) exit('Invalid Request');
file_put_contents((string) getenv('NOTE_LOG'), json_encode(array('app' => NOTE_APP, 'note' => $get)) . "\n", FILE_APPEND | LOCK_EX);

switch ($get['action']) {
    case 'updateapps':
        // The list of applications, in UCenter's XML as the request body: kept as uc_client keeps it.
        $apps = uc_unserialize((string) file_get_contents('php://input'));
        if (!is_array($apps)) exit('-1');
        file_put_contents(uc_apps_cache(NOTE_APP), json_encode($apps), LOCK_EX);
        exit('1');
    case 'test':
    case 'deleteuser':
    case 'updatepw':
        exit('1');
    case 'synlogin':
        header('P3P: CP="CURa ADMa DEVa PSAo PSDo OUR BUS UNI PUR INT DEM STA PRE COM NAV OTC NOI DSP COR"');
        setcookie('uc_auth', $get['uid'] . "\t" . $get['username'], 0, '/');
        exit;
    case 'synlogout':
        setcookie('uc_auth', '', time() - 3600, '/');
        exit;
    default:
        exit('-1');
}
