// Loads the k6 script in Node, offline, in place of k6 (which is not installable here): stub `k6` and
// `k6/http` modules record the requests, `open` and `__ENV` are k6's init-context globals.
//   node k6_harness.mjs <directory with api.mjs, slo.json and node_modules/k6> '<env as JSON>'
// Prints {"options": ..., "requests": [...]} after calling each scenario's exec function once; an error
// while loading the script (a bad STACK or BASE_URL) is its message on stderr and exit status 1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [directory, env] = process.argv.slice(2);
globalThis.__ENV = JSON.parse(env);
globalThis.open = (path) => readFileSync(join(directory, path), 'utf8');
globalThis.__requests = [];
try {
  const script = await import(pathToFileURL(join(directory, 'api.mjs')).href);
  for (const scenario of Object.values(script.options.scenarios)) {
    script[scenario.exec]();
  }
  console.log(JSON.stringify({ options: script.options, requests: globalThis.__requests }));
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
