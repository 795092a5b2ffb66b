/**
 * A separate process opening the platform database, as the API and the worker do at `npm start`.
 * Prints "ready", then opens the store and writes one entry as soon as a line arrives on stdin, so
 * that the parent can release several children onto a fresh file at the same moment.
 * Usage: open-store-child.ts <database file> <name>
 */
import { openPlatformStore } from '../../shared/store';

const [file, name] = process.argv.slice(2);
if (!file || !name) throw new Error('usage: open-store-child.ts <database file> <name>');
process.stdin.once('data', () => {
  const store = openPlatformStore(file);
  store.configuration.upsert({ scope: 'global', key: `opened.by.${name}` }, { value: 'yes' }, name);
  store.close();
  process.stdin.destroy();
});
process.stdout.write('ready\n');
