import { AuditReplayError } from '../../../core/errors.js';

/** Where an Azure source points, parsed from its URL (no SDK needed). */
export interface AzureLocation {
  /** Storage account named by the URL (https form); null for `az://`, whose account comes from the environment. */
  account: string | null;
  container: string;
  /** Blob-name prefix of the source root: '' or ending in '/'. */
  prefix: string;
  /** The blob the URL may name itself (path given without a trailing '/'), tried when nothing lies under `prefix`. */
  single: string | null;
  /** SAS query string of the URL, without '?': a secret, never printed. */
  sas: string | null;
  /** The URL without its query string: safe to print. */
  displayUrl: string;
}

const HTTPS_HOST = /^([a-z0-9]{3,24})\.blob\.core\.windows\.net$/i;
// Azure's container rules, plus the system containers ($logs holds Storage Analytics logs).
const CONTAINER = /^(?:[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}|\$root|\$logs|\$web)$/;

/**
 * Parses `az://container/prefix` or `https://<account>.blob.core.windows.net/<container>/<prefix>[?SAS]`.
 * A path without a trailing '/' is a folder, or a single blob when nothing lies under it.
 * Errors never repeat the query string (it may hold a SAS signature).
 */
export function parseAzureUrl(url: string): AzureLocation {
  if (url.startsWith('az://')) {
    const rest = url.slice('az://'.length);
    const q = rest.search(/[?#]/);
    if (q >= 0) {
      throw new AuditReplayError(
        'usage',
        `az:// URLs take no query string (${url.slice(0, 'az://'.length + q)}?…); put a SAS in AZURE_STORAGE_SAS_TOKEN or use https://<account>.blob.core.windows.net/<container>/<prefix>?<SAS>`,
      );
    }
    const slash = rest.indexOf('/');
    const container = slash < 0 ? rest : rest.slice(0, slash);
    return { account: null, container: checkContainer(container, url), ...splitPath(slash < 0 ? '' : rest.slice(slash + 1)), sas: null, displayUrl: url };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AuditReplayError('usage', `not a valid Azure blob URL: ${stripQuery(url)}`);
  }
  const displayUrl = `${parsed.origin}${parsed.pathname}`;
  const host = HTTPS_HOST.exec(parsed.hostname);
  if (parsed.protocol !== 'https:' || !host) {
    throw new AuditReplayError('usage', `not an Azure blob URL: ${displayUrl}; expected https://<account>.blob.core.windows.net/<container>/<prefix> or az://<container>/<prefix>`);
  }
  let segments: string[];
  try {
    segments = parsed.pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
  } catch {
    throw new AuditReplayError('usage', `the path of ${displayUrl} is not valid percent-encoding`);
  }
  const [container = '', ...path] = segments;
  let sas: string | null = null;
  if (parsed.search.length > 1) {
    if (!parsed.searchParams.has('sig')) {
      throw new AuditReplayError('usage', `the query string of ${displayUrl} is not a SAS token (it has no sig=); remove it or pass a full SAS`);
    }
    sas = parsed.search.slice(1);
  }
  return { account: host[1]!.toLowerCase(), container: checkContainer(container, displayUrl), ...splitPath(path.join('/')), sas, displayUrl };
}

function checkContainer(container: string, shown: string): string {
  if (!CONTAINER.test(container)) {
    throw new AuditReplayError(
      'usage',
      container === ''
        ? `${shown} names no container; expected az://<container>/<prefix> or https://<account>.blob.core.windows.net/<container>/<prefix>`
        : `'${container}' in ${shown} is not a valid container name (3-63 lowercase letters, digits and single hyphens)`,
    );
  }
  return container;
}

function splitPath(path: string): { prefix: string; single: string | null } {
  const p = path.replace(/^\/+/, '');
  if (p === '') return { prefix: '', single: null };
  return p.endsWith('/') ? { prefix: p, single: null } : { prefix: `${p}/`, single: p };
}

function stripQuery(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}

/** The credential a source uses, picked by `resolveAzureAuth`; `describe` names it for messages, without the secret. */
export type AzureAuth = { account: string | null; describe: string } & (
  | { kind: 'url-sas'; sas: string }
  | { kind: 'connection-string'; connectionString: string }
  | { kind: 'account-key'; key: string }
  | { kind: 'env-sas'; sas: string }
  | { kind: 'default' }
);

/** Describes DefaultAzureCredential's chain, for messages. */
export const DEFAULT_CREDENTIAL = 'DefaultAzureCredential (AZURE_CLIENT_ID/AZURE_TENANT_ID/… environment variables, workload or managed identity, or an Azure CLI / azd / PowerShell sign-in)';

/**
 * Picks the credential, first match wins: a SAS in the https URL;
 * AZURE_STORAGE_CONNECTION_STRING; AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY;
 * AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_SAS_TOKEN; else DefaultAzureCredential. For an
 * https URL the environment's credentials are used only when they are for the URL's
 * account. An `az://` URL without any account in the environment is a usage error.
 */
export function resolveAzureAuth(loc: AzureLocation, env: NodeJS.ProcessEnv = process.env): AzureAuth {
  if (loc.sas !== null) return { kind: 'url-sas', sas: loc.sas, account: loc.account, describe: 'the SAS token in the URL' };
  const skipped: string[] = [];
  const connectionString = nonEmpty(env.AZURE_STORAGE_CONNECTION_STRING);
  if (connectionString !== null) {
    const account = connectionStringAccount(connectionString);
    if (loc.account === null || account === loc.account) {
      return { kind: 'connection-string', connectionString, account, describe: 'the connection string from AZURE_STORAGE_CONNECTION_STRING' };
    }
    skipped.push(`AZURE_STORAGE_CONNECTION_STRING is for ${account === null ? 'an unknown account' : `account '${account}'`}`);
  }
  const envAccount = nonEmpty(env.AZURE_STORAGE_ACCOUNT)?.toLowerCase() ?? null;
  const key = nonEmpty(env.AZURE_STORAGE_KEY);
  const sas = nonEmpty(env.AZURE_STORAGE_SAS_TOKEN)?.replace(/^\?/, '') ?? null;
  if (envAccount !== null && loc.account !== null && envAccount !== loc.account) {
    if (key !== null || sas !== null) skipped.push(`AZURE_STORAGE_ACCOUNT is '${envAccount}'`);
  } else if (envAccount !== null) {
    if (key !== null) return { kind: 'account-key', key, account: envAccount, describe: `the account key from AZURE_STORAGE_KEY (account '${envAccount}' from AZURE_STORAGE_ACCOUNT)` };
    if (sas !== null) return { kind: 'env-sas', sas, account: envAccount, describe: `the SAS token from AZURE_STORAGE_SAS_TOKEN (account '${envAccount}' from AZURE_STORAGE_ACCOUNT)` };
  }
  const account = loc.account ?? envAccount;
  if (account === null) {
    throw new AuditReplayError(
      'usage',
      `${loc.displayUrl} names no storage account: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT ` +
        `(with AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, or a DefaultAzureCredential sign-in such as 'az login'), ` +
        `or use https://<account>.blob.core.windows.net/${loc.container}/${loc.prefix}`,
    );
  }
  return { kind: 'default', account, describe: skipped.length ? `${DEFAULT_CREDENTIAL}; not used: ${skipped.join(', ')}` : DEFAULT_CREDENTIAL };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value.trim();
}

/** The account a connection string is for: AccountName=, else the BlobEndpoint's host or (emulator style) first path segment. */
export function connectionStringAccount(connectionString: string): string | null {
  const field = (name: string): string | null => {
    const m = new RegExp(`(?:^|;)\\s*${name}\\s*=([^;]*)`, 'i').exec(connectionString);
    return m ? m[1]!.trim() : null;
  };
  const name = field('AccountName');
  if (name) return name.toLowerCase();
  const endpoint = field('BlobEndpoint');
  if (!endpoint) return null;
  try {
    const u = new URL(endpoint);
    const host = /^([a-z0-9]+)\.blob\./i.exec(u.hostname);
    if (host) return host[1]!.toLowerCase();
    return u.pathname.split('/')[1]?.toLowerCase() || null;
  } catch {
    return null;
  }
}

/**
 * Removes Azure secrets from text meant for people: the given secret strings, SAS
 * signatures (`sig=`), and AccountKey / SharedAccessSignature fields of connection strings.
 */
export function redactAzureSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[redacted]');
  return out
    .replace(/([?&]sig=)[^&\s"'<>]+/gi, '$1[redacted]')
    .replace(/(AccountKey\s*=)[^;\s"'<>]+/gi, '$1[redacted]')
    .replace(/(SharedAccessSignature\s*=)[^;\s"'<>]+/gi, '$1[redacted]');
}
