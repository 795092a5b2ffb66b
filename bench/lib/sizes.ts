/** How big each scenario is: `BENCH_SIZE=smoke|medium|full`, each number overridable by its own variable. */

export type SizeName = 'smoke' | 'medium' | 'full';

export interface Sizes {
  name: SizeName;
  /** Sequential dev deploys (after one warm-up run). BENCH_LATENCY_RUNS */
  latencyDev: number;
  /** Sequential staging deploys, each approved once waiting. BENCH_STAGING_RUNS */
  latencyStaging: number;
  /** Sequential landing-zone creations (dev + staging). BENCH_LZ_RUNS */
  latencyLandingZones: number;
  /** Seconds of load at each connection count. BENCH_THROUGHPUT_SECONDS */
  throughputSeconds: number;
  /** Connection counts (autocannon) and concurrent starts (floor). BENCH_THROUGHPUT_CONNECTIONS=10,50 */
  throughputConnections: number[];
  /** Dev deploys started at once. BENCH_BURST */
  burst: number;
  /** Dev deploys in flight when the worker is killed. BENCH_RESUME */
  resume: number;
  /** Staging runs left waiting for approval. BENCH_PARKED */
  parked: number;
  /** Seconds the ServiceNow reads of the parked runs are counted. BENCH_PARKED_WINDOW_SECONDS */
  parkedWindowSeconds: number;
  /** Parked runs approved through the simulator, for approve → deploy start. BENCH_PARKED_APPROVE */
  parkedApprove: number;
  /** Requests in flight while the bench sets up many runs (parked). BENCH_SETUP_CONCURRENCY */
  setupConcurrency: number;
  /** Whether the parked scenario parks the floor's runs too; BENCH_PARKED_FLOOR=0 skips them. */
  parkedFloor: boolean;
}

const PRESETS: Record<SizeName, Omit<Sizes, 'name' | 'parkedFloor'>> = {
  smoke: {
    latencyDev: 5,
    latencyStaging: 2,
    latencyLandingZones: 1,
    throughputSeconds: 3,
    throughputConnections: [10, 50],
    burst: 10,
    resume: 5,
    parked: 10,
    parkedWindowSeconds: 5,
    parkedApprove: 5,
    setupConcurrency: 10,
  },
  medium: {
    latencyDev: 20,
    latencyStaging: 5,
    latencyLandingZones: 3,
    throughputSeconds: 10,
    throughputConnections: [10, 50],
    burst: 100,
    resume: 50,
    parked: 500,
    parkedWindowSeconds: 65,
    parkedApprove: 50,
    setupConcurrency: 20,
  },
  // The sizes issue 12 asks about.
  full: {
    latencyDev: 50,
    latencyStaging: 10,
    latencyLandingZones: 5,
    throughputSeconds: 30,
    throughputConnections: [10, 50],
    burst: 500,
    resume: 500,
    parked: 10_000,
    parkedWindowSeconds: 120,
    parkedApprove: 1_000,
    setupConcurrency: 25,
  },
};

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0, not "${raw}"`);
  return value;
}

export function sizesFrom(env: NodeJS.ProcessEnv): Sizes {
  const name = (env.BENCH_SIZE ?? 'smoke') as SizeName;
  const preset = PRESETS[name];
  if (!preset) throw new Error(`BENCH_SIZE must be one of ${Object.keys(PRESETS).join(', ')}, not "${name}"`);
  const connections = env.BENCH_THROUGHPUT_CONNECTIONS
    ? env.BENCH_THROUGHPUT_CONNECTIONS.split(',').map((c) => positive({ c }, 'c', 0)).filter((c) => c > 0)
    : preset.throughputConnections;
  return {
    name,
    latencyDev: positive(env, 'BENCH_LATENCY_RUNS', preset.latencyDev),
    latencyStaging: positive(env, 'BENCH_STAGING_RUNS', preset.latencyStaging),
    latencyLandingZones: positive(env, 'BENCH_LZ_RUNS', preset.latencyLandingZones),
    throughputSeconds: positive(env, 'BENCH_THROUGHPUT_SECONDS', preset.throughputSeconds),
    throughputConnections: connections,
    burst: positive(env, 'BENCH_BURST', preset.burst),
    resume: positive(env, 'BENCH_RESUME', preset.resume),
    parked: positive(env, 'BENCH_PARKED', preset.parked),
    parkedWindowSeconds: positive(env, 'BENCH_PARKED_WINDOW_SECONDS', preset.parkedWindowSeconds),
    parkedApprove: positive(env, 'BENCH_PARKED_APPROVE', preset.parkedApprove),
    setupConcurrency: Math.max(1, positive(env, 'BENCH_SETUP_CONCURRENCY', preset.setupConcurrency)),
    parkedFloor: env.BENCH_PARKED_FLOOR !== '0',
  };
}
