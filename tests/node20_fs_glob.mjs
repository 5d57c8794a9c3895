// Loaded with `node --import` before the MCP conformance CLI on Node 20: the CLI imports
// fs.globSync, which arrived in Node 22, only to gather result files. This gives it a small
// globSync (patterns of the form **/name) and passes every other fs export through.
import { register } from "node:module";

const hooks = `
export async function resolve(specifier, context, next) {
  if ((specifier === "fs" || specifier === "node:fs") && context.parentURL !== "scaffold:fs") {
    return { url: "scaffold:fs", shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (url !== "scaffold:fs") return next(url, context);
  const source = [
    'import fs from "node:fs";',
    'import path from "node:path";',
    'export * from "node:fs";',
    "export default fs;",
    "export function globSync(pattern, options = {}) {",
    "  const cwd = options.cwd || process.cwd();",
    '  const name = String(pattern).split("/").pop();',
    "  const found = [];",
    "  const walk = (dir) => {",
    "    for (const entry of fs.readdirSync(path.join(cwd, dir), { withFileTypes: true })) {",
    '      const rel = dir ? dir + "/" + entry.name : entry.name;',
    "      if (entry.isDirectory()) walk(rel); else if (entry.name === name) found.push(rel);",
    "    }",
    "  };",
    "  if (fs.existsSync(cwd)) walk(\\"\\");",
    "  return found;",
    "}",
  ].join("\\n");
  return { format: "module", source, shortCircuit: true };
}
`;
register("data:text/javascript," + encodeURIComponent(hooks));
