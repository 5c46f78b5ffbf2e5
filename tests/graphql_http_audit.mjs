// The graphql-http server audit (the GraphQL-over-HTTP reference) against a running server.
// Usage: node tests/graphql_http_audit.mjs http://127.0.0.1:8000/graphql
// graphql-http is resolved from the working directory: run it in tests/ after `npm ci` there
// (tests/package.json pins the version; tests/test_graphql_http.py does both).
// Prints one line per audit and a summary per level; exits 1 when a MUST or a SHOULD fails.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const url = process.argv[2];
if (!url) {
  console.error('usage: node graphql_http_audit.mjs URL');
  process.exit(2);
}

const require = createRequire(pathToFileURL(`${process.cwd()}/`));
const { serverAudits } = await import(pathToFileURL(require.resolve('graphql-http')).href);

const levels = { MUST: [0, 0], SHOULD: [0, 0], MAY: [0, 0] };
for (const { id, name, fn } of serverAudits({ url })) {
  const result = await fn();
  const level = name.split(' ', 1)[0];
  levels[level][result.status === 'ok' ? 0 : 1] += 1;
  const detail = result.status === 'ok' ? '' : ` -- ${result.reason} (got ${result.response.status})`;
  console.log(`${result.status.padEnd(6)} ${id} ${name}${detail}`);
}
for (const [level, [passed, failed]] of Object.entries(levels)) {
  console.log(`${level}: ${passed}/${passed + failed} passed`);
}
process.exit(levels.MUST[1] + levels.SHOULD[1] > 0 ? 1 : 0);
