import { describe, expect, it } from 'vitest';
import { AuditReplayError } from '../../src/core/errors.js';
import { AzureSource } from '../../src/ingest/sources/azure/azure-source.js';
import { azureSourceFactory } from '../../src/ingest/sources/azure/index.js';
import { connectionStringAccount, parseAzureUrl, redactAzureSecrets, resolveAzureAuth } from '../../src/ingest/sources/azure/azure-url.js';

const SIG = 'Zm9vYmFyYmF6cXV4c2VjcmV0c2lnbmF0dXJlMTIzNDU2Nzg5MA%3D%3D';
const SAS = `sv=2025-01-05&ss=b&srt=sco&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig=${SIG}`;
const KEY = 'c2VjcmV0LWFjY291bnQta2V5LXRoYXQtbXVzdC1uZXZlci1iZS1wcmludGVkLTEyMzQ1Njc4OTA=';
const CS = `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${KEY};EndpointSuffix=core.windows.net`;

function usageError(fn: () => unknown): AuditReplayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuditReplayError);
    expect((err as AuditReplayError).code).toBe('usage');
    return err as AuditReplayError;
  }
  throw new Error('expected a usage error');
}

describe('Azure URL parsing', () => {
  it('reads the container and a folder prefix from an az:// URL', () => {
    expect(parseAzureUrl('az://logs/audit/okera/')).toEqual({
      account: null,
      container: 'logs',
      prefix: 'audit/okera/',
      single: null,
      sas: null,
      displayUrl: 'az://logs/audit/okera/',
    });
    expect(parseAzureUrl('az://logs')).toMatchObject({ container: 'logs', prefix: '', single: null });
    expect(parseAzureUrl('az://logs/')).toMatchObject({ container: 'logs', prefix: '', single: null });
  });

  it('treats a path without a trailing slash as a folder that may also be a single blob', () => {
    expect(parseAzureUrl('az://logs/audit/a log ü.json')).toMatchObject({ prefix: 'audit/a log ü.json/', single: 'audit/a log ü.json' });
  });

  it('reads the account, container and percent-decoded prefix from an https URL', () => {
    expect(parseAzureUrl('https://AcmeLogs.blob.core.windows.net/audit/ymd%3D2026-11-20/okera%20x/')).toEqual({
      account: 'acmelogs',
      container: 'audit',
      prefix: 'ymd=2026-11-20/okera x/',
      single: null,
      sas: null,
      displayUrl: 'https://acmelogs.blob.core.windows.net/audit/ymd%3D2026-11-20/okera%20x/',
    });
  });

  it('keeps the SAS of an https URL apart and out of the printable URL', () => {
    const loc = parseAzureUrl(`https://acme.blob.core.windows.net/logs/audit?${SAS}`);
    expect(loc.sas).toBe(SAS);
    expect(loc.displayUrl).toBe('https://acme.blob.core.windows.net/logs/audit');
    expect(loc).toMatchObject({ account: 'acme', container: 'logs', prefix: 'audit/', single: 'audit' });
  });

  it('gives the source a url without the SAS query string', () => {
    const source = new AzureSource(`https://acme.blob.core.windows.net/logs/audit/?${SAS}`, { env: {} });
    expect(source.url).toBe('https://acme.blob.core.windows.net/logs/audit/');
    expect(source.url).not.toContain('sig');
  });

  it('rejects bad URLs with usage errors that never repeat a SAS', () => {
    for (const url of [
      `https://acme.blob.core.windows.net/?${SAS}`,
      `https://acme.blob.core.windows.net/Bad_Container/x?${SAS}`,
      `https://acme.example.com/logs/x?${SAS}`,
      `http://acme.blob.core.windows.net/logs/x?${SAS}`,
      `az://logs/x?${SAS}`,
      'https://acme.blob.core.windows.net/logs/x?sv=2025-01-05&se=2030',
    ]) {
      const err = usageError(() => parseAzureUrl(url));
      expect(err.message).not.toContain(SIG);
      expect(err.message).not.toContain('sv=2025');
    }
    expect(usageError(() => parseAzureUrl('az://')).message).toMatch(/names no container/);
    expect(usageError(() => parseAzureUrl('az://a--b/x')).message).toMatch(/'a--b' .* not a valid container name/);
  });

  it('accepts the system containers such as $logs', () => {
    expect(parseAzureUrl('az://$logs/blob/2026/11/20/').container).toBe('$logs');
  });

  it('is claimed by the registry for both URL forms only', () => {
    expect(azureSourceFactory.accepts('az://logs/x')).toBe(true);
    expect(azureSourceFactory.accepts('https://acme.blob.core.windows.net/logs/x')).toBe(true);
    expect(azureSourceFactory.accepts('https://example.com/logs/x')).toBe(false);
  });
});

