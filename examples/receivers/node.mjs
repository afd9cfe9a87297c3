// A hookd receiver in Node.js (no framework). Run: WEBHOOK_SECRET=... PORT=3000 node node.mjs
import { createServer } from "node:http";
import { verifyStandard } from "hookd/verify";

const secret = process.env.WEBHOOK_SECRET;
const port = Number(process.env.PORT ?? 3000);
// webhook-ids already handled: a delivery can arrive twice (a retry after a lost answer).
// Keep them in your database in production; here the latest 10,000 in memory.
const seen = new Set();

createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    // Check the raw bytes as received: parsing and re-serialising the JSON first would change them.
    const body = Buffer.concat(chunks);
    // Signed: webhook-id, webhook-timestamp and the body. A timestamp more than 5 minutes
    // from now is refused, so a captured request cannot be replayed later.
    if (!verifyStandard(body, req.headers, secret, { toleranceSeconds: 300 })) {
      res.writeHead(403).end("invalid signature");
      return;
    }
    const id = req.headers["webhook-id"];
    if (!seen.has(id)) {
      seen.add(id);
      if (seen.size > 10_000) seen.delete(seen.values().next().value);
      const event = JSON.parse(body.toString("utf8"));
      console.log(req.headers["x-topic"], id, event);
    }
    res.writeHead(200).end("ok");
  });
}).listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
