# A hookd receiver in Python (standard library only). Run: WEBHOOK_SECRET=... PORT=3000 python3 python.py
import base64
import hashlib
import hmac
import json
import os
import threading
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ["WEBHOOK_SECRET"]
# A whsec_ secret is base64 after the prefix (Standard Webhooks); any other is used as its UTF-8 bytes.
KEY = base64.b64decode(SECRET[len("whsec_"):]) if SECRET.startswith("whsec_") else SECRET.encode()
PORT = int(os.environ.get("PORT", "3000"))
TOLERANCE = 300  # seconds: a captured request cannot be replayed later than this
# webhook-ids already handled: a delivery can arrive twice. Use your database in production.
seen = OrderedDict()
seen_lock = threading.Lock()


def genuine(headers, body):
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not msg_id or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = b"v1," + base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest())
    # One entry per valid secret during a rotation; any may match. compare_digest is constant time.
    return any(hmac.compare_digest(expected, s.encode()) for s in headers.get("webhook-signature", "").split(" "))


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not genuine(self.headers, body):
            self.reply(403, b"invalid signature")
            return
        msg_id = self.headers["webhook-id"]
        with seen_lock:
            first = msg_id not in seen
            seen[msg_id] = None
            if len(seen) > 10_000:
                seen.popitem(last=False)
        if first:
            event = json.loads(body)
            print(self.headers["X-Topic"], msg_id, event, flush=True)
        self.reply(200, b"ok")

    def reply(self, status, text):
        self.send_response(status)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Receiver)
print(f"listening on {PORT}", flush=True)
server.serve_forever()
