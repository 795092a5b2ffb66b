/**
 * The spawner's child process (see spawner.ts): runs each requested command with execFile and
 * sends back what happened. It imports nothing else, so it stays small, and forking git from it
 * costs a millisecond instead of blocking the worker's event loop for several.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import type { SpawnReply, SpawnRequest } from './spawner';

const running = new Set<ChildProcess>();

process.on('message', (request: SpawnRequest) => {
  const child = execFile(request.file, request.args, { ...request.options, encoding: 'utf8' }, (error, stdout, stderr) => {
    const reply: SpawnReply = {
      id: request.id,
      error: error ? { code: error.code, killed: error.killed, signal: error.signal ?? undefined, message: error.message } : null,
      stdout,
      stderr,
    };
    running.delete(child);
    process.send?.(reply);
  });
  running.add(child);
  // A command that exits before reading all of its input must surface as its own error, not as EPIPE.
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(request.input ?? '');
});

// The worker that started us is gone (exited, killed): so are we, and so are its commands. A git
// left running would go on writing the repository's index while the next worker, taking over the
// dead worker's lock, recovers it.
process.on('disconnect', () => {
  for (const child of running) child.kill('SIGKILL');
  process.exit(0);
});
