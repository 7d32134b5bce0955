/// <reference path="../provided-context.d.ts" />
/** @module Vitest global setup (runs in Node): starts a private clamd with only an EICAR signature for the clamd scanner tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';


const CLAMD = process.env.CLAMD_BIN ?? '/usr/sbin/clamd';
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
/** Small enough that a test can exceed it cheaply, big enough for the multi-MiB tests. */
const STREAM_MAX_LENGTH = 16 * 1024 * 1024;
const START_TIMEOUT_MS = 20_000;

/** A port the OS just handed out and that nothing holds now (a tiny race, fine on loopback). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port from the OS');
  return address.port;
}

/** Sends one z-command and returns clamd's NUL-terminated answer (or whatever came before EOF). */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('no answer')));
    socket.on('connect', () => socket.end(`z${command}\0`));
    socket.on('data', (data) => (answer += data.toString('latin1')));
    socket.on('end', () => resolve(answer.replace(/\0$/, '')));
    socket.on('error', reject);
  });
}

async function waitForPong(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`clamd exited (${child.exitCode ?? child.signalCode}) before answering:\n${output()}`);
    }
    const answer = await ask(port, 'PING').catch(() => '');
    if (answer === 'PONG') return;
    if (Date.now() > deadline) throw new Error(`clamd did not answer PING within ${START_TIMEOUT_MS} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync(CLAMD)) {
    throw new Error(
      `clamd is not installed (no ${CLAMD}). The clamd scanner tests run a real clamd: ` +
        'install it with `apt-get install clamav-daemon` (Debian; .ci/run does this), or set CLAMD_BIN.',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'clamd-test-'));
  const port = await freePort();
  // .ndb: Name:TargetType:Offset:HexSignature. Target 0 = any file, offset * = anywhere, so
  // copies embedded at any offset are found too (an .hdb hash would match only the exact file).
  const hex = Buffer.from(EICAR, 'latin1').toString('hex');
  await writeFile(join(dir, 'test.ndb'), `Eicar-Test-Signature:0:*:${hex}\n`);
  // No User (stays the invoking user, root in CI), no LocalSocket, PidFile or LogFile: nothing
  // outside `dir` is touched, so a system clamd or freshclam from the package cannot collide.
  await writeFile(
    join(dir, 'clamd.conf'),
    [
      `DatabaseDirectory ${dir}`,
      `TemporaryDirectory ${dir}`,
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      'Foreground yes',
      `StreamMaxLength ${STREAM_MAX_LENGTH}`,
      'Bytecode no',
      'SelfCheck 0',
      '',
    ].join('\n'),
  );

  const child = spawn(CLAMD, ['-c', join(dir, 'clamd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (data: Buffer) => (output = (output + data.toString()).slice(-8192));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const spawned = new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));

  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  };

  // Holds connections open and never answers, to exercise the scanner's timeout.
  const held = new Set<Socket>();
  const silent: Server = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => {}).on('close', () => held.delete(socket));
  });
  const closeSilent = async () => {
    held.forEach((socket) => socket.destroy());
    if (silent.listening) await new Promise((resolve) => silent.close(resolve));
  };
  const cleanUp = async () => {
    await closeSilent();
    await stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await spawned;
    await waitForPong(port, child, () => output);
    await new Promise<void>((resolve, reject) => silent.once('error', reject).listen(0, '127.0.0.1', resolve));
    const silentAddress = silent.address();
    if (!silentAddress || typeof silentAddress === 'string') throw new Error('no port for the silent server');

    project.provide('clamdPort', port);
    project.provide('closedPort', await freePort());
    project.provide('silentPort', silentAddress.port);
    project.provide('clamdStreamMaxLength', STREAM_MAX_LENGTH);
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return cleanUp;
}
