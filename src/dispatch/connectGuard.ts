/**
 * The address rule (domain/urlPolicy.ts) at connect time: the dispatcher's agents check
 * the address they actually dial, so a webhook's name re-pointed after it was saved
 * (DNS rebinding) still cannot reach the internal network.
 */
import dns from "node:dns";
import type http from "node:http";
import { isIP, type LookupFunction } from "node:net";
import type { Duplex } from "node:stream";
import { firstNonPublic, isPublicAddress } from "../domain/urlPolicy.js";

/** The error code src/dispatch/outcome.ts classifies as "blocked". */
export const BLOCKED_ADDRESS = "ERR_HOOKD_BLOCKED_ADDRESS";

export function blockedAddressError(host: string, address: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(
    host === address ? `refused to connect to non-public address ${address}` : `refused to connect to ${host}: it resolves to non-public address ${address}`,
  );
  err.code = BLOCKED_ADDRESS;
  return err;
}

/**
 * A `lookup` for sockets that fails with ERR_HOOKD_BLOCKED_ADDRESS when the name
 * resolves to any non-public address, so the connection is never attempted.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) {
      callback(err, "", 0);
      return;
    }
    const bad = firstNonPublic(addresses);
    if (bad !== null) {
      callback(blockedAddressError(hostname, bad), "", 0);
      return;
    }
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

/**
 * Make `agent` refuse non-public addresses at connect time: IP literals (which Node
 * dials without a lookup) before the socket is made, names through publicOnlyLookup.
 */
export function guardConnections(agent: http.Agent): void {
  const connect = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    const host = options.host ?? "";
    if (isIP(host.replace(/^\[|\]$/g, "")) !== 0 && !isPublicAddress(host)) {
      // The agent takes an undefined return with an error in the callback as "could not connect".
      callback?.(blockedAddressError(host, host), undefined as unknown as Duplex);
      return undefined as unknown as Duplex;
    }
    return connect({ ...options, lookup: publicOnlyLookup }, callback);
  };
}
