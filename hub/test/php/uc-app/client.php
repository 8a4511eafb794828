<?php
// The application's pages that talk to UCenter (the hub), answering JSON for the test:
// client.php?call=login|get_user|check_username|synlogin|synlogout|app_ls&…
require __DIR__ . '/uc_client.php';

header('Content-Type: application/json');
$q = $_GET;
switch (isset($q['call']) ? $q['call'] : '') {
    case 'login':
        // list($uid, $username, $password, $email) = uc_user_login(…), as Discuz! reads it.
        $answer = uc_user_login($q['username'], $q['password'], isset($q['isuid']) ? (int) $q['isuid'] : 0);
        if (!is_array($answer)) { echo json_encode(array('raw' => $answer)); break; }
        list($uid, $username, $password, $email) = array_pad(array_values($answer), 4, '');
        echo json_encode(array('uid' => (int) $uid, 'username' => $username, 'password' => $password, 'email' => $email));
        break;
    case 'get_user':
        echo json_encode(array('user' => uc_get_user($q['username'], isset($q['isuid']) ? (int) $q['isuid'] : 0)));
        break;
    case 'check_username':
        echo json_encode(array('code' => uc_user_checkname($q['username'])));
        break;
    case 'synlogin':
        echo json_encode(array('html' => uc_user_synlogin((int) $q['uid'])));
        break;
    case 'synlogout':
        echo json_encode(array('html' => uc_user_synlogout()));
        break;
    case 'app_ls':
        echo json_encode(array('apps' => uc_app_ls()));
        break;
    default:
        http_response_code(400);
        echo json_encode(array('error' => 'unknown call'));
}
