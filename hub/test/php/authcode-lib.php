<?php
// An independent authcode, written for the tests from the published algorithm (RC4 keyed by
// md5 sub-keys, 10-digit expiry, 16-hex md5 tag, base64 without '='). Used by authcode.php
// (byte-for-byte checks of the hub's TypeScript) and by the PHP UCenter application in uc-app/.

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
