/**
 * Starts that fail must fail plainly and leave nothing behind: a Temporal dev server whose port
 * someone else holds, and a test platform whose start fails after it has bound its servers. (A CI
 * run once hung for 30 minutes after a failed start had left a server open in the chaos suite.)
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { startTemporalDevServer } from '../../scripts/lib/temporal-dev-server';
import { listen } from '../../shared/listen';
import { startTestPlatform } from '../helpers/platform';

/** How many servers this process still has bound, once closed ones are released (a later turn of the event loop). */
async function listeningServers(): Promise<number> {
  const count = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;
  const deadline = Date.now() + 2_000;
  while (count() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return count();
}

describe('starts that fail', () => {
  it('when another server holds the port, then the Temporal dev server start fails naming it, not a false success', async () => {
    const squatter = createServer((_req, res) => res.end('not temporal'));
    const { port } = await listen(squatter, 0, '127.0.0.1');
    try {
      await assert.rejects(startTemporalDevServer({ port }), (error: Error) => {
        assert.match(error.message, /exited during start/);
        assert.match(error.message, new RegExp(`port ${port}.*address already in use`));
        return true;
      });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('when the platform start fails after its servers are bound, then it fails naming the problem and leaves no server listening', async () => {
    assert.equal(await listeningServers(), 0, 'nothing listens before');
    // The configuration is read once the API and the simulator hold their ports.
    await assert.rejects(startTestPlatform({ startWorker: false, env: { SERVICENOW_POLL_INTERVAL: 'soon' } }), /SERVICENOW_POLL_INTERVAL/);
    assert.equal(await listeningServers(), 0, 'the API and the simulator are closed again');
  });
});
