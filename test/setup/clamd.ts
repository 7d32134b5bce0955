/// <reference path="../provided-context.d.ts" />
/** @module Vitest global setup (runs in Node): starts a private clamd (test/node/clamd-server.ts) for the clamd tests, and a server that never answers. */
import { createServer, type Server, type Socket } from 'node:net';
import type { TestProject } from 'vitest/node';
import { CLAMD_ONLY, CLAMD_ONLY_NAME, freePort, startClamd } from '../node/clamd-server';

/** Small enough that a test can exceed it cheaply, big enough for the multi-MiB tests. */
const STREAM_MAX_LENGTH = 16 * 1024 * 1024;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const clamd = await startClamd({ streamMaxLength: STREAM_MAX_LENGTH });

  // Holds connections open and never answers, to exercise the scanner's timeout.
  const held = new Set<Socket>();
  const silent: Server = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => {}).on('close', () => held.delete(socket));
  });
  const cleanUp = async () => {
    held.forEach((socket) => socket.destroy());
    if (silent.listening) await new Promise((resolve) => silent.close(resolve));
    await clamd.stop();
  };

  try {
    await new Promise<void>((resolve, reject) => silent.once('error', reject).listen(0, '127.0.0.1', resolve));
    const silentAddress = silent.address();
    if (!silentAddress || typeof silentAddress === 'string') throw new Error('no port for the silent server');

    project.provide('clamdPort', clamd.port);
    project.provide('closedPort', await freePort());
    project.provide('silentPort', silentAddress.port);
    project.provide('clamdStreamMaxLength', STREAM_MAX_LENGTH);
    project.provide('clamdOnlySignature', { text: CLAMD_ONLY, name: CLAMD_ONLY_NAME });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return cleanUp;
}
