/**
 * @module Starts a private clamd on 127.0.0.1 with only the signatures given (no system database,
 * nothing outside its temporary directory), for the tests and the processing benchmark.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLAMD = process.env.CLAMD_BIN ?? '/usr/sbin/clamd';
const START_TIMEOUT_MS = 20_000;

/** The EICAR test string: clamd's signature for it is in every database we start. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
/**
 * A signature only clamd knows (the built-in scanner does not), so a test can tell that clamd,
 * not the built-in scanner, found it.
 */
export const CLAMD_ONLY =
  'CLAMD-ONLY-TEST-SIGNATURE:1b7e0c55-the-builtin-scanner-does-not-know-this;' +
  'long-enough-that-the-built-in-overlap-of-67-bytes-cannot-hold-it-whole-so-only-clamd-overlap-can';
export const CLAMD_ONLY_NAME = 'Clamd-Only-Test-Signature';

export interface ClamdServer {
  port: number;
  pid: number;
  streamMaxLength: number;
  /** Stops the daemon (by its pid) and removes its directory. */
  stop(): Promise<void>;
}

/** A port the OS just handed out and that nothing holds now (a tiny race, fine on loopback). */
export async function freePort(): Promise<number> {
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

/** .ndb: Name:TargetType:Offset:HexSignature; target 0 = any file, offset * = anywhere in it. */
const ndbLine = (name: string, text: string) => `${name}:0:*:${Buffer.from(text, 'latin1').toString('hex')}`;

export async function startClamd(options: { streamMaxLength: number }): Promise<ClamdServer> {
  if (!existsSync(CLAMD)) {
    throw new Error(
      `clamd is not installed (no ${CLAMD}). The clamd scanner tests run a real clamd: ` +
        'install it with `apt-get install clamav-daemon` (Debian; .ci/run does this), or set CLAMD_BIN.',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'clamd-'));
  const port = await freePort();
  // An .ndb body signature rather than an .hdb hash, so copies embedded at any offset are found.
  await writeFile(join(dir, 'test.ndb'), `${ndbLine('Eicar-Test-Signature', EICAR)}\n${ndbLine(CLAMD_ONLY_NAME, CLAMD_ONLY)}\n`);
  // No User (stays the invoking user), no LocalSocket, PidFile or LogFile: nothing outside `dir`
  // is touched, so a system clamd or freshclam from the package cannot collide.
  const max = options.streamMaxLength;
  await writeFile(
    join(dir, 'clamd.conf'),
    [
      `DatabaseDirectory ${dir}`,
      `TemporaryDirectory ${dir}`,
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      'Foreground yes',
      `StreamMaxLength ${max}`,
      // Scan every byte of what it accepts (the defaults stop looking at 100 MB / 400 MB).
      `MaxFileSize ${max}`,
      `MaxScanSize ${max}`,
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
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`clamd exited (${child.exitCode ?? child.signalCode}) before answering:\n${output}`);
      }
      if ((await ask(port, 'PING').catch(() => '')) === 'PONG') break;
      if (Date.now() > deadline) throw new Error(`clamd did not answer PING within ${START_TIMEOUT_MS} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, pid: child.pid!, streamMaxLength: max, stop };
}
