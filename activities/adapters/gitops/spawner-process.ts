/**
 * The spawner's child process (see spawner.ts): runs each requested command with execFile and
 * sends back what happened. It imports nothing else, so it stays small, and forking git from it
 * costs a millisecond instead of blocking the worker's event loop for several.
 */
import { execFile } from 'node:child_process';
import type { SpawnReply, SpawnRequest } from './spawner';

process.on('message', (request: SpawnRequest) => {
  const child = execFile(request.file, request.args, { ...request.options, encoding: 'utf8' }, (error, stdout, stderr) => {
    const reply: SpawnReply = {
      id: request.id,
      error: error ? { code: error.code, killed: error.killed, signal: error.signal ?? undefined, message: error.message } : null,
      stdout,
      stderr,
    };
    process.send?.(reply);
  });
  // A command that exits before reading all of its input must surface as its own error, not as EPIPE.
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(request.input ?? '');
});

// The worker that started us is gone (exited, killed): so are we.
process.on('disconnect', () => process.exit(0));
