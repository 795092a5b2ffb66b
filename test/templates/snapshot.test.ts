/** Each class rendered with the sample context, compared with its committed snapshot under __snapshots__/. */
import { describe, it } from 'node:test';
import { PROJECT_CLASSES, renderProjectSkeleton } from '../../shared/project-templates';
import { sampleContext } from './fixtures';
import { expectSnapshot, filesAsText } from './snapshot';

describe('project template snapshots', () => {
  for (const projectClass of PROJECT_CLASSES) {
    it(`when the ${projectClass} skeleton is rendered with the sample context, then it matches __snapshots__/${projectClass}.snap`, () => {
      const { files, defaults } = renderProjectSkeleton(projectClass, sampleContext);
      const header = [
        `# The ${projectClass} skeleton rendered with the sample context of test/templates/fixtures.ts.`,
        '# Review a change here, then accept it: UPDATE_SNAPSHOTS=1 npx tsx --test test/templates/*.test.ts',
        `# defaults: ${JSON.stringify(defaults)}`,
      ].join('\n');
      expectSnapshot(projectClass, filesAsText(header, files));
    });
  }
});
