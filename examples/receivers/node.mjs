// A hookd receiver in Node.js (no framework). Run: WEBHOOK_SECRET=... PORT=3000 node node.mjs
import { createServer } from "node:http";
import { verifySignature } from "hookd/verify";

const secret = process.env.WEBHOOK_SECRET;
const port = Number(process.env.PORT ?? 3000);

createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    // Check the raw bytes as received: parsing and re-serialising the JSON first would change them.
    const body = Buffer.concat(chunks);
    if (!verifySignature(secret, body, req.headers["x-signature"])) {
      res.writeHead(403).end("invalid signature");
      return;
    }
    const event = JSON.parse(body.toString("utf8"));
    console.log(req.headers["x-topic"], req.headers["x-event-id"], event);
    res.writeHead(200).end("ok");
  });
}).listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
