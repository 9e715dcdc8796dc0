import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ContainerSettings } from '@app/onboarding';

/** The real library the images ship. */
export const LIB = resolve(__dirname, '../../docker-images/user-images/container-functions.sh');

/** SETTINGS as onboarding issues them, plus the optional gateway_url the script honours. */
export type Settings = ContainerSettings & { gateway_url?: string };

export function encodeSettings(s: Partial<Settings> | Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

export interface BashResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `script` in bash under `set -euo pipefail` with the library sourced; killed after `timeoutMs`. */
export function runBash(script: string, env: Record<string, string>, timeoutMs = 20_000): Promise<BashResult> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', `set -euo pipefail\n. "$CF_LIB"\n${script}`], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8', CF_LIB: LIB, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

export interface Recorded {
  at: number;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Stub {
  url: string;
  hostPort: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** A tiny HTTP server on loopback that records every request and answers with `handle`. */
export async function startStub(handle: (req: Recorded, res: ServerResponse, n: number) => unknown): Promise<Stub> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const at = performance.now();
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const rec = { at, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(rec);
      void Promise.resolve(handle(rec, res, requests.length)).catch((err) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

export function tempDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `cf-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Gaps between consecutive instants. */
export const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]);
