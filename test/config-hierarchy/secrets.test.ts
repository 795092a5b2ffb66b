/**
 * Secrets are references, never values: the repository refuses anything that looks like a secret
 * value, whoever writes (the API or a landing zone), and its errors never repeat the value.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { contentProblems, InvalidEntryError, openPlatformStore, type EntryLocation } from '../../shared/store';
import { tempDbFile } from './temp-db';

const project = (key: string): EntryLocation => ({ scope: 'project', tenant: 'retail', project: 'shop', key });

describe('secret references', () => {
  it('when a secret is stored by reference, then the store holds and returns only the reference', () => {
    const file = tempDbFile();
    const store = openPlatformStore(file);
    for (const ref of ['vault://kv/payments/db#password', 'aws-sm://arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf', 'local-secret://ci-tokens/retail/shop']) {
      store.configuration.upsert(project('db.password'), { secretRef: ref }, 'owner');
      const [entry] = store.configuration.resolve('retail', 'shop');
      assert.deepEqual({ secretRef: entry?.secretRef, hasValue: entry !== undefined && 'value' in entry }, { secretRef: ref, hasValue: false });
    }
    store.close();
  });

  it('when a value is given for a key that names a secret, then it is refused and the message asks for a secretRef without repeating the value', () => {
    const store = openPlatformStore(tempDbFile());
    for (const key of ['db.password', 'SMTP_PASSWD', 'client_secret', 'GITHUB_TOKEN', 'tls.private-key', 'aws.credentials', 'stripe.api_key']) {
      assert.throws(
        () => store.configuration.upsert(project(key), { value: 'hunter2-s3cr3t' }, 'owner'),
        (error: unknown) => error instanceof InvalidEntryError && error.problems[0]?.field === 'value' && /secretRef/.test(error.message) && !error.message.includes('hunter2'),
        key,
      );
    }
    assert.deepEqual(store.configuration.resolve('retail', 'shop'), []);
    store.close();
  });

  it('when a value carries a credential under an innocent key, then it is refused', () => {
    assert.match(contentProblems('db.url', { value: 'postgres://app:hunter2@db.internal:5432/app' })[0]?.message ?? '', /URL with a password/);
    assert.match(contentProblems('tls.cert', { value: '-----BEGIN RSA PRIVATE KEY-----\nMIIE...' })[0]?.message ?? '', /private key/);
    assert.deepEqual(contentProblems('db.url', { value: 'postgres://db.internal:5432/app' }), [], 'a URL without a password is fine');
    const refused: [string, string, RegExp][] = [
      ['db.connection', 'Server=db.internal;Database=app;User Id=app;Password=hunter2;', /connection string with a password/],
      ['db.jdbc', 'jdbc:sqlserver://db.internal:1433;databaseName=app;user=app;pwd=hunter2', /connection string with a password/],
      ['db.dsn', 'host=db.internal dbname=app user=app password=hunter2', /connection string with a password/],
      ['aws.access', 'AKIAIOSFODNN7EXAMPLE', /AWS access key id/],
      ['aws.profile', '[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', /AWS secret access key/],
      ['ci.github', `ghp_${'a1'.repeat(18)}`, /GitHub token/],
    ];
    for (const [key, value, what] of refused) {
      const [problem] = contentProblems(key, { value });
      assert.match(problem?.message ?? '', what, key);
      assert.ok(!problem?.message.includes('hunter2'), 'the message never repeats the value');
    }
    assert.deepEqual(contentProblems('db.connection', { value: 'Server=db.internal;Database=app;Integrated Security=true;' }), [], 'a connection string without a password is fine');
    assert.deepEqual(contentProblems('LOG_LEVEL', { value: 'info' }), []);
  });

  it('when a reference is not a URI or carries credentials itself, then it is refused', () => {
    for (const ref of ['hunter2', 'vault:kv/db', 'vault://', 'vault:///kv/db', 'https://user:pw@vault.internal/v1/kv/db', 'vault://kv/db password', `vault://${'x'.repeat(600)}`]) {
      assert.equal(contentProblems('db.password', { secretRef: ref })[0]?.field, 'secretRef', ref);
    }
    assert.equal(contentProblems('X', {})[0]?.message, 'give exactly one of value or secretRef');
    assert.equal(contentProblems('X', { value: 'a', secretRef: 'vault://kv/a' })[0]?.message, 'give exactly one of value or secretRef');
  });

  it('when a refused write happened, then no trace of the value is in the database file', () => {
    const file = tempDbFile();
    const store = openPlatformStore(file);
    assert.throws(() => store.configuration.upsert(project('db.password'), { value: 'do-not-keep-me' }, 'owner'), InvalidEntryError);
    store.configuration.upsert(project('db.password'), { secretRef: 'vault://kv/shop/db#password' }, 'owner');
    store.close();
    assert.equal(readFileSync(file).includes('do-not-keep-me'), false);
  });
});

describe('entry locations', () => {
  it('when names are not DNS labels, keys are odd, or the scope does not match its names, then the write is refused naming the field', () => {
    const store = openPlatformStore(tempDbFile());
    const refused = (location: EntryLocation): string | undefined => {
      try {
        store.configuration.upsert(location, { value: '1' }, 'x');
        return undefined;
      } catch (error) {
        return error instanceof InvalidEntryError ? error.problems.map((p) => p.field).join(',') : String(error);
      }
    };
    assert.equal(refused({ scope: 'tenant', tenant: 'Retail', key: 'A' }), 'tenant');
    assert.equal(refused({ scope: 'project', tenant: 'retail', project: 'shop-', key: 'A' }), 'project');
    assert.equal(refused({ scope: 'global', environment: 'PROD', key: 'A' }), 'environment');
    assert.equal(refused({ scope: 'global', key: '1abc' }), 'key');
    assert.equal(refused({ scope: 'global', key: 'a/b' }), 'key');
    assert.equal(refused({ scope: 'global', key: 'k'.repeat(129) }), 'key');
    assert.equal(refused({ scope: 'global', tenant: 'retail', key: 'A' }), 'scope');
    assert.equal(refused({ scope: 'project', tenant: 'retail', key: 'A' }), 'scope');
    assert.equal(refused({ scope: 'global', key: 'db.url' }), undefined);
    store.close();
  });
});
