/**
 * How the bench starts its child processes (bench/lib/runtime.ts) and the size switches it reads
 * (bench/lib/sizes.ts): compiled by default, as the image runs them; tsx on request; bad values
 * stop the bench with a message naming the variable.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { childArgs, runtimeFrom } from '../../bench/lib/runtime';
import { sizesFrom } from '../../bench/lib/sizes';
import { projectRoot } from '../../scripts/lib/tools';

describe('bench child runtime', () => {
  it('runs the children compiled unless BENCH_RUNTIME=tsx', () => {
    assert.equal(runtimeFrom({}), 'compiled');
    assert.equal(runtimeFrom({ BENCH_RUNTIME: 'compiled' }), 'compiled');
    assert.equal(runtimeFrom({ BENCH_RUNTIME: 'tsx' }), 'tsx');
    assert.throws(() => runtimeFrom({ BENCH_RUNTIME: 'ts-node' }), /BENCH_RUNTIME must be "compiled" or "tsx", not "ts-node"/);
  });

  it('starts a compiled child from dist/ with the compiled memory reporter in front, and no tsx', () => {
    const args = childArgs('compiled', 'workers/main.ts');
    assert.deepEqual(args, [join(projectRoot, 'dist/bench/lib/memory-reporter.js'), join(projectRoot, 'dist/workers/main.js')]);
    assert.ok(!args.includes('tsx'));
    assert.deepEqual(childArgs('compiled', 'bench/floor/worker.ts').at(-1), join(projectRoot, 'dist/bench/floor/worker.js'));
  });

  it('starts a tsx child from its source under the tsx loader', () => {
    assert.deepEqual(childArgs('tsx', 'api/main.ts'), ['--import', 'tsx', join(projectRoot, 'bench/lib/memory-reporter.ts'), join(projectRoot, 'api/main.ts')]);
  });

  it('refuses an entry that is not a project-relative .ts path', () => {
    assert.throws(() => childArgs('compiled', '/abs/workers/main.ts'), /project-relative \.ts path/);
    assert.throws(() => childArgs('tsx', 'workers/main.js'), /project-relative \.ts path/);
  });
});

describe('bench sizes', () => {
  it('the full size is the one issue 12 names', () => {
    const full = sizesFrom({ BENCH_SIZE: 'full' });
    assert.equal(full.burst, 500);
    assert.equal(full.resume, 500);
    assert.equal(full.parked, 10_000);
    assert.equal(full.parkedApprove, 1_000);
  });

  it('parks the floor too unless BENCH_PARKED_FLOOR=0', () => {
    assert.equal(sizesFrom({}).parkedFloor, true);
    assert.equal(sizesFrom({ BENCH_PARKED_FLOOR: '1' }).parkedFloor, true);
    assert.equal(sizesFrom({ BENCH_PARKED_FLOOR: '0' }).parkedFloor, false);
  });

  it('names the variable when a size is not a number', () => {
    assert.throws(() => sizesFrom({ BENCH_BURST: 'many' }), /BENCH_BURST must be a number ≥ 0, not "many"/);
    assert.throws(() => sizesFrom({ BENCH_SIZE: 'huge' }), /BENCH_SIZE must be one of smoke, medium, full, not "huge"/);
  });
});
