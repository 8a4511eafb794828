<?php
// An independent authcode, written for the tests from the published algorithm (RC4 keyed by
// md5 sub-keys, 10-digit expiry, 16-hex md5 tag, base64 without '='), used to check the
// hub's TypeScript implementation byte for byte in both directions.
//
// Usage: php authcode.php encode KEY DATA KEYC NOW EXPIRY   -> the code
//        php authcode.php decode KEY CODE NOW               -> "OK:" . data, or "FAIL"
// Arguments are base64 so any bytes survive the command line.

function stream_xor(string $key, string $text): string {
    $s = range(0, 255);
    $j = 0;
    for ($i = 0; $i < 256; $i++) {
        $j = ($j + $s[$i] + ord($key[$i % strlen($key)])) & 255;
        list($s[$i], $s[$j]) = array($s[$j], $s[$i]);
    }
    $out = '';
    $a = 0;
    $j = 0;
    for ($n = 0; $n < strlen($text); $n++) {
        $a = ($a + 1) & 255;
        $j = ($j + $s[$a]) & 255;
        list($s[$a], $s[$j]) = array($s[$j], $s[$a]);
        $out .= chr(ord($text[$n]) ^ $s[($s[$a] + $s[$j]) & 255]);
    }
    return $out;
}

function parts(string $secret): array {
    $h = md5($secret);
    return array(md5(substr($h, 0, 16)), md5(substr($h, 16, 16)));
}

function encode(string $secret, string $data, string $dyn, int $now, int $expiry): string {
    list($ka, $kb) = parts($secret);
    $head = sprintf('%010d', $expiry > 0 ? $now + $expiry : 0) . substr(md5($data . $kb), 0, 16);
    $cipher = stream_xor($ka . md5($ka . $dyn), $head . $data);
    return $dyn . rtrim(base64_encode($cipher), '=');
}

function decode(string $secret, string $code, int $now) {
    list($ka, $kb) = parts($secret);
    $dyn = substr($code, 0, 4);
    $plain = stream_xor($ka . md5($ka . $dyn), (string) base64_decode(substr($code, 4)));
    if (strlen($plain) < 26) return false;
    $expires = (int) substr($plain, 0, 10);
    $data = substr($plain, 26);
    if ($expires !== 0 && $expires <= $now) return false;
    if (!hash_equals(substr(md5($data . $kb), 0, 16), substr($plain, 10, 16))) return false;
    return $data;
}

$args = array_map('base64_decode', array_slice($argv, 2));
if ($argv[1] === 'encode') {
    echo encode($args[0], $args[1], $args[2], (int) $args[3], (int) $args[4]);
} else {
    $result = decode($args[0], $args[1], (int) $args[2]);
    echo $result === false ? 'FAIL' : 'OK:' . $result;
}
