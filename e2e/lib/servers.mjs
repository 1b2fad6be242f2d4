// Servers the tests start on 127.0.0.1: the built site, and an origin that answers with CORS.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.json': 'application/json',
};

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The playground from dist/, as any static web server would serve it. */
export async function serveSite() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const file = join(DIST, path.endsWith('/') ? `${path}index.html` : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await listen(server);
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

/** An origin a guest's backend can reach through fetch: it allows any page to read it. */
export async function serveOrigin() {
  const seen = [];
  const server = createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': '*',
      'access-control-allow-methods': '*',
      'access-control-expose-headers': '*',
    };
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, { ...cors, 'content-type': 'text/plain', 'cache-control': 'max-age=100' });
    res.end(`hello from the test origin, request ${seen.length}`);
  });
  await listen(server);
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => server.close() };
}

/** `edgeplay relay` from this checkout, on a free loopback port. */
export async function startRelay() {
  const { spawn } = await import('node:child_process');
  const binary = fileURLToPath(new URL('../../target/debug/edgeplay', import.meta.url));
  const child = spawn(binary, ['relay', '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout.once('data', (line) => resolve(String(line).trim().replace('Relaying on ', '')));
  });
  child.stdout.resume();
  return { url, close: () => child.kill() };
}
