/** The suite's polling wait: what counts as an answer, what a throw does, and what a timeout says. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { until } from '../helpers/until';

describe('until', () => {
  it('when the probe answers false or undefined, then it asks again until a value comes', async () => {
    const answers: (number | false | undefined)[] = [undefined, false, 0];
    assert.equal(await until('a value', () => answers.shift(), { everyMs: 1 }), 0);
    assert.equal(answers.length, 0);
  });

  it('when the probe throws, then the wait ends with that error unless errors mean "not yet"', async () => {
    await assert.rejects(until('never', () => { throw new Error('server down'); }, { everyMs: 1 }), /^Error: server down$/);
    let calls = 0;
    const value = await until('the server to be back', () => {
      calls += 1;
      if (calls < 3) throw new Error('server down');
      return 'up';
    }, { everyMs: 1, errorsMeanNotYet: true });
    assert.equal(value, 'up');
  });

  it('when time runs out, then the failure names what, the last error and the context', async () => {
    await assert.rejects(
      until('the run to end', () => { throw new Error('connection refused'); }, { timeoutMs: 30, everyMs: 5, errorsMeanNotYet: true, context: () => 'worker log: killed' }),
      (error: Error) => {
        assert.match(error.message, /^timed out after 30 ms waiting for the run to end \(last error: connection refused\)\nworker log: killed$/);
        return true;
      },
    );
  });
});
