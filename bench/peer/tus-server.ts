/**
 * The peer for the benchmarks: @tus/server with @tus/file-store on a loopback port, in its own
 * Node process (as workerd is its own process), started by bench/lib/servers.ts.
 * Env: PORT, DIR (where the store writes). Prints "listening <port>" when ready.
 */
import { createServer } from 'node:http';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

const port = Number(process.env.PORT);
const directory = process.env.DIR;
if (!port || !directory) throw new Error('PORT and DIR are required');

const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) });
const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.end('ok');
    return;
  }
  void tus.handle(req, res);
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