describe('Azure credential choice', () => {
  const az = parseAzureUrl('az://logs/audit/');
  const https = parseAzureUrl('https://acme.blob.core.windows.net/logs/audit/');
  const all = { AZURE_STORAGE_CONNECTION_STRING: CS, AZURE_STORAGE_ACCOUNT: 'acme', AZURE_STORAGE_KEY: KEY, AZURE_STORAGE_SAS_TOKEN: `?${SAS}` };

  it('prefers the SAS in the URL, then the connection string, the account key, the SAS token, then DefaultAzureCredential', () => {
    expect(resolveAzureAuth(parseAzureUrl(`https://acme.blob.core.windows.net/logs/?${SAS}`), all)).toMatchObject({ kind: 'url-sas', describe: 'the SAS token in the URL' });
    expect(resolveAzureAuth(https, all)).toMatchObject({ kind: 'connection-string', account: 'acme', describe: 'the connection string from AZURE_STORAGE_CONNECTION_STRING' });
    const { AZURE_STORAGE_CONNECTION_STRING: _cs, ...keyAndSas } = all;
    expect(resolveAzureAuth(az, keyAndSas)).toMatchObject({ kind: 'account-key', account: 'acme', key: KEY });
    const { AZURE_STORAGE_KEY: _key, ...sasOnly } = keyAndSas;
    expect(resolveAzureAuth(az, sasOnly)).toMatchObject({ kind: 'env-sas', account: 'acme', sas: SAS });
    expect(resolveAzureAuth(az, { AZURE_STORAGE_ACCOUNT: 'acme' })).toMatchObject({ kind: 'default', account: 'acme' });
    expect(resolveAzureAuth(https, {})).toMatchObject({ kind: 'default', account: 'acme' });
  });

  it('names each credential without its secret', () => {
    const { AZURE_STORAGE_CONNECTION_STRING: _cs, ...keyAndSas } = all;
    const { AZURE_STORAGE_KEY: _key, ...sasOnly } = keyAndSas;
    for (const env of [all, keyAndSas, sasOnly, {}]) {
      const d = resolveAzureAuth(https, env).describe;
      expect(d).not.toContain(KEY);
      expect(d).not.toContain(SIG);
    }
    expect(resolveAzureAuth(az, keyAndSas).describe).toMatch(/AZURE_STORAGE_KEY .*AZURE_STORAGE_ACCOUNT/);
    expect(resolveAzureAuth(az, sasOnly).describe).toMatch(/AZURE_STORAGE_SAS_TOKEN/);
  });

  it('does not use credentials of another account for an https URL, and says so', () => {
    const other = { AZURE_STORAGE_CONNECTION_STRING: CS.replace('acme', 'other'), AZURE_STORAGE_ACCOUNT: 'other', AZURE_STORAGE_KEY: KEY };
    const auth = resolveAzureAuth(https, other);
    expect(auth.kind).toBe('default');
    expect(auth.describe).toMatch(/DefaultAzureCredential.*AZURE_STORAGE_CONNECTION_STRING is for account 'other'.*AZURE_STORAGE_ACCOUNT is 'other'/);
  });

  it('fails an az:// URL with no account in the environment, saying which variables to set', () => {
    const err = usageError(() => new AzureSource('az://logs/audit/', { env: {} }));
    expect(err.message).toMatch(/az:\/\/logs\/audit\/ names no storage account: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT/);
    expect(err.message).toMatch(/AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN/);
  });

  it('reports a malformed connection string as a usage error without repeating it', () => {
    const bad = `DefaultEndpointsProtocol=ftp;AccountName=acme;AccountKey=${KEY}`;
    const err = usageError(() => new AzureSource('az://logs/', { env: { AZURE_STORAGE_CONNECTION_STRING: bad } }));
    expect(err.message).toMatch(/AZURE_STORAGE_CONNECTION_STRING is not a usable connection string/);
    expect(err.message).not.toContain(KEY);
  });

  it('tells the account of a connection string from AccountName or the blob endpoint', () => {
    expect(connectionStringAccount(CS)).toBe('acme');
    expect(connectionStringAccount(`BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=${SAS}`)).toBe('acme');
    expect(connectionStringAccount(`BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;SharedAccessSignature=${SAS}`)).toBe('devstoreaccount1');
    expect(connectionStringAccount('UseDevelopmentStorage=true')).toBeNull();
  });

  it('redacts SAS signatures, account keys and given secrets from text', () => {
    const text = `GET https://acme.blob.core.windows.net/logs?${SAS} with ${CS} and SharedAccessSignature=${SAS};`;
    const out = redactAzureSecrets(text, [KEY]);
    expect(out).not.toContain(SIG);
    expect(out).not.toContain(KEY);
    expect(out).toContain('sig=[redacted]');
    expect(out).toContain('AccountKey=[redacted]');
  });
});
