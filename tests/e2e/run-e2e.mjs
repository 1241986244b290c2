// Runs the e2e tests (*.test.mjs, node:test + the official `openai` client) against a real
// `folio serve` with two shared models in one server:
//
//   node run-e2e.mjs --folio build/app/folio --models ../shared/models
//
// Starts the server on a free port with an API key file, waits for /health 200, runs the tests
// with FOLIO_E2E_* variables, then sends SIGTERM and requires a clean exit (status 0).
// Exit status: the tests' (or 1), 77 when node's dependencies cannot be installed (CTest: skip).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    folio: { type: 'string' },
    models: { type: 'string' },
    timeout: { type: 'string', default: '90' },
  },
});
// Like the C++ tests: $FOLIO_SHARED_DIR overrides the shared data folder configured at build time.
if (process.env.FOLIO_SHARED_DIR) args.models = join(process.env.FOLIO_SHARED_DIR, 'models');
if (!args.folio || !args.models) {
  console.error('usage: node run-e2e.mjs --folio PATH/TO/folio --models PATH/TO/shared/models');
  process.exit(2);
}

if (!existsSync(join(here, 'node_modules', 'openai'))) {
  console.log('e2e: installing the locked npm packages (npm ci)');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
  if (npm.error || npm.status !== 0) {
    console.log('SKIP: `npm ci` failed in tests/e2e (no npm or no registry)');
    process.exit(77);
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'folio-e2e-'));
const apiKey = 'e2e-' + Math.random().toString(36).slice(2);
const keyFile = join(scratch, 'api-key');
writeFileSync(keyFile, apiKey + '\n', { mode: 0o600 });

// No FOLIO_* or config file from the machine or the user: only what is passed here.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FOLIO_')));
Object.assign(env, { HOME: scratch, CONFIGURATION_DIRECTORY: scratch, XDG_CONFIG_HOME: scratch });
delete env.NOTIFY_SOCKET;

const chatModel = 'tiny-qwen2-Q8_0';
const completionModel = 'stories260K';
const folioArgs = ['serve', '--port', '0', '--api-key-file', keyFile, '--threads', '2',
  '--kv-cache-memory', '64M', '--shutdown-grace', '10',
  '-m', resolve(args.models, chatModel + '.gguf'), '-m', resolve(args.models, completionModel + '.gguf')];
console.log(`e2e: ${args.folio} ${folioArgs.join(' ')}`);
const server = spawn(resolve(args.folio), folioArgs, { env, stdio: ['ignore', 'inherit', 'pipe'] });
let log = '';
const exited = new Promise((res) => server.on('exit', (code, signal) => res({ code, signal })));
const port = await new Promise((res, rej) => {
  const timer = setTimeout(() => rej(new Error('folio serve did not listen within 30 s')), 30000);
  server.stderr.on('data', (d) => {
    log += d;
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
    if (m) { clearTimeout(timer); res(Number(m[1])); }
  });
  server.on('exit', () => rej(new Error('folio serve exited before listening')));
}).catch((e) => { console.error(`e2e: ${e.message}\n${log}`); process.exit(1); });

const baseURL = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 60000;
for (;;) {
  const status = await fetch(baseURL + '/health').then((r) => r.status, () => 0);
  if (status === 200) break;
  if (Date.now() > deadline) { console.error(`e2e: /health never said 200\n${log}`); process.exit(1); }
  await new Promise((r) => setTimeout(r, 50));
}

const files = readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(here, f));
const only = process.env.FOLIO_E2E_ONLY;  // e.g. "chat" runs chat.test.mjs only
const selected = only ? files.filter((f) => f.includes(only)) : files;
const tests = spawnSync(process.execPath, ['--test', ...selected], {
  stdio: 'inherit',
  timeout: Number(args.timeout) * 1000,
  env: {
    ...process.env,
    FOLIO_E2E_BASE_URL: baseURL + '/v1',
    FOLIO_E2E_API_KEY: apiKey,
    FOLIO_E2E_CHAT_MODEL: chatModel,
    FOLIO_E2E_COMPLETION_MODEL: completionModel,
  },
});

server.kill('SIGTERM');
const { code, signal } = await exited;
rmSync(scratch, { recursive: true, force: true });
let status = tests.status ?? 1;
if (tests.error) console.error(`e2e: the tests did not finish: ${tests.error.message}`);
if (code !== 0) {
  console.error(`e2e: folio serve exited with ${code ?? signal} after SIGTERM`);
  status = status || 1;
}
if (status !== 0 || process.env.FOLIO_E2E_VERBOSE) console.error(`---- folio serve log ----\n${log}`);
process.exit(status);
