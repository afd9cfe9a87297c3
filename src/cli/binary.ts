/**
 * The single binary's entry point (see src/build/singleBinary.ts): wire in the
 * embedded SQLite addon and config files, then run the CLI as `hookd`.
 */
import { installEmbedded } from "../embedded.js";

installEmbedded();
// main.js starts the CLI as it loads, so it is loaded only once the embedded copies are in place.
void import("./main.js");
