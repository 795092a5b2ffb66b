/**
 * Hands the worker's free C-heap pages back to the kernel every WORKER_MALLOC_TRIM_INTERVAL
 * (issue 12, ADR 20). The SDK's core (Rust), Node's buffers and V8's compiler all allocate with
 * glibc malloc; after a busy stretch (parking thousands of runs) most of that is free again but
 * stays in the process, because free() only returns the top of a heap and the holes below it stay
 * mapped. glibc's malloc_trim(0) returns those holes too: on the bench, 2,000 parked runs, the
 * worker went from 283 to 201 MiB in one call (its glibc heap from 81 to 26 MiB).
 *
 * The call comes from `@deploy-platform/malloc-trim` (native/malloc-trim, linked as an optional
 * dependency and built by the root package's postinstall). Where it did not build, or the C
 * library is not glibc (musl, macOS), there is nothing to call and the worker runs as before; it
 * says so once at start.
 */

export interface MallocTrimBinding {
  /** true when memory went back to the kernel; undefined where the C library has no malloc_trim. */
  trim(): boolean | undefined;
  supported: boolean;
}

export interface MallocTrimOptions {
  /** Between two trims; 0 = never. */
  intervalMs: number;
  /** The native call (`loadMallocTrimBinding`); undefined where it is not available. */
  binding: MallocTrimBinding | undefined;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

export interface MallocTrimmer {
  /** Whether trims are scheduled (the binding loaded, the C library is glibc, the interval is not 0). */
  readonly active: boolean;
  /** How many trims ran, and their total time (ms): for the log line at stop. */
  readonly stats: { trims: number; released: number; totalMs: number };
  stop(): void;
}

/** The package's binding, or why it is not there. */
export function loadMallocTrimBinding(): { binding: MallocTrimBinding } | { unavailable: string } {
  try {
    // A native addon: `require` is how Node loads one (there is no ESM form of a .node file).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const binding = require('@deploy-platform/malloc-trim') as MallocTrimBinding;
    return binding.supported ? { binding } : { unavailable: 'the C library is not glibc' };
  } catch (error) {
    return { unavailable: `@deploy-platform/malloc-trim did not load (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  }
}

export function startMallocTrim(options: MallocTrimOptions): MallocTrimmer {
  const stats = { trims: 0, released: 0, totalMs: 0 };
  const { binding } = options;
  if (options.intervalMs <= 0 || !binding?.supported) {
    return { active: false, stats, stop: () => undefined };
  }
  const timer = setInterval(() => {
    const began = performance.now();
    try {
      if (binding.trim()) stats.released += 1;
    } catch (error) {
      // Never fatal: the worker's job is its runs, and an untrimmed heap only costs memory.
      options.log('malloc_trim failed', { error: error instanceof Error ? error.message : String(error) });
    }
    stats.trims += 1;
    stats.totalMs += performance.now() - began;
  }, options.intervalMs);
  // Trimming is never a reason to keep the process alive.
  timer.unref();
  return { active: true, stats, stop: () => clearInterval(timer) };
}
