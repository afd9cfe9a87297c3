/**
 * The layers of src/, checked by `npm run lint` (depcruise): each may import only from
 * the ones below it, and no module reaches itself through its imports (type-only and
 * dynamic imports count too). From the bottom:
 *
 *   errors, version   → domain (webhook rules: pure, no I/O) → config → store
 *   → telemetry → dispatch → publishing, pruner → app → api + console (one HTTP layer)
 *   → the entry points (cli, index, embedded, client, verify, build)
 */
const below = {
  domain: "errors|version|domain",
  config: "errors|version|domain|config",
  store: "errors|version|domain|config|store",
  telemetry: "errors|version|domain|config|store|telemetry",
  dispatch: "errors|version|domain|config|store|telemetry|dispatch",
};

module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      severity: "error",
      comment: "A module may not import itself through others: split the shared part into a module below both.",
      from: {},
      to: { circular: true },
    },
    ...Object.entries(below).map(([layer, allowed]) => ({
      name: `${layer}-imports-below-only`,
      severity: "error",
      comment: `src/${layer} may import only from ${allowed.split("|").join(", ")}.`,
      from: { path: `^src/${layer}/` },
      to: { path: "^src/", pathNot: `^src/(${allowed})(/|\\.ts$)` },
    })),
    {
      name: "http-layer-below-entry-points",
      severity: "error",
      comment: "The API and the console are used by the entry points, never the other way round.",
      from: { path: "^src/(api|console)/" },
      to: { path: "^src/(cli|index|embedded|client|verify|build)(/|\\.ts$)" },
    },
    {
      name: "app-below-http",
      severity: "error",
      comment: "app.ts composes the store and dispatch; the HTTP layer and the entry points use it.",
      from: { path: "^src/(app|publishing|pruner)\\.ts$" },
      to: { path: "^src/(api|console|cli|index|embedded|client|build)(/|\\.ts$)" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/console/web/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
