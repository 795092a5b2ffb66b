/** templateUsage: which top-level variables a template reads, so `parameters` can be checked against it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { templateUsage } from '../../shared/project-templates';

const used = (source: string, partials: Record<string, string> = {}): string[] => [...templateUsage(source, partials).variables].sort();

describe('template variable usage', () => {
  it('when a template reads plain, nested and block-parameter variables, then each top-level name is reported once', () => {
    assert.deepEqual(used('{{project}} {{owners.group}} {{#if temporalUiUrl}}{{temporalUiUrl}}{{/if}} {{project}}'), ['owners', 'project', 'temporalUiUrl']);
  });

  it('when a template loops, then names inside the loop are the item, and ../ or @root reach the top level', () => {
    assert.deepEqual(used('{{#each deployStages}}{{name}} {{../service}} {{@root.tenant}} {{@index}}{{/each}}'), ['deployStages', 'service', 'tenant']);
  });

  it('when a partial is included, then its variables count, in the context it is given', () => {
    const partials = { step: '{{project}} {{name}}' };
    assert.deepEqual(used('{{> step}}', partials), ['name', 'project']);
    assert.deepEqual(used('{{#each deployStages}}{{> step @root}}{{/each}}', partials), ['deployStages', 'name', 'project']);
    assert.deepEqual(used('{{#each deployStages}}{{> step}}{{/each}}', partials), ['deployStages']);
  });

  it('when braces are escaped for another tool, then they are not variables', () => {
    assert.deepEqual(used('$\\{{ secrets.PLATFORM_TOKEN }} \\{{range .RepoDigests}}'), []);
  });

  it('when a partial is unknown or includes itself, then the usage check fails saying so', () => {
    assert.throws(() => used('{{> missing}}'), /unknown partial "missing"/);
    assert.throws(() => used('{{> loop}}', { loop: 'x {{> loop}}' }), /partial "loop" includes itself/);
  });
});
