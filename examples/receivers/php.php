<?php
// A hookd receiver in PHP. Run: WEBHOOK_SECRET=... php -S 127.0.0.1:3000 php.php
$secret = getenv('WEBHOOK_SECRET');
$body = file_get_contents('php://input');
$expected = hash_hmac('sha256', $body, $secret);
if (!hash_equals($expected, $_SERVER['HTTP_X_SIGNATURE'] ?? '')) { // constant time
    http_response_code(403);
    exit('invalid signature');
}
$event = json_decode($body, true);
error_log(($_SERVER['HTTP_X_TOPIC'] ?? '') . ' ' . ($_SERVER['HTTP_X_EVENT_ID'] ?? ''));
echo 'ok';
