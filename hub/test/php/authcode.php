<?php
// An independent authcode, written for the tests from the published algorithm (RC4 keyed by
// md5 sub-keys, 10-digit expiry, 16-hex md5 tag, base64 without '='), used to check the
// hub's TypeScript implementation byte for byte in both directions.
//
// Usage: php authcode.php encode KEY DATA KEYC NOW EXPIRY   -> the code
//        php authcode.php decode KEY CODE NOW               -> "OK:" . data, or "FAIL"
// Arguments are base64 so any bytes survive the command line.

require __DIR__ . '/authcode-lib.php';

$args = array_map('base64_decode', array_slice($argv, 2));
if ($argv[1] === 'encode') {
    echo encode($args[0], $args[1], $args[2], (int) $args[3], (int) $args[4]);
} else {
    $result = decode($args[0], $args[1], (int) $args[2]);
    echo $result === false ? 'FAIL' : 'OK:' . $result;
}
