/**
 * A private certificate authority made with openssl, and a server certificate it signed
 * for 127.0.0.1: what a company's internal receivers look like. Files in `dir`.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";

export interface PrivateCa {
  /** the CA's certificate (PEM): what hookd is told to trust */
  caFile: string;
  /** the receiver's key and certificate (PEM), signed by the CA */
  keyFile: string;
  certFile: string;
}

export function makePrivateCa(dir: string): PrivateCa {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  writeFileSync(file("server-ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.pem"),
    "-days",
    "1",
    "-subj",
    "/CN=hookd private test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=127.0.0.1");
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-out",
    file("server.pem"),
    "-days",
    "1",
    "-extfile",
    file("server-ext.cnf"),
  );
  return { caFile: file("ca.pem"), keyFile: file("server.key"), certFile: file("server.pem") };
}
