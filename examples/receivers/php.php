<?php
// A hookd receiver in PHP. Run: WEBHOOK_SECRET=... php -S 127.0.0.1:3000 php.php
$secret = getenv('WEBHOOK_SECRET');
// A whsec_ secret is base64 after the prefix (Standard Webhooks); any other is used as its bytes.
$key = str_starts_with($secret, 'whsec_') ? base64_decode(substr($secret, 6), true) : $secret;
$body = file_get_contents('php://input');
$id = $_SERVER['HTTP_WEBHOOK_ID'] ?? '';
$timestamp = $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '';
$expected = 'v1,' . base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $key, true));
$valid = false;
// One entry per valid secret during a rotation; hash_equals is constant time.
foreach (explode(' ', $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '') as $signature) {
    $valid = hash_equals($expected, $signature) || $valid;
}
// More than 5 minutes from now is refused: a captured request cannot be replayed later.
if ($id === '' || !ctype_digit($timestamp) || abs(time() - (int) $timestamp) > 300 || !$valid) {
    http_response_code(403);
    exit('invalid signature');
}
// Handle each webhook-id once (a delivery can arrive twice): opening a marker with 'x' fails
// if it exists. Use your database in production.
$seen = sys_get_temp_dir() . '/hookd-webhook-ids';
@mkdir($seen, 0700);
$marker = @fopen("$seen/" . hash('sha256', $id), 'x');
if ($marker !== false) {
    fclose($marker);
    $event = json_decode($body, true);
    error_log(($_SERVER['HTTP_X_TOPIC'] ?? '') . ' ' . $id . ' ' . json_encode($event));
}
echo 'ok';
