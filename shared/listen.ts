/**
 * Binds an HTTP server and resolves with the address it got. Port 0 lets the kernel pick a free
 * port at bind time: asking for a free port first and binding it later races every other process
 * that binds in between (a Temporal dev server picks several ports of its own while it starts).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
