// msgpackr requires this inside try/catch and uses its JavaScript path when it throws.
throw new Error("msgpackr-extract is stubbed out in hookd's dev dependencies");
