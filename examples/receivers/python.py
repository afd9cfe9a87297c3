# A hookd receiver in Python (standard library only). Run: WEBHOOK_SECRET=... PORT=3000 python3 python.py
import hashlib
import hmac
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ["WEBHOOK_SECRET"].encode()
PORT = int(os.environ.get("PORT", "3000"))


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest().encode()
        received = self.headers.get("X-Signature", "").encode()
        if not hmac.compare_digest(expected, received):  # constant time
            self.reply(403, b"invalid signature")
            return
        event = json.loads(body)
        print(self.headers["X-Topic"], self.headers["X-Event-Id"], event, flush=True)
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
